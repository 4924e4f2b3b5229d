"""The registration desk: find as you type, register with inline checks that keep what was typed, issue, print."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Input, SelectionList

from devices import printer
from tui.factory import make_app
from tui.screens.registration import RegistrationScreen
from tui.widgets.citizen_form import CitizenForm
from tui.widgets.ticket_number import TicketNumber
from vessel import citizens, operators, ticket_print, tickets
from vessel.config import PrinterSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.register_assert_rewrite("staff_fixtures")
from staff_fixtures import build, notices, screen_text, settle, type_text  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devices"))
from fake_printer import FakePrinter  # noqa: E402


@pytest.fixture
def people(ship, at_stop):
    registrar = operators.get(ship, "registro")
    return [
        citizens.register(ship, registrar, given_names="María Rosa", surnames="Núñez Grefa", dni="45873412",
                          birth_date="1990-04-02", sex="F"),
        citizens.register(ship, registrar, given_names="José", surnames="Grefa Andi", dni="45870001",
                          birth_date="1950-01-01", sex="M"),
        citizens.register(ship, registrar, given_names="Rosa", surnames="Tapullima", birth_date="2001-07-30"),
    ]


def desk(ship, **kw):
    return build(ship, actor=operators.get(ship, "registro"), **kw)


async def mark(pilot, screen: RegistrationScreen, *codes: str) -> None:
    """Mark stations in the services list in this order, with the keys an operator uses."""
    stations = screen.query_one("#stations", SelectionList)
    for code in codes:
        index = next(i for i in range(stations.option_count) if stations.get_option_at_index(i).value == code)
        await pilot.press("home", *["down"] * index, "space")
    await settle(pilot)


async def test_find_as_you_type_by_dni_prefix_and_folded_name(ship, people):
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#results", DataTable)
        await type_text(pilot, "4587")
        assert table.row_count == 2
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "nunez")
        assert [c.full_name for c in screen.results] == ["María Rosa Núñez Grefa"]
        await pilot.press(*["backspace"] * 5)
        await type_text(pilot, "rosa")
        assert table.row_count == 2
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert screen.step == "services"
        assert screen.citizen.full_name == "Rosa Tapullima"
        assert "Rosa Tapullima · sin DNI" in screen_text(app)


@pytest.mark.parametrize(("size", "whole"), [((80, 24), False), ((120, 40), True)])
async def test_a_long_name_is_shown_whole_where_it_fits_and_marked_where_it_is_cut(ship, at_stop, size, whole):
    registrar = operators.get(ship, "registro")
    long = citizens.register(ship, registrar, given_names="Flor de María Milagros",
                             surnames="Shiguango Mamallacta", birth_date="1988-03-09", sex="F")
    app = desk(ship)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await type_text(pilot, "shiguango")
        await settle(pilot)
        shown = screen_text(app)
        # 43 characters: more than the name column has at 80 columns, less than what 120 leave it.
        if whole:
            assert long.full_name in shown
        else:
            assert long.full_name not in shown and long.full_name[:29] + "…" in shown


async def test_new_citizen_errors_show_inline_and_nothing_typed_is_lost(ship, people):
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await type_text(pilot, "4512")
        await pilot.press("f3")
        await settle(pilot)
        form = screen.query_one(CitizenForm)
        assert screen.step == "form"
        assert form.value("dni") == "4512"  # carried from the search
        assert app.focused is form.query_one("#f-dni", Input)
        await pilot.press("tab", "tab")  # past "no DNI", into the given names
        await type_text(pilot, "Wílder")
        await pilot.press("tab")
        await type_text(pilot, "Ñuflo")
        await pilot.press("tab")
        await type_text(pilot, "2030-01-01")
        await pilot.press("tab")
        await type_text(pilot, "q")  # not F, M or X: the field refuses the letter
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "El DNI tiene 8 dígitos; «4512» tiene 4" in text
        assert "La fecha de nacimiento no puede ser futura" in text
        assert "Corrija los datos marcados en rojo; nada de lo escrito se perdió" in notices(app)
        assert form.data()["given_names"] == "Wílder"
        assert form.data()["surnames"] == "Ñuflo"
        assert form.value("sex") == ""
        assert app.focused is form.query_one("#f-dni", Input)
        assert citizens.find(ship, "Wílder") == []

        # Going back to the search and returning keeps the form as it was.
        await pilot.press("escape")
        await settle(pilot)
        assert screen.step == "find"
        await pilot.press("f3")
        await settle(pilot)
        assert form.value("given_names") == "Wílder" and form.value("birth_date") == "2030-01-01"

        # Fixing each field clears its message as it is typed.
        await type_text(pilot, "7788")
        assert "El DNI tiene 8 dígitos" not in screen_text(app)
        birth = form.query_one("#f-birth_date", Input)
        birth.focus()
        await pilot.press(*["backspace"] * 10)
        await type_text(pilot, "1988-12-24")
        assert "no puede ser futura" not in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        found = citizens.by_dni(ship, "45127788")
        assert found is not None and found.full_name == "Wílder Ñuflo"
        assert screen.step == "services" and screen.citizen.id == found.id
        assert "Wílder Ñuflo registrado" in notices(app)
        assert form.value("given_names") == ""  # saved, so the form starts clean next time


async def test_a_dni_already_registered_is_refused_under_the_dni(ship, people):
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f3")
        await settle(pilot)
        form = screen.query_one(CitizenForm)
        form.query_one("#f-dni", Input).value = "45873412"
        form.query_one("#f-given_names", Input).value = "Otra"
        form.query_one("#f-surnames", Input).value = "Persona"
        await pilot.press("ctrl+s")
        await settle(pilot)
        message = "El DNI 45873412 ya está registrado a nombre de María Rosa Núñez Grefa"
        assert message in notices(app)
        assert message in str(form.query_one("#e-dni").render())
        assert screen.step == "form" and form.value("given_names") == "Otra"


async def test_no_dni_box_and_required_names(ship, people):
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f3")
        await settle(pilot)
        form = screen.query_one(CitizenForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "Escriba el DNI o marque «sin DNI»" in text
        assert "Falta un dato obligatorio: Nombres" in text
        assert "Falta un dato obligatorio: Apellidos" in text
        form.query_one("#no-dni", Checkbox).value = True
        form.query_one("#f-given_names", Input).value = "Nilo"
        form.query_one("#f-surnames", Input).value = "Pacaya"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.citizen is not None and screen.citizen.dni is None


async def test_issue_a_ticket_for_stations_in_the_order_marked(ship, people):
    elder = people[1]
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await type_text(pilot, "45870001")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.step == "services"
        # José is 76: the age class is marked for him.
        assert screen._priority() == "adulto_mayor"
        assert "Salud · 0 en espera · 0 vent. abierta(s)" in screen_text(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "Elija al menos un servicio" in notices(app)
        await mark(pilot, screen, "banco", "salud")
        assert "Recorrido: 1. Banco de la Nación → 2. Salud" in screen_text(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert screen.step == "ticket"
        ticket = screen.ticket
        assert [s.station for s in ticket.steps] == ["banco", "salud"]
        assert ticket.citizen_id == elder.id and ticket.priority_class == "adulto_mayor"
        assert tickets.get_ticket(ship, ticket.id).steps[0].state == "waiting"
        assert screen.query_one("#issued", TicketNumber).query_one("Digits").value == ticket.label
        text = screen_text(app)
        assert "Turno B-001" in text and "Espera estimada en Banco de la Nación" in text
        await pilot.press("enter")
        await settle(pilot)
        assert screen.step == "find" and screen.query_one("#search", Input).value == ""


async def test_unregistered_ticket_with_a_priority_marked_by_hand(ship, people):
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f4")
        await settle(pilot)
        assert "Turno sin registrar al ciudadano" in screen_text(app)
        await mark(pilot, screen, "salud")
        await pilot.press("tab", "down", "space")  # from the stations to the priority list: "Gestante"
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        ticket = screen.ticket
        assert ticket.citizen_id is None and ticket.priority_class == "gestante"
        assert ticket.steps[0].priority


async def test_queue_lengths_follow_other_terminals(ship, people):
    app = desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert "Mujer y familia · 0 en espera" in screen_text(app)
        tickets.issue(ship, operators.get(ship, "coordinador"), ["mujer"])
        app.watcher.announce()  # what the watcher does when another process commits
        await settle(pilot)
        assert "Mujer y familia · 1 en espera" in screen_text(app)


def with_printer(ship, port: str) -> None:
    ship.config = dataclasses.replace(ship.config, printer=PrinterSettings(port=port, baud=19200))


@pytest.fixture
def fake_printer():
    """An ESC/POS printer at the far end of a pseudo-terminal: keeps the bytes, answers status requests."""
    made = FakePrinter()
    yield made
    made.close()


async def issue_unregistered(pilot, station: str) -> None:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    await mark(pilot, pilot.app.screen, station)
    await pilot.press("ctrl+t")
    await settle(pilot)
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)


async def test_ticket_is_printed_in_a_worker_and_reprinted(ship, people, fake_printer):
    with_printer(ship, fake_printer.path)
    app = build(ship, actor=operators.get(ship, "registro"), print_ticket=ticket_print.print_ticket)
    async with app.run_test(size=(80, 24)) as pilot:
        await issue_unregistered(pilot, "reniec")
        assert "Turno 001 impreso" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
    data = bytes(fake_printer.received)
    assert data.count(printer.FEED_AND_CUT) == 2
    assert b"R-001 Identidad (DNI)" in data
    assert "PIAS Río Napo".encode(printer.ENCODING) in data


async def test_a_missing_printer_gives_a_notice_and_the_ticket_stands(ship, people, tmp_path):
    with_printer(ship, str(tmp_path / "ttyUSB-printer"))
    app = desk(ship, print_ticket=ticket_print.print_ticket)
    async with app.run_test(size=(80, 24)) as pilot:
        await issue_unregistered(pilot, "salud")
        ticket = app.screen.ticket
        assert tickets.get_ticket(ship, ticket.id).steps[0].state == "waiting"
        notice = notices(app)[-1]
        assert notice.startswith("No se imprimió el turno 001: No se encuentra la impresora")
        assert "El turno 001 existe" in notice
        assert app.screen.step == "ticket"
        assert "No se imprimió el turno 001" in screen_text(app)


def test_the_factory_prints_only_when_a_printer_is_configured(ship, tmp_path):
    assert make_app(ship).session.print_ticket is None
    with_printer(ship, str(tmp_path / "ttyUSB0"))
    assert make_app(ship).session.print_ticket is ticket_print.print_ticket
