"""Screenshots of the staff screens at 80x24 and 120x40, on a fixed demo day with a fixed clock.

Reviewed by eye before being accepted (pytest --snapshot-update); a change
in any of them fails until it is looked at again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from tui.widgets.citizen_form import CitizenForm
from vessel import operators

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.register_assert_rewrite("staff_fixtures")
from staff_fixtures import build, settle, settled_screen  # noqa: E402

# The busy demo day's fixtures (busy_ship, busy_clock...) come from the same module.
pytest_plugins = ["staff_fixtures"]

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def salud_queue(busy_ship, busy_clock):
    """Three late arrivals waiting at salud (one preferential), issued at fixed times before the day's end."""
    from datetime import timedelta

    from vessel import tickets

    registrar = operators.get(busy_ship, "registro")
    end = busy_clock.moment
    for minutes_before, cls in ((25, None), (12, "gestante"), (3, None)):
        busy_clock.moment = end - timedelta(minutes=minutes_before)
        tickets.issue(busy_ship, registrar, ["salud", "banco"] if cls else ["salud"], priority_class=cls)
    busy_clock.moment = end
    return busy_ship


def as_operator(ship, login: str, **kw):
    return build(ship, actor=operators.get(ship, login), **kw)


@pytest.mark.parametrize("size", SIZES)
def test_login(snap_compare, busy_ship, size):
    assert snap_compare(build(busy_ship), terminal_size=size)


def test_login_wrong_pin(snap_compare, busy_ship):
    async def wrong_pin(pilot):
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#login", Input).value = "salud"
        screen.query_one("#pin", Input).value = "9999"
        screen.query_one("#pin", Input).focus()
        await pilot.press("enter")
        await settled_screen(pilot)

    assert snap_compare(build(busy_ship), terminal_size=(80, 24), run_before=wrong_pin)


@pytest.mark.parametrize("size", SIZES)
def test_registration_search(snap_compare, busy_ship, size):
    async def search(pilot):
        await settle(pilot)
        pilot.app.screen.query_one("#search", Input).value = "grefa"
        await settled_screen(pilot)

    assert snap_compare(as_operator(busy_ship, "registro"), terminal_size=size, run_before=search)


@pytest.mark.parametrize("size", SIZES)
def test_registration_form_with_errors(snap_compare, busy_ship, size):
    async def bad_form(pilot):
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#search", Input).value = "4587"
        await pilot.press("f3")
        await settle(pilot)
        form = screen.query_one(CitizenForm)
        form.query_one("#f-given_names", Input).value = "Wílder"
        form.query_one("#f-surnames", Input).value = "Ñuflo Ahuanari"
        form.query_one("#f-birth_date", Input).value = "2030-01-01"
        await pilot.press("ctrl+s")
        await settled_screen(pilot)

    assert snap_compare(as_operator(busy_ship, "registro"), terminal_size=size, run_before=bad_form)


@pytest.mark.parametrize("size", SIZES)
def test_registration_services(snap_compare, busy_ship, size):
    async def services(pilot):
        await settle(pilot)
        pilot.app.screen.query_one("#search", Input).value = "41727445"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("down", "space", "up", "space")
        await settled_screen(pilot)

    assert snap_compare(as_operator(busy_ship, "registro"), terminal_size=size, run_before=services)


@pytest.mark.parametrize("size", SIZES)
def test_registration_ticket_issued(snap_compare, busy_ship, size):
    async def issued(pilot):
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("space", "down", "down", "down", "down", "space", "ctrl+t")
        await settled_screen(pilot)

    assert snap_compare(as_operator(busy_ship, "registro"), terminal_size=size, run_before=issued)


@pytest.mark.parametrize("size", SIZES)
def test_desk_serving(snap_compare, salud_queue, size):
    app = as_operator(salud_queue, "salud", desk="salud-1")
    assert snap_compare(app, terminal_size=size, run_before=settled_screen)


def test_desk_finish_dialog(snap_compare, salud_queue):
    async def finish(pilot):
        await settle(pilot)
        await pilot.press("f")
        await settled_screen(pilot)

    app = as_operator(salud_queue, "salud", desk="salud-1")
    assert snap_compare(app, terminal_size=(80, 24), run_before=finish)


def test_desk_chooser(snap_compare, busy_ship):
    assert snap_compare(as_operator(busy_ship, "salud"), terminal_size=(80, 24), run_before=settled_screen)


def test_desk_high_contrast(snap_compare, busy_ship):
    async def contrast(pilot):
        await settle(pilot)
        await pilot.press("f2")
        await settled_screen(pilot)

    app = as_operator(busy_ship, "mujer")
    assert snap_compare(app, terminal_size=(80, 24), run_before=contrast)
