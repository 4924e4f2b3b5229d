"""A ticket on paper: the words of the slip, from a Ticket and the ship's config, sent to the ship's printer.

For the registration desk: `print_ticket(ship, ticket)` prints the slip of a
ticket just issued (call it in a worker thread: a printer may take a second
or two to answer, or time out). It raises Refused with the reason in the
operator's words when the printer is missing, off, open, out of paper or
jammed; the ticket itself is already committed and stands either way.

devices.printer knows nothing of the domain, so everything on the paper is
worded here, in the catalogue's language, and handed over as plain text.
"""

from __future__ import annotations

from typing import Any

from devices import printer
from vessel import campaign, tickets, waits
from vessel.config import ShipConfig
from vessel.errors import Refused
from vessel.i18n import language, t
from vessel.local_time import day, hhmm
from vessel.ship import Ship
from vessel.tickets import Step, Ticket

TIMEOUT_SECONDS = 2.0


def configured(config: ShipConfig) -> bool:
    return bool(config.printer.port)


def wait_range(ship: Ship, step: Step) -> tuple[float, float]:
    """The estimated wait for a waiting step, from its place in its station's queue now."""
    queue = tickets.waiting(ship, step.station, step.stop_id)
    position = next((i for i, s in enumerate(queue, start=1) if s.id == step.id), len(queue) + 1)
    return waits.load(ship, step.station).for_position(position)


def slip(ship: Ship, ticket: Ticket, lang: str | None = None) -> dict[str, Any]:
    """The keyword arguments of devices.printer.print_ticket for this ticket, worded for the citizen."""
    lang = lang or language()
    cfg = ship.config
    stop = campaign.get(ship, ticket.stop_id)
    stations = []
    for n, step in enumerate(ticket.steps, start=1):
        try:
            name = cfg.station(step.station).name(lang)
        except KeyError:
            name = step.station
        stations.append(t("ticket_print.station", lang, n=n, ticket=step.label, station=name))
    priority = ""
    if ticket.priority_class:
        try:
            priority = t("ticket_print.priority", lang, condition=cfg.priority_class(ticket.priority_class).name(lang))
        except KeyError:
            priority = t("ticket_print.priority", lang, condition=ticket.priority_class)
    first = ticket.active_step()
    wait = ""
    if first is not None and first.state == "waiting":
        low, high = wait_range(ship, first)
        wait = t("ticket_print.wait", lang, low=round(low), high=max(round(high), round(low) + 1))
    return {
        "ship": cfg.ship_name,
        "stop": stop.community,
        "number": ticket.label,
        "stations": stations,
        "priority": priority,
        "wait": wait,
        "issued": t("ticket_print.issued", lang, day=day(ticket.issued_at), time=hhmm(ticket.issued_at)),
        "footer": t("ticket_print.footer", lang),
    }


def print_ticket(ship: Ship, ticket: Ticket, timeout: float = TIMEOUT_SECONDS) -> int:
    """Print the ticket's slip on the ship's printer; the bytes written, or Refused saying why not."""
    settings = ship.config.printer
    if not settings.port:
        raise Refused("ticket_print.no_printer")
    try:
        return printer.print_ticket(settings.port, settings.baud, **slip(ship, ticket), timeout=timeout)
    except printer.PrinterError as exc:
        raise Refused(f"ticket_print.{exc.code}", port=exc.port, ticket=ticket.label) from None
