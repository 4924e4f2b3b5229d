"""Fixtures and helpers for the staff terminal's tests: real ships on disk, the app as the CLI builds it.

Test modules import what they use from here (the tests folder has no
package, so pytest puts this folder on the path). The busy ship is one
simulated day at Mazán with a fixed seed and end time, made once per session
and copied per test, so screenshots of it never change.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from screen_host import DAY_END, demo_day_template  # noqa: F401 - the shared day, as a fixture here too
from textual.pilot import Pilot

from tui.app import PiasApp
from tui.factory import make_app
from vessel import home as home_mod
from vessel.clock import FixedClock
from vessel.ship import Ship

DEMO_PINS = {"coordinador": "1234", "registro": "1111", "puente": "2222", "salud": "3333", "banco": "4444",
             "reniec": "5555", "programas": "6666", "mujer": "7777"}


@pytest.fixture(scope="session")
def busy_template(request: pytest.FixtureRequest) -> Path:
    """The screens' demo day (150 citizens, seed 7, ending at DAY_END): one seeded day for every TUI test."""
    return request.getfixturevalue("demo_day_template")


@pytest.fixture
def busy_home(tmp_path: Path, busy_template: Path) -> home_mod.Home:
    shutil.copytree(busy_template, tmp_path / "busy")
    return home_mod.Home(tmp_path / "busy")


@pytest.fixture
def busy_clock() -> FixedClock:
    return FixedClock(DAY_END)


@pytest.fixture
def busy_ship(busy_home: home_mod.Home, busy_clock: FixedClock) -> Iterator[Ship]:
    s = home_mod.open_ship(busy_home, clock=busy_clock)
    yield s
    s.close()


def build(ship: Ship, **kw) -> PiasApp:
    """The app as `pias tui` builds it, without cursor blink (for stable screenshots) and, unless given, no printer."""
    kw.setdefault("print_ticket", None)
    kw.setdefault("cursor_blink", False)
    return make_app(ship, **kw)


async def settle(pilot: Pilot) -> None:
    """Let workers finish and the messages they posted be handled."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def settled_screen(pilot: Pilot) -> None:
    """Before a screenshot: as settle(), then a moment for tables to measure their rows when idle."""
    await settle(pilot)
    await pilot.pause(0.2)


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


async def sign_in(pilot: Pilot, login: str, pin: str | None = None, *, typed: bool = False) -> None:
    """Fill in the login screen and press Enter in the PIN field (key by key when `typed`)."""
    from textual.widgets import Input

    pin = DEMO_PINS[login] if pin is None else pin
    if typed:
        await type_text(pilot, login)
        await pilot.press("enter")
        await type_text(pilot, pin)
    else:
        screen = pilot.app.screen
        screen.query_one("#login", Input).value = login
        field = screen.query_one("#pin", Input)
        field.value = pin
        field.focus()
        await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


def notices(app: PiasApp) -> list[str]:
    """The texts of the notifications shown so far."""
    return [str(n.message) for n in app._notifications]


def screen_text(app: PiasApp) -> str:
    """What the top screen shows now, as plain text lines (what a person would read)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
