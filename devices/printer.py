"""The ticket printer: an ESC/POS thermal printer on a serial port.

Only the handful of ESC/POS commands a queue ticket needs are used, written
directly: they are the same on every ESC/POS printer, and a library would add
USB and network back ends the ship does not have. The printer is asked for
its paper and cover status before printing (DLE EOT), so a printer that is
switched off, unplugged, open or out of paper is reported instead of
swallowing the ticket; every read and write has a timeout, so a jammed printer
can never hang a desk.

This module knows nothing of the domain: the caller passes the ticket's text
already worded in the operator's language.
"""

from __future__ import annotations

import contextlib
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import serial

ESC = b"\x1b"
GS = b"\x1d"
DLE = b"\x10"
EOT = b"\x04"

INIT = ESC + b"@"
# Code page PC850 (Multilingual Latin 1) holds every Spanish letter: á é í ó ú ü ñ ¿ ¡.
CODE_PAGE = ESC + b"t" + bytes([2])
ENCODING = "cp850"
ALIGN_LEFT = ESC + b"a" + bytes([0])
ALIGN_CENTER = ESC + b"a" + bytes([1])
BOLD_ON = ESC + b"E" + bytes([1])
BOLD_OFF = ESC + b"E" + bytes([0])
SIZE_NORMAL = GS + b"!" + bytes([0x00])
SIZE_DOUBLE = GS + b"!" + bytes([0x11])  # double width and double height
FEED_AND_CUT = GS + b"V" + bytes([66, 3])  # feed 3 lines, then partial cut
LF = b"\n"

# Real-time status requests: n=2 asks why the printer is off line, n=4 about the paper roll.
STATUS_OFFLINE = DLE + EOT + bytes([2])
STATUS_PAPER = DLE + EOT + bytes([4])
COVER_OPEN = 0x04
PRINTER_ERROR = 0x40
PAPER_END = 0x60

LINE_WIDTH = 32  # characters per line in font A on a 58 mm roll; wider rolls simply leave a margin


# Why printing failed, for the caller's message catalogue (see PrinterError).
CODES = ("missing", "no_answer", "paper_out", "cover_open", "error", "jammed", "io")


class PrinterError(Exception):
    """The ticket could not be printed. `code` says why, for the caller's message catalogue.

    Codes: missing (no such port, or it cannot be opened), no_answer (nothing
    answers on the port), paper_out, cover_open, error (the printer reports a
    fault), jammed (it stopped taking data), io (another serial error).
    """

    def __init__(self, code: str, port: str, detail: str = "") -> None:
        self.code = code
        self.port = port
        self.detail = detail
        super().__init__(f"{port}: {code}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class TicketText:
    """What goes on the paper, already worded; empty strings are left out."""

    ship: str
    stop: str
    number: str
    stations: Sequence[str] = field(default_factory=tuple)
    priority: str = ""
    wait: str = ""
    issued: str = ""
    footer: str = ""


def clean(text: str) -> str:
    """Printable text only: control characters from a name must never reach the printer as commands."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if unicodedata.category(ch).startswith("C"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def encode(text: str) -> bytes:
    """Text in the printer's code page; a letter it lacks loses its accent rather than the whole letter."""
    out = bytearray()
    for ch in clean(text):
        try:
            out += ch.encode(ENCODING)
            continue
        except UnicodeEncodeError:
            pass
        if ch in "–—‐‑‒":
            out += b"-"
            continue
        if ch in "“”„«»":
            out += b'"'
            continue
        if ch in "‘’‚":
            out += b"'"
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            out += base.encode(ENCODING) if base else b"?"
        except UnicodeEncodeError:
            out += b"?"
    return bytes(out)


def wrap(text: str, width: int = LINE_WIDTH) -> list[str]:
    """Break text into lines of at most `width` characters, at spaces where possible."""
    words = clean(text).split()
    lines: list[str] = []
    line = ""
    for word in words:
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def render(ticket: TicketText, width: int = LINE_WIDTH) -> bytes:
    """The whole ticket as ESC/POS bytes, from initialisation to the cut."""
    out = bytearray(INIT + CODE_PAGE + ALIGN_CENTER)

    def lines(text: str, w: int = width) -> None:
        for line in wrap(text, w):
            out.extend(encode(line) + LF)

    out += BOLD_ON
    lines(ticket.ship)
    out += BOLD_OFF
    lines(ticket.stop)
    if ticket.issued:
        lines(ticket.issued)
    out += LF + SIZE_DOUBLE + BOLD_ON
    lines(ticket.number, width // 2)
    out += BOLD_OFF + SIZE_NORMAL + LF + ALIGN_LEFT
    for station in ticket.stations:
        lines(station)
    if ticket.priority:
        out += BOLD_ON
        lines(ticket.priority)
        out += BOLD_OFF
    if ticket.wait:
        lines(ticket.wait)
    if ticket.footer:
        out += LF + ALIGN_CENTER
        lines(ticket.footer)
    out += FEED_AND_CUT
    return bytes(out)


def _status(port: serial.SerialBase, name: str, request: bytes) -> int:
    port.reset_input_buffer()
    port.write(request)
    reply = port.read(1)
    if len(reply) != 1:
        raise PrinterError("no_answer", name)
    return reply[0]


def check_status(port: serial.SerialBase, name: str) -> None:
    """Ask the printer whether it can print now; raise PrinterError saying why not."""
    paper = _status(port, name, STATUS_PAPER)
    if paper & PAPER_END == PAPER_END:
        raise PrinterError("paper_out", name)
    offline = _status(port, name, STATUS_OFFLINE)
    if offline & COVER_OPEN:
        raise PrinterError("cover_open", name)
    if offline & PRINTER_ERROR:
        raise PrinterError("error", name)


def send(
    port_name: str, baud: int, data: bytes, *, timeout: float = 2.0, status: bool = True
) -> int:
    """Open the port, check the printer, write `data`; return how many bytes were written."""
    if not port_name:
        raise PrinterError("missing", port_name, "no port configured")
    try:
        port = serial.serial_for_url(port_name, baudrate=baud, timeout=timeout, write_timeout=timeout)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PrinterError("missing", port_name, str(exc)) from None
    ok = False
    try:
        if status:
            check_status(port, port_name)
        written = port.write(data)
        if written != len(data):
            raise PrinterError("jammed", port_name, f"{written} of {len(data)} bytes taken")
        _drain(port, port_name, timeout)
        ok = True
        return written
    except serial.SerialTimeoutException:
        raise PrinterError("jammed", port_name, "write timed out") from None
    except serial.SerialException as exc:
        raise PrinterError("io", port_name, str(exc)) from None
    finally:
        _close(port, discard=not ok)


def _drain(port: serial.SerialBase, name: str, timeout: float) -> None:
    """Wait, within the timeout, until the port has sent everything to the printer."""
    deadline = time.monotonic() + timeout
    while port.out_waiting:
        if time.monotonic() > deadline:
            raise PrinterError("jammed", name, f"{port.out_waiting} bytes not taken")
        time.sleep(0.01)


def _close(port: serial.SerialBase, discard: bool) -> None:
    # After a failure, drop what the printer did not take: closing a tty with
    # output pending can wait a long time for it.
    if discard:
        with contextlib.suppress(serial.SerialException, OSError):
            port.reset_output_buffer()
    with contextlib.suppress(serial.SerialException, OSError):
        port.close()


def print_ticket(
    port: str,
    baud: int,
    *,
    ship: str,
    stop: str,
    number: str,
    stations: Sequence[str],
    priority: str = "",
    wait: str = "",
    issued: str = "",
    footer: str = "",
    timeout: float = 2.0,
    status: bool = True,
) -> int:
    """Print one queue ticket and cut it. Returns the bytes written; raises PrinterError."""
    ticket = TicketText(
        ship=ship, stop=stop, number=number, stations=tuple(stations), priority=priority,
        wait=wait, issued=issued, footer=footer,
    )
    return send(port, baud, render(ticket), timeout=timeout, status=status)
