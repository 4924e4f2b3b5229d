"""`pias gps`, `pias gps-sim` and `pias track`: the GPS daemon, the simulated receiver, the export.

`pias gps` is one long-lived process per ship (a lock file in the home makes
sure of it): it reads the receiver and writes the track log and the status
row through vessel.track. SIGTERM or Ctrl-C only set an event; the reader
notices within a fraction of a second, the last batch is sealed, and the
process ends with nothing half-written.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from devices.gps_reader import BAUD_RATES, GpsReader, Status
from devices.simulator import (
    PtySink,
    RouteSimulator,
    SimOptions,
    StreamSink,
    Voyage,
    Waypoint,
    log_lines,
    run_replay,
    run_route,
)
from vessel import campaign, track, track_export, track_route
from vessel import config as config_mod
from vessel import home as home_mod
from vessel.cli import CommandFailed
from vessel.cli.common import home_of, open_ship
from vessel.clock import parse
from vessel.i18n import t
from vessel.store import StoreError

LOCK_NAME = "gps.lock"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gps", help="the GPS daemon: read the receiver, keep the track log, detect stops")
    p.add_argument("--port", help="serial port (default: gps.port of ship.toml), e.g. a pseudo-terminal")
    p.add_argument("--baud", help='rate, or "auto" (default: gps.baud of ship.toml)')
    p.add_argument(
        "--not-before", metavar="DATE",
        help="earliest believable receiver date (default 2025-01-01); earlier only to replay old recordings",
    )
    p.set_defaults(func=cmd_gps)

    p = sub.add_parser("gps-sim", help="a simulated GPS receiver on the campaign's route, or a log replayed")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--pty", action="store_true", help="write into a new pseudo-terminal (default); "
                     "its path is the first line printed")
    out.add_argument("--stdout", action="store_true", help="write NMEA to standard output")
    out.add_argument("--out", type=Path, metavar="FILE", help="append NMEA to a file")
    p.add_argument("--rate", type=float, default=1.0, metavar="HZ", help="bursts per second (default 1)")
    p.add_argument("--speedup", type=float, default=1.0, metavar="X",
                   help="receiver time runs X times faster than the clock (default 1)")
    p.add_argument("--noise", type=float, default=2.0, metavar="M", help="position error, metres (default 2)")
    p.add_argument("--dropout", type=float, default=0.0, metavar="P",
                   help="chance per second that the receiver loses its fix for a while (default 0)")
    p.add_argument("--dropout-seconds", type=float, default=20.0, metavar="S",
                   help="how long each loss lasts, receiver seconds (default 20)")
    p.add_argument("--bad-checksums", type=float, default=0.0, metavar="P",
                   help="share of sentences sent with a wrong checksum (default 0)")
    p.add_argument("--speed", type=float, default=9.0, metavar="KN", help="cruising speed, knots (default 9)")
    p.add_argument("--dwell", type=float, metavar="MIN",
                   help="minutes (receiver time) the ship waits at each stop (default: stop_minutes + 5)")
    p.add_argument("--stay", type=float, metavar="MIN",
                   help="minutes (receiver time) to wait first at the stop the ship is at now (default: --dwell)")
    p.add_argument("--baud", type=int, choices=BAUD_RATES,
                   help="pty only: act as a receiver wired at this rate (other rates read garbage)")
    p.add_argument("--talker", default="GP", choices=["GP", "GN", "GL", "GA", "GB", "BD", "GQ", "QZ"])
    p.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    p.add_argument("--replay", type=Path, metavar="FILE", help="play a recorded NMEA log instead of the route")
    p.add_argument("--once", action="store_true", help="stop at the end of the route or log instead of going on")
    p.set_defaults(func=cmd_gps_sim)

    p = sub.add_parser("track", help="export the track log as GPX 1.1 or GeoJSON")
    p.add_argument("--gpx", type=Path, metavar="FILE", help="write the track as GPX 1.1 (OpenCPN, GPS tools)")
    p.add_argument("--geojson", type=Path, metavar="FILE", help="write the track as GeoJSON (GIS tools)")
    p.add_argument("--since", metavar="ISO", help="from this UTC time, e.g. 2026-11-04T06:00Z")
    p.add_argument("--until", metavar="ISO", help="up to this UTC time")
    p.add_argument("--stop", metavar="NAME_OR_SEQ", help="the leg to a stop and the stay there")
    p.set_defaults(func=cmd_track)


def _say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM, SIGINT or SIGHUP; the handlers do nothing else."""
    stop = threading.Event()
    old = {}
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        old[sig] = signal.signal(sig, lambda _sig, _frame: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextmanager
def _single_daemon(home: home_mod.Home) -> Iterator[None]:
    fd = os.open(home.path / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandFailed(t("gps.already_running", path=str(home.path))) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def _baud(text: str | None, default: int | str) -> int | str:
    if text is None:
        return default
    if text == "auto":
        return "auto"
    if text.isdigit() and 300 <= int(text) <= 921600:
        return int(text)
    raise CommandFailed(t("gps.bad_baud", baud=text))


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandFailed(t("gps.bad_date", value=text)) from None


def cmd_gps(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        settings = ship.config.gps
        port = args.port or settings.port
        if not port:
            raise CommandFailed(t("gps.no_port_configured"))
        baud = _baud(args.baud, settings.baud)
        not_before = _date(args.not_before)
        previous = track.latest_status(ship)
        remembered = previous.baud if previous.baud in BAUD_RATES else None
        with _single_daemon(home_of(args)), _stop_on_signals() as stop:
            recorder = track.TrackRecorder(ship, log=_say)
            last_state: list[str] = []

            def on_status(status: Status) -> None:
                recorder.on_status(status)
                if stop.is_set():
                    return
                if not last_state or last_state[-1] != status.state:
                    last_state.append(str(status.state))
                    _say(t("gps.state_line", state=t(f"gps.state.{status.state}"), port=status.port,
                           baud=status.baud or "?"))

            options: dict = {}
            if not_before is not None:
                options["not_before"] = not_before
            reader = GpsReader(
                port, baud, on_fix=recorder.on_fix, on_status=on_status, stop=stop, initial_baud=remembered,
                max_speed_knots=settings.max_speed_knots, stale_seconds=settings.stale_seconds, **options,
            )
            _say(t("gps.listening", port=port, baud=baud))
            # The database can fail (a full disk): stop with one clear line and
            # let the service manager start us again; what was committed stays.
            failure: sqlite3.Error | None = None
            try:
                reader.run()
            except sqlite3.Error as exc:
                failure = exc
            try:
                recorder.close()
            except sqlite3.Error as exc:
                failure = failure or exc
            if failure is not None:
                raise StoreError(f"{home_of(args).db_path}: {failure}")
            _say(t("gps.stopped", kept=recorder.kept, seen=recorder.seen))
    finally:
        ship.close()
    return 0


# -- the simulator --------------------------------------------------------------------------------


def _sim_route(args: argparse.Namespace) -> list[Waypoint]:
    """The campaign's route from where the ship is now: the home's ship if there is one, else the demo's."""
    home = home_of(args)
    cfg = home.load_config() if home.exists() else config_mod.load_demo()
    dwell_min = args.dwell if args.dwell is not None else cfg.gps.stop_minutes + 5
    points = track_route.route(cfg, dwell_s=dwell_min * 60.0, lead_in=True)
    if not points:
        raise CommandFailed(t("gps.no_route"))
    if not home.exists():
        return points
    ship = home_mod.open_ship(home)
    try:
        here = campaign.current(ship)
        left = [s for s in campaign.stops(ship) if s.departed_at is not None]
    finally:
        ship.close()
    if here is not None:
        start = track_route.stop_index(points, here.community)
        if start is None:
            return points
        first = points[start]
        stay_s = first.dwell_s if args.stay is None else args.stay * 60.0
        return [Waypoint(first.lat, first.lon, stay_s, first.name), *points[start + 1:]]
    if left:
        start = track_route.stop_index(points, left[-1].community)
        if start is not None:
            last = points[start]
            return [Waypoint(last.lat, last.lon, 0.0, last.name), *points[start + 1:]]
    return points


def _check_options(args: argparse.Namespace) -> None:
    for option, value, ok in (
        ("--rate", args.rate, 0 < args.rate <= 50),
        ("--speedup", args.speedup, 0 < args.speedup <= 100_000),
        ("--noise", args.noise, 0 <= args.noise <= 1000),
        ("--dropout", args.dropout, 0 <= args.dropout <= 1),
        ("--dropout-seconds", args.dropout_seconds, 0 < args.dropout_seconds <= 86400),
        ("--bad-checksums", args.bad_checksums, 0 <= args.bad_checksums <= 1),
        ("--speed", args.speed, 0 < args.speed <= 60),
        ("--dwell", args.dwell, args.dwell is None or 0 <= args.dwell <= 100_000),
        ("--stay", args.stay, args.stay is None or 0 <= args.stay <= 100_000),
    ):
        if not ok:
            raise CommandFailed(t("gps.bad_option", option=option, value=value))
    if args.baud and (args.stdout or args.out):
        raise CommandFailed(t("gps.baud_needs_pty"))


def cmd_gps_sim(args: argparse.Namespace) -> int:
    _check_options(args)
    lines: list[bytes] = []
    sim = None
    if args.replay is not None:
        try:
            lines = log_lines(args.replay)
        except OSError as exc:
            raise CommandFailed(t("gps.cannot_read", path=str(args.replay), problem=exc.strerror)) from None
        if not lines:
            raise CommandFailed(t("gps.empty_log", path=str(args.replay)))
    else:
        voyage = Voyage(_sim_route(args), speed_kn=args.speed, round_trip=not args.once)
        options = SimOptions(
            rate_hz=args.rate, speedup=args.speedup, noise_m=args.noise, dropout=args.dropout,
            dropout_seconds=args.dropout_seconds, bad_checksums=args.bad_checksums, talker=args.talker,
            seed=args.seed,
        )
        sim = RouteSimulator(voyage, options)

    with _stop_on_signals() as stop:
        if args.stdout:
            sink = StreamSink(sys.stdout.buffer)
        elif args.out is not None:
            try:
                sink = StreamSink.to_file(args.out)
            except OSError as exc:
                raise CommandFailed(t("gps.cannot_write", path=str(args.out), problem=exc.strerror)) from None
            _say(str(args.out))
        else:
            # A replay waits for its reader (nothing is lost); a live receiver does not.
            sink = PtySink(baud=args.baud, write_timeout=None if lines else 1.0, stop=stop)
            _say(sink.path)
        write: Callable[[bytes], None] = sink.write
        try:
            if sim is not None:
                run_route(sim, write, stop)
            else:
                run_replay(lines, write, stop, speedup=args.speedup, loop=not args.once)
        except BrokenPipeError:
            # The reader of standard output went away: that is the end of the run.
            # Point stdout at /dev/null so the interpreter's final flush stays quiet.
            stop.set()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        finally:
            sink.close()
    return 0


# -- export ------------------------------------------------------------------------------------------


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = parse(text.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise CommandFailed(t("track.bad_time", option=option, value=text))
    # A time without an offset is taken as UTC, like every time the ship stores.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def cmd_track(args: argparse.Namespace) -> int:
    if args.gpx is None and args.geojson is None:
        raise CommandFailed(t("track.no_output"))
    if args.stop is not None and (args.since is not None or args.until is not None):
        raise CommandFailed(t("track.stop_or_range"))
    since = _moment(args.since, "--since")
    until = _moment(args.until, "--until")
    if since is not None and until is not None and until < since:
        raise CommandFailed(t("track.empty_range", since=args.since, until=args.until))
    ship = open_ship(args)
    try:
        stop = campaign.find(ship, args.stop) if args.stop is not None else None
        pts, stops = track_export.select(ship, since, until, stop)
        if not pts:
            raise CommandFailed(t("track.no_points"))
        name = f"{ship.config.ship_name} – {ship.config.campaign_name}"
        if stop is not None:
            name += f" – {stop.community}"
        segs = len(track_export.segments(pts))
        for path, writer in ((args.gpx, track_export.write_gpx), (args.geojson, track_export.write_geojson)):
            if path is None:
                continue
            try:
                writer(path, ship, pts, stops, name)
            except OSError as exc:
                raise CommandFailed(t("track.cannot_write", path=str(path), problem=exc.strerror)) from None
            _say(t("track.written", path=str(path), points=len(pts), segments=segs))
    finally:
        ship.close()
    return 0
