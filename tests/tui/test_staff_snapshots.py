"""Screenshots of the staff screens at 80x24 and 120x40, on a fixed demo day with a fixed clock.

Reviewed by eye before being accepted (pytest --snapshot-update); a change
in any of them fails until it is looked at again.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from tui.widgets.citizen_form import CitizenForm
from vessel import citizens, operators, tickets

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.register_assert_rewrite("staff_fixtures")
from screen_host import free_desk  # noqa: E402
from staff_fixtures import build, settle, settled_screen  # noqa: E402

# The busy demo day's fixtures (busy_ship, busy_clock...) come from the same module.
pytest_plugins = ["staff_fixtures"]

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def known_citizen(busy_ship):
    """A citizen registered with a DNI earlier in the day (the DNI is outside the range the demo draws from)."""
    registrar = operators.get(busy_ship, "registro")
    return citizens.register(busy_ship, registrar, given_names="Gladys", surnames="Ahuanari Grefa", dni="31727445",
                             birth_date=date(1969, 4, 2), sex="F", language="es")


@pytest.fixture
def salud_queue(busy_ship, busy_clock):
    """Salud-1 serving a citizen for 4 minutes while three late arrivals wait (one preferential).

    Played after the demo day, in order, through the domain: who the simulated day left at
    which desk is an accident of the simulation, so salud-1 first finishes whatever it had.
    """
    registrar, nurse = operators.get(busy_ship, "registro"), operators.get(busy_ship, "salud")
    end = busy_clock.moment

    def at(minutes: int) -> None:
        busy_clock.moment = end + timedelta(minutes=minutes)

    free_desk(busy_ship, nurse, "salud-1")
    elder = citizens.register(busy_ship, registrar, given_names="José Jhon", surnames="Tanchiva Yumbo",
                              dni="31845072", birth_date=date(1959, 5, 20), sex="M", language="maj")
    served = tickets.issue(busy_ship, registrar, ["salud", "programas"], citizen_id=elder.id)
    for minute, cls in ((5, None), (18, "gestante")):
        at(minute)
        tickets.issue(busy_ship, registrar, ["salud", "banco"] if cls else ["salud"], priority_class=cls)
    at(25)
    tickets.call_ticket(busy_ship, nurse, "salud-1", served.number)
    at(26)
    tickets.start(busy_ship, nurse, "salud-1")
    at(27)
    tickets.issue(busy_ship, registrar, ["salud"])
    at(30)
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
def test_registration_services(snap_compare, busy_ship, known_citizen, size):
    async def services(pilot):
        await settle(pilot)
        pilot.app.screen.query_one("#search", Input).value = known_citizen.dni
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
