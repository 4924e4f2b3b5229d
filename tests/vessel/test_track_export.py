"""GPX 1.1 and GeoJSON export: well-formed, split at gaps, written whole or not at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devices.fix import Fix, Mode
from devices.geo import destination
from vessel import campaign, track, track_export
from vessel.clock import FixedClock
from vessel.operators import SYSTEM
from vessel.ship import Ship

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MAZAN = (-3.4963, -73.0906)
NS = {"g": "http://www.topografix.com/GPX/1/1"}
# GPX 1.1 wptType: the order its children must come in.
WPT_ORDER = ["ele", "time", "magvar", "geoidheight", "name", "cmt", "desc", "src", "link", "sym", "type", "fix",
             "sat", "hdop", "vdop", "pdop", "ageofdgpsdata", "dgpsid", "extensions"]


def store(ship: Ship, seconds: float, distance: float, reason: str, mode: Mode = Mode.FIX_3D,
          sats: int | None = 9, hdop: float | None = 0.9) -> None:
    t = T0 + timedelta(seconds=seconds)
    lat, lon = destination(*MAZAN, 330, distance)
    track.store_point(ship, Fix(t, t, lat, lon, 8.0, 330.0, mode, sats, hdop), reason)


@pytest.fixture
def logged(ship: Ship) -> Ship:
    """Two segments: four points, a gap, three more (the last without satellites or HDOP)."""
    store(ship, 0, 0, track.FIRST)
    for i in (1, 2, 3):
        store(ship, i * 10, i * 45, track.DISTANCE)
    store(ship, 600, 2000, track.AFTER_GAP, Mode.DGPS)
    store(ship, 610, 2045, track.DISTANCE, Mode.DEAD_RECKONING)
    store(ship, 620, 2090, track.DISTANCE, Mode.FIX_2D, sats=None, hdop=None)
    return ship


def test_segments_start_at_each_gap(logged: Ship) -> None:
    segs = track_export.segments(track.points(logged))
    assert [len(s) for s in segs] == [4, 3]
    assert track_export.segments([]) == []


def test_gpx_is_gpx_1_1_with_one_segment_per_stretch(logged: Ship, tmp_path: Path) -> None:
    out = tmp_path / "track.gpx"
    pts, stops = track_export.select(logged)
    track_export.write_gpx(out, logged, pts, stops, "PIAS Río Napo – prueba")
    assert out.read_bytes().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.topografix.com/GPX/1/1}gpx"
    assert root.get("version") == "1.1" and root.get("creator")
    children = [c.tag.split("}")[1] for c in root]
    assert children == ["metadata"] + ["wpt"] * 8 + ["trk"]  # the schema's order
    assert root.find("g:metadata/g:name", NS).text == "PIAS Río Napo – prueba"
    assert root.find("g:wpt/g:name", NS).text == "Mazán"
    segs = root.findall("g:trk/g:trkseg", NS)
    assert [len(s) for s in segs] == [4, 3]
    first = segs[0][0]
    assert (float(first.get("lat")), float(first.get("lon"))) == pytest.approx(MAZAN)
    assert first.find("g:time", NS).text == "2026-11-02T12:00:00.000Z"
    kinds = [[c.tag.split("}")[1] for c in pt] for seg in segs for pt in seg]
    for tags in kinds:
        assert tags == sorted(tags, key=WPT_ORDER.index)
    fixes = [pt.findtext("g:fix", None, NS) for seg in segs for pt in seg]
    assert fixes == ["3d", "3d", "3d", "3d", "dgps", None, "2d"]  # dead reckoning has no GPX word
    last = segs[1][2]
    assert last.find("g:sat", NS) is None and last.find("g:hdop", NS) is None


def test_geojson_is_rfc_7946(logged: Ship, tmp_path: Path) -> None:
    out = tmp_path / "track.geojson"
    pts, stops = track_export.select(logged)
    track_export.write_geojson(out, logged, pts, stops, "prueba")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    line = doc["features"][0]
    assert line["geometry"]["type"] == "MultiLineString"
    coords = line["geometry"]["coordinates"]
    assert [len(c) for c in coords] == [4, 3]
    assert coords[0][0] == pytest.approx([MAZAN[1], MAZAN[0]])  # longitude first
    times = line["properties"]["coordinateProperties"]["times"]
    assert [len(t) for t in times] == [4, 3] and times[0][0] == "2026-11-02T12:00:00.000Z"
    assert line["properties"]["points"] == 7
    stops_out = [f for f in doc["features"] if f["geometry"]["type"] == "Point"]
    assert [f["properties"]["name"] for f in stops_out][:2] == ["Mazán", "Negro Urco"]


def test_geojson_lone_point_segment_is_still_a_line(ship: Ship, tmp_path: Path) -> None:
    store(ship, 0, 0, track.FIRST)
    store(ship, 60, 100, track.AFTER_GAP)
    store(ship, 70, 145, track.DISTANCE)
    pts, stops = track_export.select(ship)
    doc = track_export.geojson_doc(ship, pts, stops, "x")
    coords = doc["features"][0]["geometry"]["coordinates"]
    assert len(coords[0]) == 2 and coords[0][0] == coords[0][1]


def test_time_range(logged: Ship) -> None:
    pts, _ = track_export.select(logged, T0 + timedelta(seconds=15), T0 + timedelta(seconds=605))
    assert len(pts) == 3
    assert track_export.segments(pts)[0][0].reason == track.DISTANCE  # cut mid-stretch: still one segment start


def test_a_stop_exports_the_leg_to_it_and_the_stay(ship: Ship, clock: FixedClock) -> None:
    def point(reason: str) -> None:
        t = clock()
        track.store_point(ship, Fix(t, t, *MAZAN, 0.0, None, Mode.FIX_3D, 9, 0.9), reason)

    point(track.FIRST)  # before Mazán
    clock.advance(minutes=10)
    campaign.arrive(ship, SYSTEM, campaign.find(ship, "Mazán").id, by="gps")
    clock.advance(minutes=10)
    point(track.TIME)  # at Mazán
    clock.advance(minutes=10)
    campaign.depart(ship, SYSTEM, by="gps")
    clock.advance(minutes=10)
    point(track.DISTANCE)  # on the way to Negro Urco
    clock.advance(minutes=10)
    negro = campaign.arrive(ship, SYSTEM, campaign.find(ship, "Negro Urco").id, by="gps")
    clock.advance(minutes=10)
    point(track.TIME)  # at Negro Urco, still there

    pts, stops = track_export.select(ship, stop=campaign.find(ship, "Mazán"))
    assert len(pts) == 2 and [s.community for s in stops] == ["Mazán"]
    pts, _ = track_export.select(ship, stop=negro)
    assert len(pts) == 2


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "track.gpx"
    out.write_text("old", encoding="utf-8")

    def half_then_fail(fh) -> None:
        fh.write(b"<gpx>")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        track_export.write_atomic(out, half_then_fail)
    assert out.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["track.gpx"]


@pytest.mark.slow
def test_a_killed_writer_never_leaves_half_a_file(tmp_path: Path) -> None:
    out = tmp_path / "track.gpx"
    out.write_text("<gpx>old, complete</gpx>", encoding="utf-8")
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from vessel.track_export import write_atomic

        def slow(fh):
            fh.write(b"<gpx>" + b"x" * 100000)
            fh.flush()
            print("half", flush=True)
            time.sleep(60)
            fh.write(b"</gpx>")

        write_atomic(Path({str(out)!r}), slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"half\n"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert out.read_text(encoding="utf-8") == "<gpx>old, complete</gpx>"
