"""From an issued ticket to the printer: the words on the slip, and which printer prints it.

The printer module (devices/printer.py) knows nothing of the domain, so the
slip is worded here in the operator's language and handed over as plain
text. Sending happens in a worker (screens/registration.py): a printer that
is off, open or out of paper raises, the desk shows a notice, and the
ticket, already committed, stands.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import Any

from tui import format as fmt
from tui.session import PrintTicket
from vessel import campaign, tickets, waits
from vessel.config import ShipConfig
from vessel.i18n import t
from vessel.local_time import hhmm
from vessel.ship import Ship
from vessel.tickets import Step, Ticket


def printer_for(config: ShipConfig) -> PrintTicket | None:
    """The ship's print function, or None when no printer port is configured (or no driver is installed)."""
    if not config.printer.port:
        return None
    try:
        printer = importlib.import_module("devices.printer")
    except ModuleNotFoundError:
        return None
    return partial(printer.print_ticket, config.printer.port, config.printer.baud)


def wait_for(ship: Ship, step: Step) -> tuple[float, float]:
    """The estimated wait range for a waiting step, from its place in its station's queue."""
    queue = tickets.waiting(ship, step.station)
    position = next((i for i, s in enumerate(queue, start=1) if s.id == step.id), len(queue) + 1)
    return waits.load(ship, step.station).for_position(position)


def slip(ship: Ship, ticket: Ticket) -> dict[str, Any]:
    """The printer's keyword arguments for one ticket, already worded."""
    stop = campaign.current(ship)
    first = ticket.steps[0]
    low, high = wait_for(ship, first)
    return {
        "ship": ship.config.ship_name,
        "stop": stop.community if stop is not None else "",
        "number": ticket.label,
        "stations": [f"{s.label} {fmt.station_name(ship, s.station)}" for s in ticket.steps],
        "priority": fmt.class_name(ship, ticket.priority_class),
        "wait": t("tui.print.wait", range=fmt.wait_range(low, high)),
        "issued": t("tui.print.issued", time=hhmm(ticket.issued_at)),
        "footer": t("tui.print.footer"),
    }


def send(print_ticket: PrintTicket | None, slip_kwargs: dict[str, Any]) -> None:
    if print_ticket is None:
        raise RuntimeError(t("tui.print.no_printer"))
    print_ticket(**slip_kwargs)


def failure_text(exc: BaseException) -> str:
    """Why printing failed, in the operator's words when the printer said why."""
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        text = t(f"tui.print.error.{code}")
        if text != f"tui.print.error.{code}":
            return text
    return str(exc) or type(exc).__name__
