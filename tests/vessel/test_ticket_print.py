"""The ticket slip from a real ticket, printed to a fake printer on a pseudo-terminal."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest

from devices import printer
from vessel import ticket_print, tickets
from vessel.config import PrinterSettings
from vessel.errors import Refused

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devices"))
from fake_printer import FakePrinter


@pytest.fixture
def fake():
    made = []

    def make(**kw) -> FakePrinter:
        made.append(FakePrinter(**kw))
        return made[-1]

    yield make
    for p in made:
        p.close()


def with_printer(ship, port: str) -> None:
    ship.config = dataclasses.replace(ship.config, printer=PrinterSettings(port=port, baud=19200))


def test_slip_words_the_ticket_for_the_citizen(ship, at_stop, coordinator):
    mother = tickets.issue(ship, coordinator, ["salud", "reniec"], priority_class="gestante")
    s = ticket_print.slip(ship, mother)
    assert s["ship"] == "PIAS Río Napo" and s["stop"] == "Mazán"
    assert s["number"] == "001"
    assert s["stations"] == ["1. S-001 Salud", "2. R-001 Identidad (DNI)"]
    assert s["priority"] == "Atención preferente: Gestante"
    # Nobody ahead and no desk open yet: from nothing up to one (default) service time.
    assert s["wait"] == "Espera estimada: 0 a 12 min"
    assert s["issued"] == "02/11/2026 08:00"


def test_the_wait_grows_with_the_queue_ahead(ship, at_stop, coordinator):
    for _ in range(4):
        tickets.issue(ship, coordinator, ["banco"])
    last = tickets.issue(ship, coordinator, ["banco"])
    tickets.open_desk(ship, coordinator, "banco-1")
    low, high = ticket_print.wait_range(ship, last.steps[0])
    assert (low, high) == (16.0, 60.0)  # four ahead at one desk, 4 to 12 minutes each
    assert ticket_print.slip(ship, last)["wait"] == "Espera estimada: 16 a 60 min"


def test_printed_on_the_configured_printer(ship, at_stop, coordinator, fake):
    p = fake()
    with_printer(ship, p.path)
    ticket = tickets.issue(ship, coordinator, ["programas"])
    written = ticket_print.print_ticket(ship, ticket, timeout=1.0)
    deadline = time.monotonic() + 3
    while not p.received.endswith(printer.FEED_AND_CUT) and time.monotonic() < deadline:
        time.sleep(0.01)
    data = bytes(p.received)
    assert written == len(printer.render(printer.TicketText(**{
        k: (tuple(v) if k == "stations" else v) for k, v in ticket_print.slip(ship, ticket).items()
    })))
    assert printer.SIZE_DOUBLE + printer.BOLD_ON + b"001\n" in data
    assert "1. P-001 Programas sociales".encode("cp850") in data
    assert "Maz\xe1n".encode("cp850") in data


def test_a_printer_out_of_paper_is_a_clear_refusal_and_the_ticket_stands(ship, at_stop, coordinator, fake):
    p = fake(paper=0x72)
    with_printer(ship, p.path)
    ticket = tickets.issue(ship, coordinator, ["salud"])
    with pytest.raises(Refused) as err:
        ticket_print.print_ticket(ship, ticket, timeout=1.0)
    assert err.value.code == "ticket_print.paper_out"
    assert "no tiene papel" in err.value.message() and "001" in err.value.message()
    assert tickets.get_ticket(ship, ticket.id).steps[0].state == "waiting"


def test_missing_and_unconfigured_printers(ship, at_stop, coordinator, tmp_path):
    ticket = tickets.issue(ship, coordinator, ["salud"])
    with pytest.raises(Refused) as err:
        ticket_print.print_ticket(ship, ticket)
    assert err.value.code == "ticket_print.no_printer"
    with_printer(ship, str(tmp_path / "ttyUSB7"))
    with pytest.raises(Refused) as err:
        ticket_print.print_ticket(ship, ticket, timeout=0.3)
    assert err.value.code == "ticket_print.missing"
    assert "ttyUSB7" in err.value.message()
