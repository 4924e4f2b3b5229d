"""Several terminals, one ship: a change made at one terminal shows at the others within a second."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable

from vessel import home as home_mod
from vessel import operators, tickets
from vessel.clock import FixedClock, iso

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.register_assert_rewrite("staff_fixtures")
from staff_fixtures import build, screen_text, settle  # noqa: E402

TERMINAL = Path(__file__).with_name("desk_terminal.py")


@pytest.fixture
def waiting_three(ship, at_stop):
    registrar = operators.get(ship, "registro")
    made = [tickets.issue(ship, registrar, ["salud"]) for _ in range(3)]
    tickets.open_desk(ship, operators.get(ship, "salud"), "salud-1")
    return made


async def shows_within(pilot, seconds: float, condition) -> bool:
    """Poll the screen (not the database) until condition() holds; `seconds` only bounds a failing test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if condition():
            return True
    return condition()


def queue_rows(app) -> int:
    return app.screen.query_one("#waiting", DataTable).row_count


async def test_a_call_on_another_connection_shows_without_a_key(ship, waiting_three, demo_home):
    app = build(ship, desk="salud-1", actor=operators.get(ship, "salud"))
    other = home_mod.open_ship(demo_home, clock=FixedClock(ship.now()))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert queue_rows(app) == 3
            boss = operators.get(other, "coordinador")
            tickets.open_desk(other, boss, "salud-2")
            called = tickets.call_next(other, boss, "salud-2")
            assert app.watcher.interval <= 0.5  # the change check runs twice a second
            assert await shows_within(pilot, 3, lambda: queue_rows(app) == 2)
            assert f"salud-2 {called.label} (llamado)" in screen_text(app)
            assert app.watcher.seen == ship.conn.execute("PRAGMA data_version").fetchone()[0]
    finally:
        other.close()


@pytest.mark.slow
async def test_two_app_instances_in_two_processes(ship, waiting_three, demo_home):
    """Terminal A runs here; terminal B is the same app in its own process calling at salud-2."""
    app = build(ship, desk="salud-1", actor=operators.get(ship, "salud"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert queue_rows(app) == 3
        done = subprocess.run(
            [sys.executable, str(TERMINAL), str(demo_home.path), iso(ship.now()), "coordinador", "salud-2", "o", "n"],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        label = done.stdout.strip().splitlines()[-1]
        assert label.startswith("S-")
        assert await shows_within(pilot, 3, lambda: f"salud-2 {label} (llamado)" in screen_text(app))
        assert queue_rows(app) == 2
        # And back: what A does, B's database sees (A's own refresh follows its own action).
        await pilot.press("n")
        await settle(pilot)
        mine = tickets.current_at_desk(ship, "salud-1")
        assert mine is not None and mine.label != label
        assert mine.label in screen_text(app)
