"""A small App that shows one screen on a real ship, and the fixed demo day the screen tests share.

The screen tests run each screen the way the terminal app does (a Session on
the App, the change watcher, the ship's themes), but alone, so a screen's
flows and refusals are tested without going through the login.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen

from devices.fix import Fix, Mode
from devices.gps_reader import State, Status
from tui.refresh import ChangeWatcher
from tui.session import Session
from tui.themes import DEFAULT_THEME, THEMES
from vessel import demo, operators, track
from vessel import home as home_mod
from vessel.clock import FixedClock
from vessel.ship import Ship

# The demo day ends at 16:00 in Peru (21:00 UTC), on the day the ship reaches its first stop.
DAY_END = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)


class ScreenHost(App):
    """Pushes the screen made by `make_screen` on mount; carries the Session screens expect."""

    def __init__(self, session: Session, make_screen: Callable[[], Screen], watch: bool = True) -> None:
        super().__init__()
        self.session = session
        self.make_screen = make_screen
        self.watch = watch
        self.watcher: ChangeWatcher | None = None

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        if self.watch:
            self.watcher = ChangeWatcher(self, self.session.ship.db, self.session.poll_seconds)
            self.watcher.start()
        self.push_screen(self.make_screen())


def host(ship: Ship, make_screen: Callable[[], Screen], **kw) -> ScreenHost:
    return ScreenHost(Session(ship=ship, cursor_blink=False), make_screen, **kw)


@pytest.fixture(scope="session")
def demo_day_template(tmp_path_factory: pytest.TempPathFactory, _demo_template: Path) -> Path:
    """A demo home after a full simulated day at Mazán (seed 7, ending at DAY_END), made once."""
    path = tmp_path_factory.mktemp("demo-day") / "ship"
    shutil.copytree(_demo_template, path)
    ship = home_mod.open_ship(home_mod.Home(path), clock=FixedClock(DAY_END))
    try:
        demo.run_day(ship, citizens_count=150, seed=7, end=DAY_END)
    finally:
        ship.close()
    return path


@pytest.fixture
def day_home(tmp_path: Path, demo_day_template: Path) -> home_mod.Home:
    shutil.copytree(demo_day_template, tmp_path / "ship")
    return home_mod.Home(tmp_path / "ship")


@pytest.fixture
def day_clock() -> FixedClock:
    return FixedClock(DAY_END)


@pytest.fixture
def day_ship(day_home: home_mod.Home, day_clock: FixedClock) -> Ship:
    s = home_mod.open_ship(day_home, clock=day_clock)
    yield s
    s.close()


def actor(ship: Ship, login: str) -> operators.Actor:
    return operators.get(ship, login)


def free_desk(ship: Ship, who: operators.Actor, desk: str) -> None:
    """Finish whatever the demo day left at `desk`, as its operator would before calling the next one.

    Which desks are busy when the simulated day ends is an accident of the
    simulation; a test that calls at a desk frees it first.
    """
    from vessel import tickets

    busy = tickets.current_at_desk(ship, desk)
    if busy is None:
        return
    if busy.state == "called":
        tickets.start(ship, who, desk)
    tickets.finish(ship, who, desk)


OTHER_TERMINAL = Path(__file__).resolve().parent / "other_terminal.py"


def run_other(home: home_mod.Home, at: datetime, login: str, action: str, *args: str) -> list[str]:
    """Run a domain action in another process on the same ship, as a second terminal would."""
    done = subprocess.run(
        [sys.executable, str(OTHER_TERMINAL), str(home.path), at.isoformat(), login, action, *args],
        capture_output=True, text=True, timeout=60,
    )
    if done.returncode != 0:
        raise AssertionError(f"other terminal failed: {done.stderr}")
    return done.stdout.split()


async def wait_for(pilot, predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the app run until predicate() holds; fail after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen did not get there in time")


def put_gps(
    ship: Ship, lat: float, lon: float, *, speed: float | None = 0.0, course: float | None = None,
    age_s: float = 2.0, state: State = State.FIX_3D, sats: int = 9, hdop: float = 0.9,
) -> None:
    """Write the GPS status row as the daemon does, with a fix `age_s` seconds old."""
    now = ship.now()
    fix = Fix(
        time=now - timedelta(seconds=age_s), received=now - timedelta(seconds=age_s), lat=lat, lon=lon,
        speed_kn=speed, course=course, mode=Mode.FIX_3D, sats=sats, hdop=hdop,
    )
    status = Status(state=state, port="/dev/ttyUSB0", baud=9600, at=now, last_fix=fix, fix_age=age_s,
                    counters={})
    track.write_status(ship, status)


def put_track(ship: Ship, points: list[tuple[float, float, float, float]], every_s: float = 60.0) -> None:
    """Store kept track points (lat, lon, knots, course), the last one at the ship's now."""
    now = ship.now()
    for i, (lat, lon, speed, course) in enumerate(points):
        at = now - timedelta(seconds=every_s * (len(points) - 1 - i))
        fix = Fix(time=at, received=at, lat=lat, lon=lon, speed_kn=speed, course=course, mode=Mode.FIX_3D,
                  sats=9, hdop=0.9)
        track.store_point(ship, fix, track.FIRST if i == 0 else track.TIME)


@pytest.fixture
def sealed_home(day_home: home_mod.Home, tmp_path: Path) -> home_mod.Home:
    """The demo day's home with the demo's ledger keys, and a folder (a USB drive) to offload to."""
    from vessel import ledger_link

    ledger_link.create_demo_keys(day_home, day_home.load_config())
    usb = tmp_path / "usb"
    usb.mkdir()
    with open(day_home.config_path, "a", encoding="utf-8") as f:
        f.write(f'\n[offload]\nto = "{usb}"\n')
    return day_home


@pytest.fixture
def sealed_ship(sealed_home: home_mod.Home, day_clock: FixedClock) -> Ship:
    """The demo day's ship sealing its events, with a few sealed already (a ticket issued and called)."""
    from vessel import ledger_link, tickets

    s = home_mod.open_ship(sealed_home, clock=day_clock)
    ledger_link.attach(s)
    clerk = operators.get(s, "registro")
    teller = operators.get(s, "banco")
    free_desk(s, teller, "banco-1")
    tickets.issue(s, clerk, ["banco"])
    tickets.call_next(s, teller, "banco-1")
    yield s
    s.close()
