"""`pias tui` and `pias display`: the terminal app, for staff and for the waiting area.

The app is imported only when one of these commands runs, so the rest of
the `pias` command (and the domain) works on a machine without Textual.
"""

from __future__ import annotations

import argparse

from vessel import i18n
from vessel.cli import CommandFailed
from vessel.cli.common import open_ship


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="the staff terminal: login, then each role's screens (the default command)")
    p.add_argument("--desk", metavar="CODE", help="bind this terminal to one desk, e.g. salud-1 (kiosk)")
    p.add_argument("--lang", choices=["es", "en"], default=argparse.SUPPRESS, help="language of the screens")
    p.set_defaults(func=cmd_tui)

    p = sub.add_parser("display", help="the public display for the waiting area (no login)")
    p.add_argument("--lang", choices=["es", "en"], default=argparse.SUPPRESS, help="language of the screen")
    p.set_defaults(func=cmd_display)


def _run(args: argparse.Namespace, **app_kwargs) -> int:
    from tui.factory import AppUnavailable, make_app

    ship = open_ship(args)
    try:
        try:
            app = make_app(ship, lang=args.lang or i18n.language(), **app_kwargs)
        except AppUnavailable as exc:
            raise CommandFailed(str(exc)) from None
        app.run()
        return app.return_code or 0
    finally:
        ship.close()


def cmd_tui(args: argparse.Namespace) -> int:
    return _run(args, desk=args.desk)


def cmd_display(args: argparse.Namespace) -> int:
    return _run(args, start_mode="display")
