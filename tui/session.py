"""What one terminal knows beyond the ship: who is signed in, its desk, how it prints.

Built by the factory and shared by the App and its screens, so a screen never
reaches into the CLI's arguments or the environment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vessel.operators import Actor
from vessel.ship import Ship

# print_ticket(ship, ticket): vessel.ticket_print.print_ticket, raising Refused when the printer fails.
PrintTicket = Callable[[Ship, Any], Any]


@dataclass
class Session:
    ship: Ship
    lang: str = "es"
    kiosk_desk: str | None = None
    """The desk this terminal is bound to (`pias tui --desk`), or None."""
    start_mode: str = "login"
    """"login" for staff terminals, "display" for the public screen."""
    print_ticket: PrintTicket | None = None
    """Prints a ticket's slip (called in a worker); None when the ship has no printer configured."""
    poll_seconds: float = 0.5
    """How often the change watcher asks SQLite whether another terminal wrote."""
    cursor_blink: bool = True
    actor: Actor | None = None
    ship_lock: threading.Lock = field(default_factory=threading.Lock)
    """Held by the worker thread that writes through the ship's connection: one writer at a time."""
