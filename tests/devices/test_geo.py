"""Distances and bearings against known values, and their round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.geo import (
    angle_diff_deg,
    bearing_deg,
    destination,
    distance_to_segment_m,
    haversine_m,
    polyline_length_m,
)


def test_one_minute_of_latitude_is_one_nautical_mile() -> None:
    assert haversine_m(-3.0, -73.0, -3.0 + 1 / 60, -73.0) == pytest.approx(1853.2, abs=1.0)


def test_known_distance_mazan_to_cabo_pantoja() -> None:
    # About 350 km as the crow flies, up the Napo towards Ecuador.
    assert haversine_m(-3.4963, -73.0906, -0.9640, -75.1850) == pytest.approx(364_000, rel=0.01)


@pytest.mark.parametrize(
    "to, bearing", [((1.0, 0.0), 0.0), ((0.0, 1.0), 90.0), ((-1.0, 0.0), 180.0), ((0.0, -1.0), 270.0)]
)
def test_bearings_at_the_equator(to: tuple[float, float], bearing: float) -> None:
    assert bearing_deg(0.0, 0.0, *to) == pytest.approx(bearing)


def test_angle_difference_wraps() -> None:
    assert angle_diff_deg(350, 10) == 20
    assert angle_diff_deg(10, 350) == 20
    assert angle_diff_deg(0, 180) == 180


def test_distance_to_segment() -> None:
    a, b = (-3.0, -73.0), (-3.0, -72.99)
    mid = destination(-3.0, -72.995, 0.0, 25.0)
    assert distance_to_segment_m(*mid, *a, *b) == pytest.approx(25.0, abs=0.1)
    beyond = (-3.0, -72.98)
    assert distance_to_segment_m(*beyond, *a, *b) == pytest.approx(haversine_m(*beyond, *b), rel=1e-3)
    assert distance_to_segment_m(*a, *a, *a) == 0.0


def test_polyline_length() -> None:
    pts = [(-3.0, -73.0), (-3.0, -72.99), (-2.99, -72.99)]
    assert polyline_length_m(pts) == pytest.approx(haversine_m(*pts[0], *pts[1]) + haversine_m(*pts[1], *pts[2]))


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-80, 80), st.floats(-179, 179), st.floats(0, 359.99), st.floats(1, 200_000),
)
def test_destination_round_trip(lat: float, lon: float, bearing: float, distance: float) -> None:
    lat2, lon2 = destination(lat, lon, bearing, distance)
    assert haversine_m(lat, lon, lat2, lon2) == pytest.approx(distance, rel=1e-6, abs=1e-3)
    if distance > 10:
        assert angle_diff_deg(bearing_deg(lat, lon, lat2, lon2), bearing) < 0.01
