"""A whole campaign, compressed: every part of the ship working together, checked at the end.

The ship (a throw-away home built from the demo ship) sails up the Napo under
a simulated GPS receiver that writes NMEA into a pseudo-terminal, read by the
real `pias gps` daemon, which records arrival at each community. At each stop a
crowd registers at the registration desk and is served by several desk
processes at once; then the ship leaves. At the end the ledger is offloaded
over HTTP to `pias receive` on 127.0.0.1 and the ministry side ingests it.

Faults can be injected on request: the GPS unplugged for minutes, a desk
process killed with SIGKILL, the upload cut mid-way. The checks at the end
must hold all the same.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from devices.simulator import PtySink, Voyage, Waypoint, epoch_sentences
from vessel import config as config_mod
from vessel import home as home_mod
from vessel import ledger_link, track_route
from vessel.clock import utcnow

FAULTS = ("gps-unplug", "desk-kill", "upload-cut")
FINAL_STATES = ("done", "missed", "cancelled", "transferred")


@dataclass(frozen=True)
class SimParams:
    stops: int = 3
    days: int = 3
    citizens_per_stop: int = 40
    desks: int = 2
    speed_kn: float = 400.0
    rate_hz: float = 50.0
    faults: frozenset[str] = frozenset()
    seed: int = 1
    home: Path | None = None


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Summary:
    home: Path
    stops: list[str] = field(default_factory=list)
    citizens: int = 0
    tickets: int = 0
    steps: Counter = field(default_factory=Counter)
    events: int = 0
    central_events: int = 0
    bundle_bytes: int = 0
    track_points: int = 0
    faults: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class SimulationFailed(Exception):
    """Something in the simulated campaign did not happen in time; the message says what."""


# --- the ship's configuration ----------------------------------------------------------------


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def sim_config(params: SimParams, home: Path, start: date) -> str:
    """The demo ship, resized for the run: its first stops, desks per station, fast GPS rules."""
    demo = config_mod.load_demo(home)
    stops = demo.stops[: max(1, min(params.stops, len(demo.stops)))]
    per_stop = max(1, params.days // len(stops))
    out = [
        "# Generated for a simulated campaign: the demo ship, resized and with compressed time.",
        "[ship]", f"id = {_toml_str(demo.ship_id)}", f"name = {_toml_str(demo.ship_name)}", 'language = "es"',
        "[campaign]", f"code = {_toml_str(demo.campaign_code + '-SIM')}",
        f"name = {_toml_str(demo.campaign_name + ' (simulación)')}",
    ]
    for s in demo.stations:
        out += [
            "[[stations]]", f"code = {_toml_str(s.code)}", f"letter = {_toml_str(s.letter)}",
            f"name_es = {_toml_str(s.name_es)}", f"name_en = {_toml_str(s.name_en)}",
            f"institution = {_toml_str(s.institution)}", f"desks = {max(1, min(params.desks, 20))}",
        ]
    for p in demo.priority_classes:
        out += ["[[priority_classes]]", f"code = {_toml_str(p.code)}", f"name_es = {_toml_str(p.name_es)}",
                f"name_en = {_toml_str(p.name_en)}"]
        if p.min_age is not None:
            out.append(f"min_age = {p.min_age}")
    q = demo.queue
    out += [
        "[queue]", f"policy = {_toml_str(q.policy)}", f"wait_bound_minutes = {q.wait_bound_minutes}",
        f"priority_run = {q.priority_run}", f"max_recalls = {q.max_recalls}",
        # Compressed time: a desk recalls at once instead of after 20 seconds.
        "recall_gap_seconds = 0", f"missed_after_calls = {q.missed_after_calls}",
        f"waiting_target_minutes = {q.waiting_target_minutes}",
        "[gps]", f"port = {_toml_str(str(home / 'gps-port'))}", "baud = 9600",
        "keep_distance_m = 200", "keep_seconds = 60", "keep_course_deg = 20",
        # The simulated ship sails fast so a campaign fits in minutes.
        f"max_speed_knots = {max(35.0, params.speed_kn * 2):g}",
        "stop_radius_m = 600", "stop_speed_knots = 1.5", "stop_minutes = 0.5", "stale_seconds = 10",
        "[keys]", 'signing = "keys/ship.key"',
    ]
    for r in demo.recipients:
        out += ["[[ledger.recipients]]", f"name = {_toml_str(r.name)}",
                f"public_key = {_toml_str(str(r.public_key.relative_to(home)))}",
                f"kinds = {json.dumps(list(r.kinds))}"]
    out += ["[purge]", "enabled = true", "after_hours = 0"]
    for i, s in enumerate(stops):
        arrive = start + timedelta(days=i * per_stop)
        out += [
            "[[stops]]", f"community = {_toml_str(s.community)}", f"lat = {s.lat}", f"lon = {s.lon}",
            f'arrive = "{arrive.isoformat()}"', f'depart = "{(arrive + timedelta(days=per_stop - 1)).isoformat()}"',
            f"stations = {json.dumps(list(s.stations))}",
        ]
    return "\n".join(out) + "\n"


# --- the GPS receiver --------------------------------------------------------------------------


class GpsFeed(threading.Thread):
    """A receiver on a pseudo-terminal behind a stable path, as /dev/serial/by-id gives.

    It sails leg by leg and waits at each stop until released; it can be
    unplugged (the pseudo-terminal disappears) and plugged in again.
    """

    def __init__(self, cfg: config_mod.ShipConfig, link: Path, speed_kn: float, rate_hz: float) -> None:
        super().__init__(name="gps-feed", daemon=True)
        self.link = link
        self.rate_hz = rate_hz
        self.speed_kn = speed_kn
        self.points = track_route.route(cfg, lead_in=True)
        self.stop_at = [track_route.stop_index(self.points, s.community) for s in cfg.stops]
        self.clock = utcnow().replace(microsecond=0)
        self.leg = 0  # index of the stop the ship is heading for or waiting at
        self.released = threading.Event()
        self.finished = threading.Event()
        self.stopping = threading.Event()
        self.plugged = threading.Event()
        self.plugged.set()
        self.sink: PtySink | None = None
        self.bursts = 0
        self._plug()

    def _plug(self) -> None:
        self.sink = PtySink(write_timeout=0.05)
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self.sink.path)
        os.replace(tmp, self.link)

    def unplug(self, receiver_seconds: float) -> None:
        """Pull the cable for a while (receiver time): the port vanishes, then comes back."""
        self.plugged.clear()
        self.link.unlink(missing_ok=True)
        if self.sink is not None:
            self.sink.close()
            self.sink = None
        time.sleep(receiver_seconds / self.rate_hz)
        self._plug()
        self.plugged.set()

    def release(self) -> None:
        """Leave the stop the ship is waiting at."""
        self.released.set()

    def _emit(self, lat: float, lon: float, speed: float, course: float) -> None:
        from devices.simulator import Position

        self.clock += timedelta(seconds=1)
        self.bursts += 1
        if not self.plugged.is_set() or self.sink is None:
            return
        pos = Position(lat, lon, speed, course, speed > 0)
        data = "".join(s + "\r\n" for s in epoch_sentences(self.clock, pos)).encode()
        with contextlib.suppress(OSError):  # unplugged while writing
            self.sink.write(data)

    def run(self) -> None:
        period = 1.0 / self.rate_hz
        start = 0
        for leg, end in enumerate(self.stop_at):
            self.leg = leg
            if end is None:
                continue
            waypoints = [Waypoint(p.lat, p.lon) for p in self.points[start:end + 1]]
            if len(waypoints) > 1:
                voyage = Voyage(waypoints, speed_kn=self.speed_kn)
                t = 0.0
                while t <= voyage.duration and not self.stopping.is_set():
                    pos = voyage.at(t)
                    if pos is None:
                        break
                    self._emit(pos.lat, pos.lon, pos.speed_kn, pos.course)
                    t += 1.0
                    time.sleep(period)
            here = self.points[end]
            self.released.clear()
            while not self.released.is_set() and not self.stopping.is_set():
                self._emit(here.lat, here.lon, 0.0, 0.0)
                time.sleep(period)
            start = end
        # After the last stop: sail on downstream a few kilometres, so the departure is seen.
        last = self.points[start]
        prev = self.points[start - 1] if start > 0 else last
        away = Voyage([Waypoint(last.lat, last.lon),
                       Waypoint(last.lat + (last.lat - prev.lat) * 0.5, last.lon + (last.lon - prev.lon) * 0.5)],
                      speed_kn=self.speed_kn)
        t = 0.0
        while not self.stopping.is_set():
            pos = away.at(min(t, away.duration))
            self._emit(pos.lat, pos.lon, self.speed_kn if t < away.duration else 0.0, pos.course)
            t += 1.0
            time.sleep(period)
        if self.sink is not None:
            self.sink.close()


# --- a link that fails once -------------------------------------------------------------------


class CuttingRelay(threading.Thread):
    """A TCP relay on 127.0.0.1 that cuts its first connection after `cut_after` bytes upstream."""

    def __init__(self, target_port: int, cut_after: int) -> None:
        super().__init__(name="cutting-relay", daemon=True)
        self.target_port = target_port
        self.cut_after = cut_after
        self.cuts = 0
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            cut = self.cut_after if self.cuts == 0 else None
            if cut is not None:
                self.cuts += 1
            threading.Thread(target=self._pipe, args=(client, upstream, cut), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, cut: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if cut is not None and sent + len(data) >= cut:
                    dst.sendall(data[: max(0, cut - sent)])
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.closed = True
        self.server.close()


# --- the campaign ------------------------------------------------------------------------------


def _pias(*args: str) -> list[str]:
    return [sys.executable, "-m", "vessel.cli", *args]


class Campaign:
    def __init__(self, params: SimParams, say=print) -> None:
        self.params = params
        self.say = say
        self.own_home = params.home is None
        root = Path(tempfile.mkdtemp(prefix="pias-campaign-")) if params.home is None else params.home
        self.root = root
        self.home = home_mod.Home(root / "ship")
        self.env = {**os.environ, "PIAS_HOME": str(self.home.path)}
        self.env.pop("PIAS_KEY_PASSPHRASE", None)
        self.procs: list[subprocess.Popen] = []
        self.summary = Summary(home=self.home.path)
        self.db: sqlite3.Connection | None = None

    # -- set-up --------------------------------------------------------------------------------

    def _setup(self) -> config_mod.ShipConfig:
        if self.home.path.exists():
            raise SimulationFailed(f"{self.home.path} already exists: a simulated campaign needs a fresh folder")
        self.root.mkdir(parents=True, exist_ok=True)
        cfg_file = self.root / "ship.toml"
        cfg_file.write_text(sim_config(self.params, self.home.path, utcnow().date()), encoding="utf-8")
        cfg = home_mod.init(self.home, config_file=cfg_file, demo=True)
        ledger_link.create_demo_keys(self.home, cfg)
        self.db = sqlite3.connect(self.home.db_path, timeout=30)
        self.events_before = self.db.execute("SELECT count(*) FROM events").fetchone()[0]
        return cfg

    def _spawn(self, args: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
        self.procs.append(p)
        return p

    def _wait_for(self, what: str, predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise SimulationFailed(f"timed out waiting for {what}")

    def _current_stop(self) -> tuple[int, str] | None:
        row = self.db.execute(
            "SELECT id, community FROM stops WHERE arrived_at IS NOT NULL AND departed_at IS NULL"
        ).fetchone()
        return (row[0], row[1]) if row else None

    def _open_steps(self, stop_id: int) -> int:
        marks = ",".join("?" * len(FINAL_STATES))
        return self.db.execute(
            f"SELECT count(*) FROM steps s JOIN tickets t ON t.id = s.ticket_id "
            f"WHERE t.stop_id = ? AND s.state NOT IN ({marks})", (stop_id, *FINAL_STATES),
        ).fetchone()[0]

    # -- one day at a stop ----------------------------------------------------------------------

    def _serve_day(self, stop_id: int, stations: list[str], crowd: int, day_seed: int, kill_one: bool) -> None:
        stop_file = self.root / f"stop-{stop_id}-{day_seed}"
        desks = {}
        for station in stations:
            for n in range(1, self.params.desks + 1):
                code = f"{station}-{n}"
                desks[code] = self._spawn([sys.executable, "-m", "vessel.sim_worker", "desk", str(self.home.path),
                                           code, str(day_seed * 100 + n), str(stop_file)])
        reg = self._spawn([sys.executable, "-m", "vessel.sim_worker", "register", str(self.home.path),
                           str(crowd), str(day_seed)])
        if kill_one:
            # Once some tickets are being served, a desk's computer dies; systemd starts it again.
            self._wait_for("the first attentions", lambda: self.db.execute(
                "SELECT count(*) FROM steps WHERE state = 'done'").fetchone()[0] >= 3, 120)
            victim = sorted(desks)[0]
            desks[victim].send_signal(signal.SIGKILL)
            desks[victim].wait()
            self.summary.faults.append(f"desk-kill: {victim} killed with SIGKILL and restarted")
            desks[victim] = self._spawn([sys.executable, "-m", "vessel.sim_worker", "desk", str(self.home.path),
                                         victim, str(day_seed * 100 + 99), str(stop_file)])
        _out, err = reg.communicate(timeout=600)
        if reg.returncode != 0:
            raise SimulationFailed(f"the registration desk failed: {err.strip()[-500:]}")
        self._wait_for("every ticket of the day to be dealt with", lambda: self._open_steps(stop_id) == 0, 600)
        stop_file.touch()
        for code, p in desks.items():
            _out, err = p.communicate(timeout=120)
            if p.returncode != 0:
                raise SimulationFailed(f"desk {code} failed: {err.strip()[-500:]}")

    # -- the whole run --------------------------------------------------------------------------

    def run(self) -> Summary:
        t0 = time.monotonic()
        try:
            cfg = self._setup()
            feed = GpsFeed(cfg, self.home.path / "gps-port", self.params.speed_kn, self.params.rate_hz)
            gps = self._spawn(_pias("gps"))
            feed.start()
            per_stop = max(1, self.params.days // len(cfg.stops))
            for i, stop in enumerate(cfg.stops):
                if i == 1 and "gps-unplug" in self.params.faults:
                    feed.unplug(receiver_seconds=180)
                    self.summary.faults.append("gps-unplug: receiver unplugged for 3 minutes on the way")
                self._wait_for(f"arrival at {stop.community}",
                               lambda c=stop.community: (self._current_stop() or (0, ""))[1] == c, 300)
                stop_id = self._current_stop()[0]
                self.say(f"  {stop.community}: llegada detectada por GPS")
                for day in range(per_stop):
                    crowd = math.ceil(self.params.citizens_per_stop / per_stop)
                    kill = "desk-kill" in self.params.faults and i == 0 and day == 0
                    self._serve_day(stop_id, list(stop.stations), crowd, self.params.seed * 1000 + i * 10 + day, kill)
                self.summary.stops.append(stop.community)
                feed.release()
                self._wait_for(f"departure from {stop.community}", lambda sid=stop_id: self.db.execute(
                    "SELECT departed_at IS NOT NULL FROM stops WHERE id = ?", (sid,)).fetchone()[0] == 1, 300)
                self.say(f"  {stop.community}: salida detectada por GPS")
            feed.stopping.set()
            feed.join(timeout=10)
            gps.send_signal(signal.SIGTERM)
            _out, err = gps.communicate(timeout=60)
            if gps.returncode != 0:
                raise SimulationFailed(f"the GPS daemon failed: {err.strip()[-500:]}")
            self.summary.timings["at_sea_and_stops_s"] = round(time.monotonic() - t0, 1)
            self._offload_and_ingest()
            self._check()
        finally:
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            if self.db is not None:
                self.db.close()
        self.summary.timings["total_s"] = round(time.monotonic() - t0, 1)
        return self.summary

    def _offload_and_ingest(self) -> None:
        ministry = self.home.keys_dir / "ministry-demo"
        inbox = self.root / "ministry-inbox"
        receiver = self._spawn(_pias("receive", "--listen", "127.0.0.1:0", "--inbox", str(inbox),
                                     "--key", str(ministry / "receipts.key"), "--ships", str(ministry / "ships")))
        line = receiver.stdout.readline()
        if "http://127.0.0.1:" not in line:
            raise SimulationFailed(f"the receiver did not start: {line.strip()} {receiver.stderr.read()[-300:]}")
        port = int(line.split("http://127.0.0.1:")[1].split()[0].rstrip("/"))
        url = f"http://127.0.0.1:{port}"
        relay = None
        if "upload-cut" in self.params.faults:
            pending = self.db.execute("SELECT sum(length(body)) FROM ledger_entries").fetchone()[0] or 0
            relay = CuttingRelay(port, cut_after=max(2048, pending // 3))
            relay.start()
            url = relay.url
        self.central = self.root / "central.db"
        t = time.monotonic()
        for offloads in range(1, 4):  # the second run sends what the first run's purge recorded
            r = subprocess.run(_pias("offload", "--to", url), env=self.env, capture_output=True, text=True,
                               timeout=600)
            if r.returncode != 0 and offloads > 2:
                raise SimulationFailed(f"offload failed: {(r.stdout + r.stderr).strip()[-500:]}")
            if r.returncode == 0 and offloads >= 2:
                break
        self.summary.timings["offload_s"] = round(time.monotonic() - t, 1)
        if relay is not None:
            self.summary.faults.append(f"upload-cut: the link was cut {relay.cuts} time(s) mid-upload")
            relay.close()
        t = time.monotonic()
        for _ in range(2):  # ingesting twice must not double anything
            r = subprocess.run(_pias("ingest", str(inbox / self.home.load_config().ship_id), "--key",
                                     str(ministry / "midis.key"), "--db", str(self.central),
                                     "--ships", str(ministry / "ships")),
                               env=self.env, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise SimulationFailed(f"ingest failed: {(r.stdout + r.stderr).strip()[-500:]}")
        self.summary.timings["ingest_s"] = round(time.monotonic() - t, 1)
        self.summary.bundle_bytes = sum(p.stat().st_size for p in inbox.rglob("*.pias"))
        receiver.send_signal(signal.SIGTERM)
        receiver.communicate(timeout=30)

    def _check(self) -> None:
        s = self.summary
        db = self.db
        s.citizens = db.execute("SELECT count(*) FROM citizens").fetchone()[0]
        s.tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        s.steps = Counter(dict(db.execute("SELECT state, count(*) FROM steps GROUP BY state").fetchall()))
        s.track_points = db.execute("SELECT count(*) FROM track_points").fetchone()[0]
        expected = self.params.citizens_per_stop * len(s.stops)
        open_steps = sum(n for state, n in s.steps.items() if state not in FINAL_STATES)
        s.checks.append(Check(
            "every citizen served or accounted for",
            open_steps == 0 and s.tickets >= expected and s.citizens >= expected,
            f"{s.citizens} citizens, {s.tickets} tickets; steps: "
            + ", ".join(f"{k} {v}" for k, v in sorted(s.steps.items())),
        ))
        arrivals = db.execute(
            "SELECT count(*) FROM stops WHERE arrived_by = 'gps' AND departed_by = 'gps'"
        ).fetchone()[0]
        s.checks.append(Check("arrival and departure detected by GPS at every stop", arrivals == len(s.stops),
                              f"{arrivals} of {len(s.stops)} stops"))
        plain = Counter(k for (k,) in db.execute("SELECT kind FROM events WHERE id > ?", (self.events_before,)))
        central = sqlite3.connect(self.central)
        try:
            got = Counter(k for (k,) in central.execute("SELECT kind FROM events"))
            seqs = [q for (q,) in central.execute("SELECT seq FROM events ORDER BY seq")]
        finally:
            central.close()
        sealed = [q for (q,) in db.execute("SELECT seq FROM ledger_entries WHERE key_id <> '' ORDER BY seq")]
        s.events = sum(plain.values())
        s.central_events = sum(got.values())
        s.checks.append(Check(
            "every event in the central database exactly once",
            plain == got and seqs == sealed and len(set(seqs)) == len(seqs),
            f"{s.events} events on board, {s.central_events} in the central database",
        ))
        r = subprocess.run(_pias("ledger", "verify"), env=self.env, capture_output=True, text=True, timeout=600)
        s.checks.append(Check("the chain verifies", r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1]
                              if (r.stdout + r.stderr).strip() else ""))
        left = db.execute(
            "SELECT count(*) FROM citizens WHERE purged_at IS NULL OR dni IS NOT NULL OR given_names <> ''"
        ).fetchone()[0]
        unpurged = db.execute(
            "SELECT count(*) FROM stops WHERE arrived_at IS NOT NULL AND purged_at IS NULL"
        ).fetchone()[0]
        s.checks.append(Check("personal data purged from the working tables", left == 0 and unpurged == 0,
                              f"{left} citizens still named, {unpurged} stops not purged"))

    def cleanup(self) -> None:
        if self.own_home:
            shutil.rmtree(self.root, ignore_errors=True)
