"""The one way to build the terminal app, used by the `pias` command and the tests alike.

Everything the app needs from outside (the ship, the language, a desk to be
bound to, how to print) comes in here, so a test builds exactly what a
terminal runs, on a temporary ship with a fixed clock.
"""

from __future__ import annotations

from tui.app import PiasApp
from tui.navigation import optional_screen
from tui.session import PrintTicket, Session
from vessel import i18n, ticket_print, tickets
from vessel.operators import Actor
from vessel.ship import Ship

START_MODES = ("login", "display")
_CONFIGURED = object()


class AppUnavailable(Exception):
    """The app cannot start as asked; str() is the message for the person at the terminal."""


def make_app(
    ship: Ship,
    lang: str | None = None,
    desk: str | None = None,
    start_mode: str = "login",
    *,
    print_ticket: PrintTicket | object | None = _CONFIGURED,
    poll_seconds: float = 0.5,
    cursor_blink: bool = True,
    actor: Actor | None = None,
) -> PiasApp:
    """Build the app for one terminal.

    desk binds the terminal to that desk (kiosk); start_mode "display" opens
    the public display with no login; print_ticket defaults to the printer in
    the ship's config; actor, when given, signs that operator in at once (as
    if they had just logged in).
    """
    lang = lang or ship.config.language
    i18n.set_language(lang)
    if start_mode not in START_MODES:
        raise AppUnavailable(i18n.t("tui.error.bad_start_mode", mode=start_mode))
    if start_mode == "display" and optional_screen("display") is None:
        raise AppUnavailable(i18n.t("tui.error.no_display"))
    if desk is not None:
        desk = tickets.get_desk(ship, desk).code  # refuses an unknown desk before any screen opens
    if print_ticket is _CONFIGURED:
        print_ticket = ticket_print.print_ticket if ticket_print.configured(ship.config) else None
    session = Session(
        ship=ship, lang=lang, kiosk_desk=desk, start_mode=start_mode, print_ticket=print_ticket,  # type: ignore[arg-type]
        poll_seconds=poll_seconds, cursor_blink=cursor_blink, actor=actor,
    )
    return PiasApp(session)
