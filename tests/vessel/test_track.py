"""The track log, the status row and stop detection, on a real ship database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from devices.fix import Fix, Mode
from devices.geo import KNOT_MPS, destination, haversine_m
from devices.gps_reader import Pipeline, State, Status
from devices.simulator import RouteSimulator, SimOptions, Voyage
from vessel import campaign, track, track_route
from vessel.clock import FixedClock
from vessel.config import GpsSettings
from vessel.operators import SYSTEM
from vessel.ship import Ship

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MAZAN = (-3.4963, -73.0906)


def fix(seconds: float, lat: float, lon: float, speed: float | None = 0.0, course: float | None = 0.0,
        after_loss: bool = False) -> Fix:
    t = T0 + timedelta(seconds=seconds)
    return Fix(t, t, lat, lon, speed, course, Mode.FIX_3D, 9, 0.9, after_loss)


def status(state: State, last: Fix | None = None, counters: dict | None = None) -> Status:
    return Status(state, "/dev/ttyUSB0", 38400, T0, last, 0.5, counters or {"fixes": 1})


# -- which fixes are kept ------------------------------------------------------------------------


def test_keep_rule_distance_time_course_and_gaps() -> None:
    rule = track.KeepRule(GpsSettings(keep_distance_m=40, keep_seconds=30, keep_course_deg=12))
    lat, lon = MAZAN
    assert rule.decide(fix(0, lat, lon, 8, 330)) == track.FIRST
    north = destination(lat, lon, 330, 30)
    assert rule.decide(fix(3, *north, 8, 330)) is None  # 30 m, 3 s, same course
    assert rule.decide(fix(4, *destination(lat, lon, 330, 41), 8, 330)) == track.DISTANCE
    assert rule.decide(fix(5, *destination(lat, lon, 330, 45), 8, 345)) == track.COURSE
    assert rule.decide(fix(40, *destination(lat, lon, 330, 50), 8, 345)) == track.TIME
    assert rule.decide(fix(41, *destination(lat, lon, 330, 51), 8, 345, after_loss=True)) == track.AFTER_GAP


def test_course_noise_at_a_standstill_is_not_a_turn() -> None:
    rule = track.KeepRule(GpsSettings())
    assert rule.decide(fix(0, *MAZAN, 0.1, 10)) == track.FIRST
    kept = [rule.decide(fix(s, *MAZAN, 0.1, (s * 77) % 360)) for s in range(1, 30)]
    assert kept == [None] * 29


# -- storing, sealing, status ----------------------------------------------------------------------


def test_recorder_stores_kept_points_and_seals_them_into_the_ledger_in_batches(ship: Ship) -> None:
    rec = track.TrackRecorder(ship, batch_points=5)
    lat, lon = MAZAN
    for i in range(60):
        rec.on_fix(fix(i, *destination(lat, lon, 330, i * 5.0), 9.7, 330))  # 5 m a second
    rows = list(ship.db.query("SELECT reason, ledgered FROM track_points ORDER BY id"))
    assert rows[0]["reason"] == track.FIRST
    assert {r["reason"] for r in rows[1:]} == {track.DISTANCE}
    assert len(rows) == 8  # 295 m in steps of 40 m, plus the first
    assert rec.kept == 8 and rec.seen == 60
    batches = list(ship.db.query("SELECT payload FROM events WHERE kind = 'track.batch'"))
    assert len(batches) == 1
    body = json.loads(batches[0]["payload"])
    assert body["count"] == 5 and len(body["points"]) == 5
    assert body["fields"][:3] == ["t", "lat", "lon"]
    assert sum(r["ledgered"] for r in rows) == 5
    rec.close()
    assert all(r["ledgered"] for r in ship.db.query("SELECT ledgered FROM track_points"))
    batches = list(ship.db.query("SELECT payload FROM events WHERE kind = 'track.batch' ORDER BY id"))
    assert [json.loads(b["payload"])["count"] for b in batches] == [5, 3]
    sealed = [p for b in batches for p in json.loads(b["payload"])["points"]]
    stored = [r["t_receiver"] for r in ship.db.query("SELECT t_receiver FROM track_points ORDER BY id")]
    assert [p[0] for p in sealed] == stored  # every point once, in order


def test_points_left_unsealed_by_a_previous_run_go_into_the_next_batch(ship: Ship, clock: FixedClock) -> None:
    track.store_point(ship, fix(0, *MAZAN), track.FIRST)
    track.store_point(ship, fix(30, *MAZAN), track.TIME)
    rec = track.TrackRecorder(ship, batch_seconds=60, monotonic=lambda: 1000.0)
    assert rec._unsealed == 2
    rec.on_status(status(State.FIX_3D))
    assert ship.db.execute("SELECT count(*) FROM track_points WHERE ledgered = 0").fetchone()[0] == 2
    rec.monotonic = lambda: 1061.0
    rec.on_status(status(State.FIX_3D))
    assert ship.db.execute("SELECT count(*) FROM track_points WHERE ledgered = 0").fetchone()[0] == 0


def test_status_row_and_what_terminals_read_from_it(ship: Ship, clock: FixedClock) -> None:
    assert track.latest_status(ship).state == track.NOT_RUNNING
    now = [0.0]
    rec = track.TrackRecorder(ship, status_seconds=2.0, monotonic=lambda: now[0])
    last = fix(0, *MAZAN, 8.0, 330)
    rec.on_status(status(State.FIX_3D, last, {"fixes": 7, "void": 1}))
    view = track.latest_status(ship)
    assert view.state == State.FIX_3D and view.has_fix
    assert (view.lat, view.lon, view.speed_kn, view.mode, view.sats) == (*MAZAN, 8.0, "3d", 9)
    assert view.counters == {"fixes": 7, "void": 1}
    assert view.label("es") == "posición 3D" and view.label("en") == "3D position"

    clock.advance(seconds=1)
    now[0] = 1.0
    rec.on_status(status(State.FIX_3D, last, {"fixes": 8}))  # same state within 2 s: not rewritten
    assert track.latest_status(ship).counters == {"fixes": 7, "void": 1}
    rec.on_status(status(State.NO_FIX, last, {"fixes": 8}))  # a new state is written at once
    assert track.latest_status(ship).state == State.NO_FIX

    clock.advance(minutes=5)  # the daemon died without a word
    assert track.latest_status(ship).state == track.STALE
    rec.close()
    assert track.latest_status(ship).state == track.STOPPED
    clock.advance(hours=5)
    assert track.latest_status(ship).state == track.STOPPED  # a clean stop stays a clean stop


def test_fix_age_is_measured_on_the_host_clock(ship: Ship, clock: FixedClock) -> None:
    received = clock() - timedelta(seconds=42)
    last = Fix(T0, received, *MAZAN, 0.0, None, Mode.FIX_2D, None, None)
    track.write_status(ship, status(State.FIX_2D, last))
    assert track.latest_status(ship).fix_age_s == pytest.approx(42)


# -- stops ---------------------------------------------------------------------------------------------


def approach(watch: track.StopWatch, start: float, minutes: float, lat: float, lon: float, speed: float = 0.2,
             step: float = 30.0) -> list[str | None]:
    out = []
    s = start
    while s < start + minutes * 60:
        out.append(watch.observe(fix(s, lat, lon, speed)))
        s += step
    return out


def test_arrival_needs_the_radius_the_slowness_and_the_minutes(ship: Ship) -> None:
    watch = track.StopWatch(ship)
    near = destination(*MAZAN, 90, 300)  # inside the 600 m radius
    assert set(approach(watch, 0, 9, *near)) == {None}  # 9 minutes: not yet
    assert campaign.current(ship) is None
    results = approach(watch, 9 * 60, 2, *near)
    assert "arrived" in results
    here = campaign.current(ship)
    assert here.community == "Mazán" and here.arrived_by == "gps"
    event = ship.db.execute("SELECT operator_id, stop_id FROM events WHERE kind = 'stop.arrived'").fetchone()
    assert event == (None, here.id)


def test_passing_by_at_speed_is_not_an_arrival(ship: Ship) -> None:
    watch = track.StopWatch(ship)
    near = destination(*MAZAN, 90, 100)
    assert set(approach(watch, 0, 30, *near, speed=8.0)) == {None}
    assert campaign.current(ship) is None


def test_slowing_down_outside_the_radius_is_not_an_arrival(ship: Ship) -> None:
    watch = track.StopWatch(ship)
    assert set(approach(watch, 0, 30, *destination(*MAZAN, 90, 700))) == {None}
    assert campaign.current(ship) is None


def test_leaving_the_radius_is_a_departure_after_a_few_fixes(ship: Ship, coordinator) -> None:
    campaign.arrive(ship, coordinator, campaign.find(ship, "Mazán").id)  # arrived by hand
    watch = track.StopWatch(ship)
    assert set(approach(watch, 0, 30, *destination(*MAZAN, 0, 500))) == {None}
    away = destination(*MAZAN, 330, 700)
    assert watch.observe(fix(2000, *away, 9)) is None  # one fix out may be a glitch
    assert watch.observe(fix(2001, *away, 9)) is None
    assert watch.observe(fix(2002, *away, 9)) == "departed"
    stop = campaign.find(ship, "Mazán")
    assert stop.departed_by == "gps" and stop.arrived_by == "hand"
    # A visited stop is not arrived at again, however long the ship lingers there.
    assert set(approach(watch, 3000, 30, *MAZAN)) == {None}


def test_a_refusal_from_the_campaign_is_logged_not_raised(ship: Ship, coordinator) -> None:
    said: list[str] = []
    watch = track.StopWatch(ship, log=said.append)
    near = destination(*MAZAN, 90, 300)
    approach(watch, 0, 9.5, *near)
    # Someone records another stop by hand in the meantime.
    campaign.arrive(ship, coordinator, campaign.find(ship, "Negro Urco").id)
    campaign.depart(ship, coordinator)
    campaign.arrive(ship, coordinator, campaign.find(ship, "Santa Clotilde").id)
    # The ship is now "at" Santa Clotilde: far away, so the GPS records the departure.
    results = approach(watch, 600, 3, *near)
    assert "departed" in results
    assert any("Santa Clotilde" in s for s in said)


# -- readers ---------------------------------------------------------------------------------------------


def test_next_stop_distance_follows_the_route_and_gives_an_eta(ship: Ship, clock: FixedClock) -> None:
    assert track.next_stop(ship) is None  # nothing known about the position yet
    pos = destination(*MAZAN, 160, 2000)  # downstream of Mazán
    track.write_status(ship, status(State.FIX_3D, fix(0, *pos, 9.0, 330)))
    nxt = track.next_stop(ship)
    assert nxt.stop.community == "Mazán"
    assert nxt.distance_m == pytest.approx(haversine_m(*pos, *MAZAN), rel=0.05)
    assert nxt.eta == clock() + timedelta(seconds=nxt.distance_m / (9.0 * KNOT_MPS))

    at_mazan = campaign.arrive(ship, SYSTEM, campaign.find(ship, "Mazán").id, by="gps")
    campaign.depart(ship, SYSTEM, by="gps")
    assert at_mazan.community == "Mazán"
    track.write_status(ship, status(State.FIX_3D, fix(0, *MAZAN, 0.0, None)))
    nxt = track.next_stop(ship)
    assert nxt.stop.community == "Negro Urco"
    straight = haversine_m(*MAZAN, -3.0215, -73.3972)
    assert nxt.distance_m > straight * 1.05  # the river bends
    assert nxt.eta is None  # standing still: no time to give


def test_recent_and_ranges(ship: Ship) -> None:
    for i in range(5):
        track.store_point(ship, fix(i * 60, *MAZAN), track.TIME)
    got = track.recent(ship, 3)
    assert [p.time for p in got] == [T0 + timedelta(minutes=m) for m in (2, 3, 4)]
    some = track.points(ship, T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))
    assert len(some) == 3


# -- the whole path: simulator, pipeline, recorder -----------------------------------------------------


def test_a_simulated_voyage_arrives_and_departs_and_keeps_few_rows(ship: Ship, clock: FixedClock) -> None:
    # From 3 km below Mazán, a stay there, then up the river through two bends.
    points = track_route.route(ship.config, dwell_s=15 * 60, lead_in=True)[:4]
    assert points[1].name == "Mazán"
    sim = RouteSimulator(Voyage(points, 9.0), SimOptions(rate_hz=1, noise_m=2.0, seed=3), start=T0)
    pipeline = Pipeline()
    rec = track.TrackRecorder(ship)
    for t, data, _pos in sim.bursts():
        clock.moment = T0 + timedelta(seconds=t)
        for f in pipeline.feed(data, clock()):
            rec.on_fix(f)
    for f in pipeline.flush():
        rec.on_fix(f)
    rec.close()
    mazan = campaign.find(ship, "Mazán")
    assert mazan.arrived_by == "gps" and mazan.departed_by == "gps"
    # Arrived once 10 minutes (stop_minutes) were spent slow inside the radius; left on leaving it.
    lead_in = haversine_m(points[0].lat, points[0].lon, *MAZAN) / (9.0 * KNOT_MPS)
    assert (mazan.arrived_at - T0).total_seconds() == pytest.approx(lead_in + 600, abs=5)
    radius_out = 600 / (9.0 * KNOT_MPS)
    left = lead_in + 15 * 60 + radius_out
    assert (mazan.departed_at - T0).total_seconds() == pytest.approx(left, abs=10)
    hours = sim.voyage.duration / 3600
    assert rec.seen == pytest.approx(sim.voyage.duration, abs=2)
    assert rec.kept / hours < 600
    kinds = [r[0] for r in ship.db.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds.count("stop.arrived") == 1 and kinds.count("stop.departed") == 1
    assert ship.db.execute("SELECT count(*) FROM track_points WHERE ledgered = 0").fetchone()[0] == 0
    # The track is sealed at arrival and departure: each batch belongs to one side of them.
    seq = [(k, stop) for k, stop in ship.db.execute(
        "SELECT kind, stop_id FROM events WHERE kind LIKE 'track.%' OR kind LIKE 'stop.%' ORDER BY id")]
    arrived, departed = seq.index(("stop.arrived", mazan.id)), seq.index(("stop.departed", mazan.id))
    assert seq[arrived - 1] == ("track.batch", None)  # the approach, under way
    assert seq[departed - 1] == ("track.batch", mazan.id)  # the stay
    assert {s for k, s in seq[:arrived]} == {None}
    assert {s for k, s in seq[arrived:departed]} == {mazan.id}
    assert {s for k, s in seq[departed + 1:]} == {None}
