"""The track as files others can open: GPX 1.1 (OpenCPN, GPS tools) and GeoJSON (GIS tools).

A new track segment starts wherever the log has a gap (the first fix of a
daemon run, or the first after the receiver lost its fix), so no tool draws a
straight line across a stretch nobody saw. Files are written whole or not at
all: a temporary file beside the target, flushed to disk, then renamed over it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from vessel import campaign
from vessel.ship import Ship
from vessel.track import TrackPoint, points

GPX_NS = "http://www.topografix.com/GPX/1/1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
GPX_SCHEMA = f"{GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd"
CREATOR = "PIAS Vessel"

# Our fix modes in GPX's vocabulary (fixType: none, 2d, 3d, dgps, pps); others are left out.
_GPX_FIX = {"2d": "2d", "3d": "3d", "dgps": "dgps", "rtk_float": "dgps", "rtk_fixed": "dgps"}


def segments(pts: list[TrackPoint]) -> list[list[TrackPoint]]:
    """Points cut into segments at each gap."""
    out: list[list[TrackPoint]] = []
    for p in pts:
        if not out or p.starts_segment:
            out.append([])
        out[-1].append(p)
    return out


def stop_range(ship: Ship, stop: campaign.Stop) -> tuple[datetime | None, datetime | None]:
    """A stop's part of the voyage, in host time: from leaving the previous stop to leaving this one."""
    before = [s for s in campaign.stops(ship) if s.seq < stop.seq and s.departed_at is not None]
    start = before[-1].departed_at if before else None
    return start, stop.departed_at


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def gpx_tree(ship: Ship, pts: list[TrackPoint], stops: list[campaign.Stop], name: str) -> ET.ElementTree:
    ET.register_namespace("", GPX_NS)
    ET.register_namespace("xsi", XSI_NS)
    q = f"{{{GPX_NS}}}"
    root = ET.Element(
        f"{q}gpx", {"version": "1.1", "creator": CREATOR, f"{{{XSI_NS}}}schemaLocation": GPX_SCHEMA}
    )
    meta = ET.SubElement(root, f"{q}metadata")
    ET.SubElement(meta, f"{q}name").text = name
    ET.SubElement(meta, f"{q}time").text = _time(ship.now())
    for s in stops:
        wpt = ET.SubElement(root, f"{q}wpt", {"lat": f"{s.lat:.7f}", "lon": f"{s.lon:.7f}"})
        ET.SubElement(wpt, f"{q}name").text = s.community
        ET.SubElement(wpt, f"{q}sym").text = "Anchor"
    trk = ET.SubElement(root, f"{q}trk")
    ET.SubElement(trk, f"{q}name").text = name
    for seg in segments(pts):
        trkseg = ET.SubElement(trk, f"{q}trkseg")
        for p in seg:
            pt = ET.SubElement(trkseg, f"{q}trkpt", {"lat": f"{p.lat:.7f}", "lon": f"{p.lon:.7f}"})
            # Child order is fixed by the GPX 1.1 schema: time, ..., fix, sat, hdop.
            ET.SubElement(pt, f"{q}time").text = _time(p.time)
            if p.mode in _GPX_FIX:
                ET.SubElement(pt, f"{q}fix").text = _GPX_FIX[p.mode]
            if p.sats is not None:
                ET.SubElement(pt, f"{q}sat").text = str(p.sats)
            if p.hdop is not None:
                ET.SubElement(pt, f"{q}hdop").text = f"{p.hdop:.2f}"
    ET.indent(root, space=" ")
    return ET.ElementTree(root)


def geojson_doc(ship: Ship, pts: list[TrackPoint], stops: list[campaign.Stop], name: str) -> dict:
    """RFC 7946: [lon, lat] order; times per point in coordinateProperties, as GIS converters do."""
    segs = segments(pts)
    lines = []
    times = []
    for seg in segs:
        coords = [[round(p.lon, 7), round(p.lat, 7)] for p in seg]
        stamps = [_time(p.time) for p in seg]
        if len(coords) == 1:  # a line needs two positions: a lone fix stays where it is
            coords.append(coords[0])
            stamps.append(stamps[0])
        lines.append(coords)
        times.append(stamps)
    features: list[dict] = []
    if lines:
        features.append({
            "type": "Feature",
            "geometry": {"type": "MultiLineString", "coordinates": lines},
            "properties": {
                "name": name,
                "ship": ship.config.ship_name,
                "campaign": ship.config.campaign_code,
                "start": _time(pts[0].time),
                "end": _time(pts[-1].time),
                "points": len(pts),
                "coordinateProperties": {"times": times},
            },
        })
    for s in stops:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(s.lon, 7), round(s.lat, 7)]},
            "properties": {"name": s.community, "seq": s.seq, "kind": "stop"},
        })
    return {"type": "FeatureCollection", "features": features}


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file whole or not at all: temp file in the same folder, fsync, rename, fsync the folder."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_gpx(path: Path, ship: Ship, pts: list[TrackPoint], stops: list[campaign.Stop], name: str) -> None:
    tree = gpx_tree(ship, pts, stops, name)
    write_atomic(path, lambda fh: tree.write(fh, encoding="UTF-8", xml_declaration=True))


def write_geojson(path: Path, ship: Ship, pts: list[TrackPoint], stops: list[campaign.Stop], name: str) -> None:
    doc = geojson_doc(ship, pts, stops, name)
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    write_atomic(path, lambda fh: fh.write(data))


def select(
    ship: Ship,
    since: datetime | None = None,
    until: datetime | None = None,
    stop: campaign.Stop | None = None,
) -> tuple[list[TrackPoint], list[campaign.Stop]]:
    """The points and the stops to show for a time range (receiver time) or for one stop."""
    if stop is not None:
        start, end = stop_range(ship, stop)
        return points(ship, start, end, by_host_time=True), [stop]
    pts = points(ship, since, until)
    return pts, campaign.stops(ship)
