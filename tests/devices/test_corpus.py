"""Thirty real receiver captures, replayed through a pseudo-terminal into the real reader.

gpsd's expected output for each capture is the oracle: the lines it accepted
must be exactly the lines whose checksum we accept, and the positions we log
must agree with its reports within a few metres. Receivers in demo mode or
without a fix must log nothing at all.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from devices.geo import haversine_m
from devices.nmea import (
    BYTES,
    DECODED,
    EPOCHS,
    FIXES,
    IGNORED,
    LINE_REJECTS,
    LINES,
    Framer,
    Reject,
    new_counts,
    verify,
)
from devices.simulator import PtySink, log_lines, run_replay

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "nmea"
LOGS = sorted(CAPTURES.glob("*.log"))
# Old captures (2000 to 2022) are judged with a date floor they can meet.
OLD_ENOUGH = date(2000, 1, 1)
AGREE_M = 5.0

# Captures in which we refuse, on purpose, fixes that gpsd reports:
DISAGREE = {
    # gpsd reports the 1999 date the receiver gives after the April 2019 week rollover; we refuse it.
    "april6_2019.log": "week-rollover date refused",
    # A cold start: the first fixes (3 satellites) sit 70 m off, and the next ones imply 137 knots.
    "sl869.log": "jump filter after a cold start",
}
# No position may be logged from these.
NOTHING = {
    "GPSmap-76S.log": Reject.SIMULATED,  # Garmin in simulator mode: GGA quality 8, FAA mode S
    "holux-gm-210.log": Reject.VOID,  # no fix from start to end
    "skytraq-err.log": Reject.NO_CHECKSUM,  # loader error messages only
}


def gpsd_lines(log: Path) -> list[bytes]:
    lines = log.with_suffix(".log.chk").read_bytes().split(b"\n")
    return [ln.rstrip(b"\r\n") for ln in lines if ln[:1] in (b"$", b"!")]


def gpsd_fixes(log: Path) -> dict[str, list[tuple[float, float]]]:
    """gpsd's TPV reports with a time and a 2D/3D position, by time (to the millisecond)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for line in log.with_suffix(".log.chk").read_bytes().split(b"\n"):
        if not line.startswith(b'{"class":"TPV"'):
            continue
        tpv = json.loads(line)
        if tpv.get("mode", 0) >= 2 and "time" in tpv and "lat" in tpv:
            out.setdefault(tpv["time"][:23], []).append((tpv["lat"], tpv["lon"]))
    return out


def data_of(log: Path) -> bytes:
    return b"".join(log_lines(log))


def run_together(log: Path) -> list[bytes]:
    """Complete, checksum-valid sentences followed by another on the same line, without a line end.

    gpsd drops them with the sentence that cut in; we keep them, since the
    checksum vouches for every byte (gp-320fw's cold boot has a few).
    """
    out = []
    for line in data_of(log).replace(b"\r", b"\n").split(b"\n"):
        starts = [i for i, b in enumerate(line) if b in b"$!"]
        for a, b in itertools.pairwise(starts):
            if type(verify(line[a:b])) is str:
                out.append(line[a:b])
    return out


# gpsd reassembles one sentence that another cut in two (isync.log: "$GPGSV...,0$PTNTA...*18"
# then "5,34,...*71" on the next line); we count the pieces as a truncated sentence and noise.
REASSEMBLED_BY_GPSD = {"isync.log": [b"$GPGSV,4,1,15,02,11,115,36,05,34,060,48,07,00,023,,13,56,090,49*71"]}


def expected_valid(log: Path) -> Counter[bytes]:
    """The lines whose checksum we accept: gpsd's, give or take the two known differences."""
    theirs = Counter(ln for ln in gpsd_lines(log) if not ln.startswith(b"$STI,"))  # gpsd exempts SkyTraq's $STI
    theirs.update(run_together(log))
    theirs.subtract(REASSEMBLED_BY_GPSD.get(log.name, []))
    return +theirs


@pytest.mark.parametrize("log", LOGS, ids=[p.name for p in LOGS])
def test_checksum_valid_lines_are_those_gpsd_accepted(log: Path) -> None:
    framer = Framer(new_counts())
    ours = [line for line in framer.feed(data_of(log) + b"\n") if type(verify(line)) is str]
    assert Counter(ours) == expected_valid(log)


def test_the_set_is_the_thirty_captures_with_their_licence() -> None:
    assert len(LOGS) == 30
    assert all(p.with_suffix(".log.chk").is_file() for p in LOGS)
    assert "BSD-2-Clause" in (CAPTURES / "COPYING.gpsd").read_text()
    assert all(p.read_bytes().startswith(b"#") for p in LOGS), "each capture keeps its header"


@pytest.mark.parametrize("log", LOGS, ids=[p.name for p in LOGS])
def test_capture_through_a_pseudo_terminal(log: Path, running_readers, until) -> None:
    data = data_of(log)
    sink = PtySink(write_timeout=10.0)
    try:
        reader = running_readers(sink.path, 38400, not_before=OLD_ENOUGH)
        # Opening a port discards what was waiting in it: send only once the reader is there.
        assert until(lambda: reader.reader.opens > 0)
        run_replay(log_lines(log), sink.write, threading.Event(), paced=False)
        assert until(lambda: reader.counts[BYTES] >= len(data), timeout=20)
        reader.close()
    finally:
        sink.close()
    counts = reader.counts
    fixes = reader.fixes
    assert counts[BYTES] == len(data)

    # Every candidate sentence (each '$' or '!' starts one) ends up used or refused for a named reason.
    starts = sum(line.count(b"$") + line.count(b"!") for line in log_lines(log))
    assert counts[LINES] == starts
    refused = sum(counts[r] for r in LINE_REJECTS if r is not Reject.NOISE)
    assert counts[DECODED] + counts[IGNORED] + refused == counts[LINES]
    valid = counts[DECODED] + counts[IGNORED] + counts[Reject.MALFORMED] + counts[Reject.SHORT]
    assert valid == expected_valid(log).total()
    # Every receiver second ends as a fix or under a named reason.
    fix_rejects = sum(counts[r] for r in Reject if r not in LINE_REJECTS)
    assert counts[EPOCHS] == counts[FIXES] + fix_rejects
    assert counts[FIXES] == len(fixes)

    for f in fixes:
        assert -90 <= f.lat <= 90 and -180 <= f.lon <= 180
        assert not (abs(f.lat) < 1e-3 and abs(f.lon) < 1e-3)
        assert f.time.year >= OLD_ENOUGH.year
    times = [f.time for f in fixes]
    assert times == sorted(times) and len(set(times)) == len(times), "fix times only move forward"

    if log.name in NOTHING:
        assert fixes == []
        assert counts[NOTHING[log.name]] > 0
        return

    theirs = gpsd_fixes(log)
    matched = 0
    for f in fixes:
        key = f.time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]
        if key in theirs:
            matched += 1
            off = min(haversine_m(f.lat, f.lon, lat, lon) for lat, lon in theirs[key])
            assert off <= AGREE_M, f"{key}: {off:.1f} m from gpsd"
    if log.name in DISAGREE:
        assert matched < len(theirs)
    else:
        assert matched >= 0.8 * len(theirs), f"only {matched} of gpsd's {len(theirs)} fixes"
        assert matched >= 1


def test_week_rollover_capture_is_refused_for_its_date(running_readers, until) -> None:
    """april6_2019: one void RMC, then two with the dates 2208-1 and 220899 (1999)."""
    log = CAPTURES / "april6_2019.log"
    sink = PtySink(write_timeout=10.0)
    try:
        reader = running_readers(sink.path, 38400, not_before=OLD_ENOUGH)
        # Opening a port discards what was waiting in it: send only once the reader is there.
        assert until(lambda: reader.reader.opens > 0)
        run_replay(log_lines(log), sink.write, threading.Event(), paced=False)
        assert until(lambda: reader.counts[BYTES] >= len(data_of(log)))
        reader.close()
    finally:
        sink.close()
    assert reader.fixes == []
    assert reader.counts[Reject.BAD_DATE] == 2
    assert reader.counts[Reject.VOID] == 1
