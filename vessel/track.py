"""The ship's track log, the GPS status row and stop detection: the domain side of the GPS.

devices.gps_reader turns bytes into fixes; this module decides which fixes
are worth keeping, stores them, seals them into the ledger in batches (each
batch in the same transaction that marks its points as sealed), keeps one
status row every terminal can read, and records arrival at and departure from
the planned stops through the campaign's own functions, so tickets are
attributed to the right community without anyone typing it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from devices.fix import Fix
from devices.geo import KNOT_MPS, angle_diff_deg, haversine_m
from devices.gps_reader import State, Status
from vessel import campaign, events, track_route
from vessel.clock import iso, parse
from vessel.config import GpsSettings
from vessel.errors import Refused
from vessel.i18n import t
from vessel.operators import SYSTEM
from vessel.ship import Ship
from vessel.store import transaction

# Why a point was kept (track_points.reason).
FIRST = "first"  # the first fix this daemon saw
AFTER_GAP = "after_gap"  # the first fix after the receiver lost its fix or went quiet
DISTANCE = "distance"
TIME = "time"
COURSE = "course"
# Reasons that start a new track segment in exports.
SEGMENT_STARTS = frozenset({FIRST, AFTER_GAP})

# Course over ground is noise at walking pace: turns count only above this speed.
COURSE_MIN_KNOTS = 1.0
# Fixes in a row beyond the stop radius before the ship counts as gone (one glitch is not a departure).
DEPART_AFTER_FIXES = 3

BATCH_POINTS = 60
BATCH_SECONDS = 600.0
STATUS_SECONDS = 2.0

# States of the status row beyond the reader's own.
STOPPED = "stopped"  # the daemon ended cleanly
STALE = "stale"  # the daemon has not written for a while: not running
NOT_RUNNING = "not_running"  # no daemon has ever written


class KeepRule:
    """Which fixes become track points: moved D metres, T seconds passed, turned C degrees, or a gap."""

    def __init__(self, settings: GpsSettings) -> None:
        self.distance_m = settings.keep_distance_m
        self.seconds = settings.keep_seconds
        self.course_deg = settings.keep_course_deg
        self.last: Fix | None = None

    def decide(self, fix: Fix) -> str | None:
        last = self.last
        if last is None:
            reason = FIRST
        elif fix.after_loss:
            reason = AFTER_GAP
        elif haversine_m(last.lat, last.lon, fix.lat, fix.lon) >= self.distance_m:
            reason = DISTANCE
        elif (fix.time - last.time).total_seconds() >= self.seconds:
            reason = TIME
        elif (
            fix.course is not None
            and last.course is not None
            and (fix.speed_kn or 0.0) >= COURSE_MIN_KNOTS
            and angle_diff_deg(fix.course, last.course) > self.course_deg
        ):
            reason = COURSE
        else:
            return None
        self.last = fix
        return reason


@dataclass(frozen=True)
class TrackPoint:
    id: int
    time: datetime
    received: datetime
    lat: float
    lon: float
    speed_kn: float | None
    course: float | None
    mode: str
    sats: int | None
    hdop: float | None
    reason: str

    @property
    def starts_segment(self) -> bool:
        return self.reason in SEGMENT_STARTS


def _point(row: dict) -> TrackPoint:
    return TrackPoint(
        id=row["id"], time=parse(row["t_receiver"]), received=parse(row["t_host"]),
        lat=row["lat"], lon=row["lon"], speed_kn=row["speed_kn"], course=row["course"], mode=row["mode"],
        sats=row["sats"], hdop=row["hdop"], reason=row["reason"],
    )


def store_point(ship: Ship, fix: Fix, reason: str) -> int:
    with transaction(ship.db) as conn:
        cur = conn.execute(
            "INSERT INTO track_points (t_receiver, t_host, lat, lon, speed_kn, course, mode, sats, hdop, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                iso(fix.time), iso(fix.received), fix.lat, fix.lon, fix.speed_kn, fix.course,
                str(fix.mode), fix.sats, fix.hdop, reason,
            ),
        )
        return cur.lastrowid


def seal_batch(ship: Ship, limit: int = 10_000) -> int:
    """Put the points not yet in the ledger into one track.batch event; returns how many."""
    with transaction(ship.db) as conn:
        rows = conn.execute(
            "SELECT id, t_receiver, lat, lon, speed_kn, course, mode, sats, hdop, reason FROM track_points "
            "WHERE ledgered = 0 ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        if not rows:
            return 0
        here = campaign.current(ship)
        events.record(
            ship,
            "track.batch",
            {
                "count": len(rows),
                "first": rows[0][1],
                "last": rows[-1][1],
                "fields": ["t", "lat", "lon", "speed_kn", "course", "mode", "sats", "hdop", "reason"],
                "points": [list(r[1:]) for r in rows],
            },
            operator_id=SYSTEM.id,
            stop_id=here.id if here else None,
        )
        conn.execute(
            "UPDATE track_points SET ledgered = 1 WHERE ledgered = 0 AND id <= ?", (rows[-1][0],)
        )
    return len(rows)


def write_status(ship: Ship, status: Status | None, *, state: str | None = None) -> None:
    """Replace the one status row (id 1) that terminals read."""
    fix = status.last_fix if status else None
    with transaction(ship.db) as conn:
        conn.execute(
            "INSERT INTO gps_status (id, updated_at, state, port, baud, last_fix_at, lat, lon, speed_kn, "
            "course, mode, sats, hdop, counters) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state, "
            "port = excluded.port, baud = excluded.baud, last_fix_at = excluded.last_fix_at, lat = excluded.lat, "
            "lon = excluded.lon, speed_kn = excluded.speed_kn, course = excluded.course, mode = excluded.mode, "
            "sats = excluded.sats, hdop = excluded.hdop, counters = excluded.counters",
            (
                iso(ship.now()),
                state or (str(status.state) if status else NOT_RUNNING),
                status.port if status else None,
                status.baud if status else None,
                iso(fix.received) if fix else None,
                fix.lat if fix else None,
                fix.lon if fix else None,
                fix.speed_kn if fix else None,
                fix.course if fix else None,
                str(fix.mode) if fix else None,
                fix.sats if fix else None,
                fix.hdop if fix else None,
                json.dumps(status.counters if status else {}, sort_keys=True),
            ),
        )


class StopWatch:
    """Arrival: within R metres of a planned stop, below S knots, for M minutes. Departure: beyond R again."""

    def __init__(
        self,
        ship: Ship,
        log: Callable[[str], None] | None = None,
        before_change: Callable[[], object] | None = None,
    ) -> None:
        self.ship = ship
        # Called just before an arrival or departure is recorded: the track
        # up to that moment is sealed with the stop it belongs to.
        self.before_change = before_change or (lambda: None)
        s = ship.config.gps
        self.radius_m = s.stop_radius_m
        self.slow_kn = s.stop_speed_knots
        self.dwell = timedelta(minutes=s.stop_minutes)
        self.log = log or (lambda _msg: None)
        self._candidate: int | None = None
        self._since: datetime | None = None
        self._outside = 0
        self._refused: set[int] = set()
        self._previous: Fix | None = None

    def _speed(self, fix: Fix) -> float | None:
        if fix.speed_kn is not None:
            return fix.speed_kn
        prev = self._previous
        if prev is None:
            return None
        dt = (fix.time - prev.time).total_seconds()
        if dt <= 0:
            return None
        return haversine_m(prev.lat, prev.lon, fix.lat, fix.lon) / dt / KNOT_MPS

    def observe(self, fix: Fix) -> str | None:
        """Look at one fix; returns "arrived" or "departed" when it recorded one."""
        speed = self._speed(fix)
        self._previous = fix
        here = campaign.current(self.ship)
        if here is not None:
            self._candidate = None
            if haversine_m(here.lat, here.lon, fix.lat, fix.lon) <= self.radius_m:
                self._outside = 0
                return None
            self._outside += 1
            if self._outside < DEPART_AFTER_FIXES:
                return None
            self._outside = 0
            self.before_change()
            try:
                campaign.depart(self.ship, SYSTEM, by="gps")
            except Refused as exc:
                self.log(str(exc))
                return None
            self.log(t("gps.departed", community=here.community))
            return "departed"
        self._outside = 0
        near = None
        nearest = self.radius_m
        for stop in campaign.stops(self.ship):
            if stop.arrived_at is not None:
                continue
            d = haversine_m(stop.lat, stop.lon, fix.lat, fix.lon)
            if d <= nearest:
                near, nearest = stop, d
        if near is None:
            self._candidate = None
            self._refused.clear()
            return None
        if speed is None or speed >= self.slow_kn or near.id in self._refused:
            self._candidate = None
            return None
        if self._candidate != near.id or self._since is None:
            self._candidate, self._since = near.id, fix.time
        if fix.time - self._since < self.dwell:
            return None
        self._candidate = None
        self.before_change()
        try:
            campaign.arrive(self.ship, SYSTEM, near.id, by="gps")
        except Refused as exc:
            self._refused.add(near.id)
            self.log(str(exc))
            return None
        self.log(t("gps.arrived", community=near.community))
        return "arrived"


class TrackRecorder:
    """The daemon's callbacks: keep, store and seal fixes; write the status row; watch the stops."""

    def __init__(
        self,
        ship: Ship,
        *,
        batch_points: int = BATCH_POINTS,
        batch_seconds: float = BATCH_SECONDS,
        status_seconds: float = STATUS_SECONDS,
        log: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ship = ship
        self.keep = KeepRule(ship.config.gps)
        self.stops = StopWatch(ship, log, before_change=self.seal)
        self.batch_points = batch_points
        self.batch_seconds = batch_seconds
        self.status_seconds = status_seconds
        self.monotonic = monotonic
        self.kept = 0
        self.seen = 0
        self._unsealed = 0
        self._oldest_unsealed: float | None = None
        self._last_status_at = float("-inf")
        self._last_state: str | None = None
        self._status: Status | None = None
        # Points a previous run stored but did not seal go into the first batch.
        leftover = ship.db.execute("SELECT count(*) FROM track_points WHERE ledgered = 0").fetchone()[0]
        if leftover:
            self._unsealed = leftover
            self._oldest_unsealed = monotonic()

    def on_fix(self, fix: Fix) -> None:
        self.seen += 1
        reason = self.keep.decide(fix)
        if reason is not None:
            store_point(self.ship, fix, reason)
            self.kept += 1
            self._unsealed += 1
            if self._oldest_unsealed is None:
                self._oldest_unsealed = self.monotonic()
        self.stops.observe(fix)
        if self._batch_due():
            self.seal()

    def on_status(self, status: Status) -> None:
        self._status = status
        now = self.monotonic()
        state = str(status.state)
        if state != self._last_state or now - self._last_status_at >= self.status_seconds:
            write_status(self.ship, status)
            self._last_state = state
            self._last_status_at = now
        if self._batch_due():
            self.seal()

    def _batch_due(self) -> bool:
        if self._unsealed >= self.batch_points:
            return True
        return (
            self._oldest_unsealed is not None
            and self._unsealed > 0
            and self.monotonic() - self._oldest_unsealed >= self.batch_seconds
        )

    def seal(self) -> int:
        """Seal what is not yet in the ledger (under way, or at the stop the ship is at)."""
        sealed = seal_batch(self.ship)
        self._unsealed = 0
        self._oldest_unsealed = None
        return sealed

    def close(self) -> None:
        """Seal what is left and say the daemon stopped."""
        self.seal()
        write_status(self.ship, self._status, state=STOPPED)


# -- readers for the terminals ---------------------------------------------------------------


@dataclass(frozen=True)
class GpsView:
    """The status row as a terminal should show it."""

    state: str  # a reader State value, or STOPPED, STALE, NOT_RUNNING
    updated_at: datetime | None
    port: str | None
    baud: int | None
    last_fix_at: datetime | None
    fix_age_s: float | None
    lat: float | None
    lon: float | None
    speed_kn: float | None
    course: float | None
    mode: str | None
    sats: int | None
    hdop: float | None
    counters: dict[str, int]

    @property
    def has_fix(self) -> bool:
        return self.state in (State.FIX_2D, State.FIX_3D)

    def label(self, lang: str | None = None) -> str:
        return t(f"gps.state.{self.state}", lang)


def latest_status(ship: Ship, now: datetime | None = None) -> GpsView:
    """The last status the daemon wrote, judged against the clock: an old row means no daemon."""
    now = now or ship.now()
    rows = list(ship.db.query("SELECT * FROM gps_status WHERE id = 1"))
    if not rows:
        return GpsView(NOT_RUNNING, None, None, None, None, None, None, None, None, None, None, None, None, {})
    r = rows[0]
    updated = parse(r["updated_at"])
    last_fix = parse(r["last_fix_at"])
    state = r["state"]
    stale_after = max(3 * STATUS_SECONDS, ship.config.gps.stale_seconds)
    if state != STOPPED and updated is not None and (now - updated).total_seconds() > stale_after:
        state = STALE
    age = None if last_fix is None else max(0.0, (now - last_fix).total_seconds())
    try:
        counters = json.loads(r["counters"] or "{}")
    except ValueError:
        counters = {}
    return GpsView(
        state=state, updated_at=updated, port=r["port"], baud=r["baud"], last_fix_at=last_fix, fix_age_s=age,
        lat=r["lat"], lon=r["lon"], speed_kn=r["speed_kn"], course=r["course"], mode=r["mode"],
        sats=r["sats"], hdop=r["hdop"], counters=counters,
    )


def points(
    ship: Ship, since: datetime | None = None, until: datetime | None = None, *, by_host_time: bool = False
) -> list[TrackPoint]:
    """Kept points in time order, between two receiver times (or host times), both ends included."""
    col = "t_host" if by_host_time else "t_receiver"
    sql = "SELECT * FROM track_points WHERE 1 = 1"
    params: list[str] = []
    if since is not None:
        sql += f" AND {col} >= ?"
        params.append(iso(since))
    if until is not None:
        sql += f" AND {col} <= ?"
        params.append(iso(until))
    sql += " ORDER BY t_receiver, id"
    return [_point(r) for r in ship.db.query(sql, params)]


def recent(ship: Ship, limit: int = 500) -> list[TrackPoint]:
    """The last `limit` kept points, oldest first."""
    rows = ship.db.query("SELECT * FROM track_points ORDER BY id DESC LIMIT ?", [limit])
    return [_point(r) for r in reversed(list(rows))]


@dataclass(frozen=True)
class NextStop:
    stop: campaign.Stop
    distance_m: float  # along the route when the ship is on it, else straight
    eta: datetime | None  # None while the ship is too slow to say


def next_stop(ship: Ship, now: datetime | None = None) -> NextStop | None:
    """The next planned stop not yet reached, how far along the route, and when at this speed."""
    stop = campaign.next_planned(ship)
    if stop is None:
        return None
    view = latest_status(ship, now)
    lat, lon, speed = view.lat, view.lon, view.speed_kn
    if lat is None or lon is None:
        last = recent(ship, 1)
        if not last:
            return None
        lat, lon, speed = last[0].lat, last[0].lon, last[0].speed_kn
    route = track_route.route(ship.config)
    idx = track_route.stop_index(route, stop.community)
    if idx is None:
        distance = haversine_m(lat, lon, stop.lat, stop.lon)
    else:
        distance = track_route.remaining_m(route, lat, lon, idx)
    eta = None
    if speed is not None and speed >= COURSE_MIN_KNOTS:
        eta = (now or ship.now()) + timedelta(seconds=distance / (speed * KNOT_MPS))
    return NextStop(stop, distance, eta)
