"""The campaign's route: the planned stops joined by the river's bends.

A river ship does not sail straight from one community to the next, so both
the simulator (for the demo) and the distance-to-next-stop figure follow a
route that bends. The bends here are illustrative meanders laid between the
stops in a fixed pattern (the same route every run), not a survey of the
river: the ship's chart remains the reference for navigation.
"""

from __future__ import annotations

import math

from devices.geo import bearing_deg, destination, distance_to_segment_m, haversine_m
from devices.simulator import Waypoint
from vessel.config import ShipConfig

BEND_SPACING_M = 5_000.0  # about one bend every 5 km of straight-line distance
BEND_AMPLITUDE_M = 1_200.0  # how far a bend swings off the straight line
LEAD_IN_M = 3_000.0  # the demo ship starts this far before the first stop
# Away from the route by more than this, the distance to a stop is measured straight.
ON_ROUTE_M = 5_000.0


def bends_between(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """Meander points between two stops, alternating sides of the straight line."""
    dist = haversine_m(*a, *b)
    count = int(dist // BEND_SPACING_M)
    if count < 1:
        return []
    course = bearing_deg(*a, *b)
    out = []
    for i in range(1, count + 1):
        along = dist * i / (count + 1)
        lat, lon = destination(*a, course, along)
        # Swing sizes vary in a fixed pattern between 50% and 100% of the amplitude.
        swing = BEND_AMPLITUDE_M * (0.5 + 0.5 * ((i * 7919) % 11) / 10)
        # Bends fade out near the stops so the ship comes in along the river.
        swing *= min(1.0, min(along, dist - along) / BEND_SPACING_M)
        side = 90.0 if i % 2 else -90.0
        out.append(destination(lat, lon, (course + side) % 360, swing))
    return out


def route(config: ShipConfig, dwell_s: float = 0.0, lead_in: bool = False) -> list[Waypoint]:
    """Waypoints from the first stop to the last, through the bends; stops carry `dwell_s`."""
    stops = config.stops
    points: list[Waypoint] = []
    if not stops:
        return points
    first = (stops[0].lat, stops[0].lon)
    if lead_in:
        if len(stops) > 1:
            back = (bearing_deg(*first, stops[1].lat, stops[1].lon) + 180.0) % 360
        else:
            back = 180.0
        lat, lon = destination(*first, back, LEAD_IN_M)
        points.append(Waypoint(lat, lon))
    for i, stop in enumerate(stops):
        here = (stop.lat, stop.lon)
        if i > 0:
            prev = (stops[i - 1].lat, stops[i - 1].lon)
            points.extend(Waypoint(lat, lon) for lat, lon in bends_between(prev, here))
        points.append(Waypoint(stop.lat, stop.lon, dwell_s, stop.community))
    return points


def remaining_m(points: list[Waypoint], lat: float, lon: float, target: int) -> float:
    """Distance along the route from (lat, lon) to waypoint index `target`.

    The ship is placed on the nearest route segment before the target; when it
    is far from every such segment the straight-line distance is returned.
    """
    goal = points[target]
    if target == 0:
        return haversine_m(lat, lon, goal.lat, goal.lon)
    best, best_i = math.inf, 0
    for i in range(target):
        a, b = points[i], points[i + 1]
        d = distance_to_segment_m(lat, lon, a.lat, a.lon, b.lat, b.lon)
        if d < best:
            best, best_i = d, i
    if best > ON_ROUTE_M:
        return haversine_m(lat, lon, goal.lat, goal.lon)
    total = haversine_m(lat, lon, points[best_i + 1].lat, points[best_i + 1].lon)
    for i in range(best_i + 1, target):
        total += haversine_m(points[i].lat, points[i].lon, points[i + 1].lat, points[i + 1].lon)
    return total


def stop_index(points: list[Waypoint], community: str) -> int | None:
    for i, p in enumerate(points):
        if p.dwell_s >= 0 and p.name == community:
            return i
    return None
