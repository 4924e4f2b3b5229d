"""A GPS receiver in software: NMEA along a route, or a recorded log played back.

It writes what a real receiver writes (RMC, GGA, GSA and VTG with correct
checksums, one burst per second of receiver time) into a pseudo-terminal, so
the reader under test, or a demo, goes through the real serial code path. The
route is a list of waypoints given by the caller; the ship waits at waypoints
that have a dwell time (planned stops), long enough to be seen arriving. Noise,
dropouts (seconds in which the receiver has no fix), bad checksums and a
fixed line speed (anything else on the port reads as garbage) can be added.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import random
import select
import termios
import threading
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from devices.geo import KNOT_MPS, bearing_deg, destination, haversine_m, interpolate
from devices.nmea import with_checksum


@dataclass(frozen=True)
class Waypoint:
    lat: float
    lon: float
    dwell_s: float = 0.0  # receiver seconds the ship waits here (a planned stop)
    name: str = ""


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    speed_kn: float
    course: float
    moving: bool


@dataclass(frozen=True)
class _Leg:
    start: float  # seconds since the start of the voyage
    end: float
    a: Waypoint
    b: Waypoint | None  # None: waiting at a
    course: float


class Voyage:
    """Where the ship is at any moment of a voyage along the waypoints.

    With `round_trip`, the ship turns back at the last waypoint and the voyage
    repeats for ever, the way a demo should run until it is stopped.
    """

    def __init__(self, waypoints: list[Waypoint], speed_kn: float = 9.0, round_trip: bool = False) -> None:
        if not waypoints:
            raise ValueError("a voyage needs at least one waypoint")
        if speed_kn <= 0:
            raise ValueError("speed must be positive")
        self.speed_kn = speed_kn
        points = list(waypoints)
        if round_trip and len(points) > 1:
            points = points + points[-2::-1]
        self.round_trip = round_trip
        self.legs: list[_Leg] = []
        t = 0.0
        course = bearing_deg(points[0].lat, points[0].lon, points[1].lat, points[1].lon) if len(points) > 1 else 0.0
        mps = speed_kn * KNOT_MPS
        for i, wp in enumerate(points):
            if wp.dwell_s > 0 and not (round_trip and i == len(points) - 1 and len(points) > 1):
                self.legs.append(_Leg(t, t + wp.dwell_s, wp, None, course))
                t += wp.dwell_s
            if i + 1 < len(points):
                nxt = points[i + 1]
                dist = haversine_m(wp.lat, wp.lon, nxt.lat, nxt.lon)
                if dist > 0:
                    course = bearing_deg(wp.lat, wp.lon, nxt.lat, nxt.lon)
                    self.legs.append(_Leg(t, t + dist / mps, wp, nxt, course))
                    t += dist / mps
        if not self.legs:
            self.legs.append(_Leg(0.0, 0.0, points[0], None, course))
        self.duration = t

    def at(self, t: float) -> Position | None:
        """The ship at t seconds into the voyage; None once a one-way voyage is over."""
        if self.round_trip and self.duration > 0:
            t = t % self.duration
        elif t > self.duration:
            return None
        lo, hi = 0, len(self.legs) - 1
        while lo < hi:  # the leg holding t
            mid = (lo + hi) // 2
            if self.legs[mid].end < t:
                lo = mid + 1
            else:
                hi = mid
        leg = self.legs[lo]
        if leg.b is None:
            return Position(leg.a.lat, leg.a.lon, 0.0, leg.course, False)
        span = leg.end - leg.start
        frac = 0.0 if span <= 0 else (t - leg.start) / span
        lat, lon = interpolate(leg.a.lat, leg.a.lon, leg.b.lat, leg.b.lon, min(1.0, max(0.0, frac)))
        return Position(lat, lon, self.speed_kn, leg.course, True)


def nmea_lat(lat: float) -> tuple[str, str]:
    minutes = round(abs(lat) * 60.0, 5)
    deg = int(minutes // 60)
    return f"{deg:02d}{minutes - deg * 60:08.5f}", "N" if lat >= 0 else "S"


def nmea_lon(lon: float) -> tuple[str, str]:
    minutes = round(abs(lon) * 60.0, 5)
    deg = int(minutes // 60)
    return f"{deg:03d}{minutes - deg * 60:08.5f}", "E" if lon >= 0 else "W"


def epoch_sentences(
    when: datetime, pos: Position | None, *, talker: str = "GP", sats: int = 9, hdop: float = 0.9
) -> list[str]:
    """The sentences a receiver sends for one second: a fix, or (pos None) no fix."""
    hms = when.strftime("%H%M%S") + f".{when.microsecond // 10000:02d}"
    dmy = when.strftime("%d%m%y")
    if pos is None:
        return [
            with_checksum(f"{talker}GGA,{hms},,,,,0,00,99.99,,M,,M,,"),
            with_checksum(f"{talker}GSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99"),
            with_checksum(f"{talker}RMC,{hms},V,,,,,,,{dmy},,,N"),
            with_checksum(f"{talker}VTG,,T,,M,,N,,K,N"),
        ]
    lat, ns = nmea_lat(pos.lat)
    lon, ew = nmea_lon(pos.lon)
    sog = f"{pos.speed_kn:.2f}"
    cog = f"{pos.course:.1f}"
    prns = ",".join(f"{p:02d}" for p in (2, 5, 6, 9, 12, 17, 19, 23, 25, 28, 30, 31)[:min(sats, 12)])
    prns += "," * (12 - min(sats, 12))
    return [
        with_checksum(f"{talker}GGA,{hms},{lat},{ns},{lon},{ew},1,{sats:02d},{hdop:.1f},92.0,M,-4.0,M,,"),
        with_checksum(f"{talker}GSA,A,3,{prns},{hdop * 1.6:.1f},{hdop:.1f},{hdop * 1.3:.1f}"),
        with_checksum(f"{talker}RMC,{hms},A,{lat},{ns},{lon},{ew},{sog},{cog},{dmy},,,A"),
        with_checksum(f"{talker}VTG,{cog},T,,M,{sog},N,{pos.speed_kn * 1.852:.2f},K,A"),
    ]


@dataclass
class SimOptions:
    rate_hz: float = 1.0  # bursts per second of wall time
    speedup: float = 1.0  # receiver seconds per wall second
    noise_m: float = 0.0  # standard deviation of the position error
    dropout: float = 0.0  # chance, per receiver second, that a spell without fix begins
    dropout_seconds: float = 20.0  # receiver seconds one spell lasts
    bad_checksums: float = 0.0  # share of sentences sent with a wrong checksum
    talker: str = "GP"
    seed: int | None = None


class RouteSimulator:
    """The bursts of a receiver sailing a Voyage, in receiver time."""

    def __init__(self, voyage: Voyage, options: SimOptions, start: datetime | None = None) -> None:
        if options.rate_hz <= 0 or options.speedup <= 0:
            raise ValueError("rate and speedup must be positive")
        self.voyage = voyage
        self.options = options
        self.start = (start or datetime.now(UTC)).replace(microsecond=0)
        self.rng = random.Random(options.seed)
        self.step = options.speedup / options.rate_hz  # receiver seconds between bursts
        self._north = 0.0
        self._east = 0.0
        self._dropout_until = -1.0

    def bursts(self) -> Iterator[tuple[float, bytes, Position | None]]:
        """(receiver seconds since start, bytes of the burst, true position) for ever or to the voyage's end."""
        n = 0
        while True:
            t = n * self.step
            pos = self.voyage.at(t)
            if pos is None:
                return
            yield t, self.burst(t, pos), pos
            n += 1

    def burst(self, t: float, pos: Position) -> bytes:
        o = self.options
        rng = self.rng
        when = self.start + timedelta(seconds=t)
        seen: Position | None = self._noisy(pos)
        if o.dropout > 0 and t >= self._dropout_until and rng.random() < 1 - (1 - o.dropout) ** self.step:
            self._dropout_until = t + o.dropout_seconds
        if t < self._dropout_until:
            seen = None
        lines = epoch_sentences(when, seen, talker=o.talker)
        if o.bad_checksums > 0:
            lines = [_spoil(line) if rng.random() < o.bad_checksums else line for line in lines]
        return "".join(line + "\r\n" for line in lines).encode("ascii")

    def _noisy(self, pos: Position) -> Position:
        sigma = self.options.noise_m
        if sigma <= 0:
            return pos
        # Receiver error wanders rather than jumps: a first-order random walk
        # with the given spread, correlated over about ten seconds.
        keep = math.exp(-min(self.step, 60.0) / 10.0)
        kick = sigma * math.sqrt(1 - keep * keep)
        self._north = keep * self._north + self.rng.gauss(0.0, kick)
        self._east = keep * self._east + self.rng.gauss(0.0, kick)
        shift = math.hypot(self._north, self._east)
        lat, lon = pos.lat, pos.lon
        if shift > 0:
            lat, lon = destination(lat, lon, math.degrees(math.atan2(self._east, self._north)) % 360, shift)
        speed = pos.speed_kn
        if not pos.moving:
            speed = abs(self.rng.gauss(0.0, 0.1))
        course = (pos.course + self.rng.gauss(0.0, 1.0)) % 360.0
        return Position(lat, lon, speed, course, pos.moving)


def _spoil(line: str) -> str:
    good = int(line[-2:], 16)
    return f"{line[:-2]}{good ^ 0x5A:02X}"


# -- where the bytes go --------------------------------------------------------------------


class PtySink:
    """The master side of a pseudo-terminal; the reader opens `path`, the slave side.

    The slave stays open here too, so the terminal survives a reader that
    closes and reopens it. With `baud`, the sink behaves like a receiver wired
    at that speed: while the port is set to another speed, what arrives is
    garbage, as on a real serial line. With `write_timeout` None a write waits
    for the reader (lossless replay); otherwise bytes nobody reads in that
    time are dropped, as a receiver's output is when nothing listens.
    """

    def __init__(
        self, baud: int | None = None, write_timeout: float | None = 1.0, stop: threading.Event | None = None
    ) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.baud = baud
        self._speed = getattr(termios, f"B{baud}") if baud else None
        self.write_timeout = write_timeout
        self.stop = stop or threading.Event()
        self.dropped = 0
        self._noise = random.Random(0x9E55)

    def line_speed_matches(self) -> bool:
        if self._speed is None:
            return True
        try:
            return termios.tcgetattr(self.master)[5] == self._speed
        except termios.error:
            return True

    def write(self, data: bytes) -> None:
        if not self.line_speed_matches():
            data = bytes(self._noise.randrange(256) for _ in range(len(data)))
        view = memoryview(data)
        deadline = None if self.write_timeout is None else time.monotonic() + self.write_timeout
        while view and not self.stop.is_set():
            try:
                n = os.write(self.master, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
            wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if wait <= 0:
                self.dropped += len(view)
                return
            select.select([], [self.master], [], wait)
        # Keep the master's own input drained (nothing should be echoed, but be safe).
        self._drain()

    def _drain(self) -> None:
        try:
            while os.read(self.master, 4096):
                pass
        except OSError:
            pass

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class StreamSink:
    """A binary stream: standard output or a file."""

    def __init__(self, stream: BinaryIO, close_after: bool = False) -> None:
        self.stream = stream
        self.close_after = close_after

    @classmethod
    def to_file(cls, path: Path) -> StreamSink:
        return cls(open(path, "ab"), close_after=True)

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.stream.flush()

    def close(self) -> None:
        if self.close_after:
            self.stream.close()


def run_route(
    sim: RouteSimulator,
    write: Callable[[bytes], None],
    stop: threading.Event,
    *,
    sleep: Callable[[float], bool] | None = None,
    paced: bool = True,
) -> int:
    """Send bursts at the wall-clock rate until stopped or the voyage ends; returns bursts sent."""
    wait = sleep or stop.wait
    interval = 1.0 / sim.options.rate_hz
    began = time.monotonic()
    sent = 0
    for _, data, _ in sim.bursts():
        if stop.is_set():
            break
        write(data)
        sent += 1
        if paced:
            delay = began + sent * interval - time.monotonic()
            if delay > 0 and wait(delay):
                break
    return sent


# -- replaying a recorded log -------------------------------------------------------------------

_TIMED = {b"RMC": 1, b"GGA": 1, b"GNS": 1, b"ZDA": 1, b"GLL": 5}


def log_lines(path: Path) -> list[bytes]:
    """The data lines of a recorded NMEA log, as sent: '#' comment lines (gpsd's headers) left out."""
    data = path.read_bytes()
    out = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"#"):
            continue
        out.append(line)
    return out


def _seconds_of_day(line: bytes) -> float | None:
    if len(line) < 7 or line[:1] != b"$":
        return None
    idx = _TIMED.get(line[3:6])
    if idx is None:
        return None
    parts = line.split(b",")
    if len(parts) <= idx:
        return None
    text = parts[idx]
    if len(text) < 6 or not text[:6].isdigit():
        return None
    try:
        return int(text[0:2]) * 3600 + int(text[2:4]) * 60 + float(text[4:])
    except ValueError:
        return None


def replay_pace(lines: list[bytes], speedup: float = 1.0, max_gap: float = 2.0) -> Iterator[tuple[float, bytes]]:
    """(seconds to wait before it, line) following the receiver's own timestamps, `speedup` times faster."""
    last: float | None = None
    for line in lines:
        t = _seconds_of_day(line)
        delay = 0.0
        if t is not None:
            if last is not None and t != last:
                gap = t - last
                if gap < 0 or gap > max_gap:  # midnight, a reset, a jump: do not stall
                    gap = 1.0
                delay = gap / speedup
            last = t
        yield delay, line


def run_replay(
    lines: list[bytes],
    write: Callable[[bytes], None],
    stop: threading.Event,
    *,
    speedup: float = 1.0,
    paced: bool = True,
    loop: bool = False,
) -> int:
    """Play lines back at their own pace (or `speedup` times faster); returns lines sent."""
    sent = 0
    while not stop.is_set():
        for delay, line in replay_pace(lines, speedup):
            if stop.is_set():
                break
            if paced and delay > 0 and stop.wait(delay):
                break
            write(line)
            sent += 1
        if not loop or not lines:
            break
    return sent
