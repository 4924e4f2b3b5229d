"""The ticket printer against a pseudo-terminal standing in for the printer's serial port.

A fake printer (fake_printer.py) at the far end of the pty keeps every byte
and answers status requests, so the printer module is tested end to end over
a real tty.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import printer
from devices.printer import PrinterError, TicketText

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_printer import OFFLINE_OK, PAPER_OK, FakePrinter


@pytest.fixture
def fake():
    printers: list[FakePrinter] = []

    def make(**kw) -> FakePrinter:
        p = FakePrinter(**kw)
        printers.append(p)
        return p

    yield make
    for p in printers:
        p.close()


TICKET = dict(
    ship="PIAS Río Napo",
    stop="Mazán",
    number="014",
    stations=["1. Salud  S-014", "2. Identidad (DNI)  R-014"],
    priority="Atención preferente: Gestante",
    wait="Espera estimada: 5 a 20 min",
    issued="02/11/2026 09:14",
)


def wait_for(predicate, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)


def test_ticket_bytes_reach_the_printer(fake):
    p = fake()
    written = printer.print_ticket(p.path, 19200, **TICKET, timeout=1.0)
    expected = printer.render(TicketText(**{**TICKET, "stations": tuple(TICKET["stations"])}))
    assert written == len(expected)
    wait_for(lambda: p.received.endswith(printer.FEED_AND_CUT))
    data = bytes(p.received)
    # The two status requests come first, then exactly the rendered ticket.
    assert data == printer.STATUS_PAPER + printer.STATUS_OFFLINE + expected
    assert data.endswith(printer.FEED_AND_CUT)
    assert expected.startswith(printer.INIT + printer.CODE_PAGE)
    # Accents in the printer's code page (PC850): "á" is 0xA0, "í" is 0xA1, "ó" is 0xA2.
    assert "Mazán".encode("cp850") in data and b"Maz\xa0n" in data
    assert b"R\xa1o Napo" in data
    assert printer.SIZE_DOUBLE + printer.BOLD_ON + b"014\n" in data


@pytest.mark.parametrize(
    ("paper", "offline", "code"),
    [(0x72, OFFLINE_OK, "paper_out"), (PAPER_OK, 0x16, "cover_open"), (PAPER_OK, 0x52, "error")],
)
def test_printer_reporting_a_problem_gets_no_ticket(fake, paper, offline, code):
    p = fake(paper=paper, offline=offline)
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(p.path, 19200, **TICKET, timeout=1.0)
    assert err.value.code == code
    time.sleep(0.1)
    assert printer.INIT not in p.received


def test_printer_that_never_answers_is_reported_not_waited_for(fake):
    p = fake(paper=None, offline=None)
    started = time.monotonic()
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(p.path, 19200, **TICKET, timeout=0.3)
    assert err.value.code == "no_answer"
    assert time.monotonic() - started < 3


def test_printer_that_never_reads_is_jammed_not_a_hang(fake):
    p = fake(reads=False)
    # Fill the line until the kernel holds no more: nobody at the printer's end takes data.
    fd = os.open(p.path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        import tty

        tty.setraw(fd)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        while True:
            try:
                os.write(fd, b"x" * 1024)
            except BlockingIOError:
                break
        started = time.monotonic()
        with pytest.raises(PrinterError) as err:
            printer.print_ticket(p.path, 19200, **TICKET, timeout=0.3, status=False)
        assert err.value.code == "jammed"
        assert time.monotonic() - started < 3
    finally:
        os.close(fd)


def test_missing_port(tmp_path):
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(str(tmp_path / "ttyUSB9"), 19200, **TICKET, timeout=0.3)
    assert err.value.code == "missing"
    assert "ttyUSB9" in str(err.value)


def test_no_port_configured():
    with pytest.raises(PrinterError) as err:
        printer.print_ticket("", 19200, **TICKET)
    assert err.value.code == "missing"


def test_letters_outside_the_code_page_lose_only_their_accent():
    assert printer.encode("Ñuflo Núñez") == "Ñuflo Núñez".encode("cp850")
    assert printer.encode("Ŝ") == b"S"
    assert printer.encode("S–014") == b"S-014"
    assert printer.encode("名") == b"?"


def test_wrap_breaks_long_lines_at_spaces():
    assert printer.wrap("Niña, niño o adulto con infante en brazos", 20) == [
        "Niña, niño o adulto", "con infante en", "brazos",
    ]
    assert printer.wrap("x" * 45, 20) == ["x" * 20, "x" * 20, "x" * 5]


COMMANDS = [
    printer.INIT, printer.CODE_PAGE, printer.ALIGN_LEFT, printer.ALIGN_CENTER, printer.BOLD_ON,
    printer.BOLD_OFF, printer.SIZE_NORMAL, printer.SIZE_DOUBLE, printer.FEED_AND_CUT,
]


@settings(max_examples=200, deadline=None)
@given(
    ship=st.text(), stop=st.text(), number=st.text(max_size=10),
    stations=st.lists(st.text(), max_size=5), priority=st.text(), wait=st.text(),
)
def test_no_text_can_smuggle_printer_commands(ship, stop, number, stations, priority, wait):
    data = printer.render(TicketText(ship, stop, number, tuple(stations), priority, wait))
    assert data.startswith(printer.INIT) and data.endswith(printer.FEED_AND_CUT)
    for command in COMMANDS:
        data = data.replace(command, b"")
    assert all(b >= 0x20 or b == 0x0A for b in data)
    assert 0x7F not in data


@settings(max_examples=200, deadline=None)
@given(text=st.text(), width=st.integers(min_value=1, max_value=48))
def test_wrap_keeps_every_word_and_the_width(text, width):
    lines = printer.wrap(text, width)
    assert all(0 < len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(printer.clean(text).split())
