"""`pias init` and `pias demo`: creating a ship's home and filling it with a demo day."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from vessel import demo, operators, reports
from vessel import home as home_mod
from vessel.cli.common import attach_ledger, home_of
from vessel.cli.report_cmds import print_table
from vessel.errors import Refused
from vessel.i18n import t


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create a ship's home: config, database, keys folder")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--config", type=Path, help="the ship's TOML file to copy in")
    src.add_argument("--demo", action="store_true", help="the built-in demo ship, PIAS Río Napo")
    p.add_argument("--coordinator", default="coordinador", help="login of the first coordinator")
    p.add_argument("--pin", help="PIN of the first coordinator (asked for when omitted)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="fill a fresh home with a realistic day at the first stop, and report it")
    p.add_argument("--citizens", type=int, default=150)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)


def _create_keys(home: home_mod.Home, cfg) -> None:
    try:
        from vessel.ledger_link import create_demo_keys
    except ImportError:
        return
    create_demo_keys(home, cfg)


def cmd_init(args: argparse.Namespace) -> int:
    home = home_of(args)
    if home.exists():
        raise Refused("home_exists", path=str(home.path))
    pin = None
    if not args.demo:
        pin = args.pin
        if pin is None:
            if not sys.stdin.isatty():
                raise Refused("pin_needed")
            pin = getpass.getpass(t("cli.ask_pin", login=args.coordinator))
        if not operators.valid_pin(pin):
            raise Refused("bad_pin_format")
    cfg = home_mod.init(home, config_file=args.config, demo=args.demo or args.config is None)
    if args.demo or args.config is None:
        _create_keys(home, cfg)
    if pin is not None:
        ship = home_mod.open_ship(home)
        try:
            if not any(o["login"] == args.coordinator for o in operators.all_operators(ship)):
                operators.create(ship, None, args.coordinator, args.coordinator, "coordinator", pin)
        finally:
            ship.close()
    print(t("cli.init_done", path=str(home.path), ship=cfg.ship_name))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    home = home_of(args)
    if not home.exists():
        cfg = home_mod.init(home, demo=True)
        _create_keys(home, cfg)
    ship = home_mod.open_ship(home)
    try:
        attach_ledger(ship, home)
        if ship.conn.execute("SELECT count(*) FROM tickets").fetchone()[0]:
            raise Refused("demo_not_fresh", path=str(home.path))
        if not any(o["login"] == "coordinador" for o in operators.all_operators(ship)):
            from vessel.setup import create_demo_operators

            create_demo_operators(ship)
        summary = demo.run_day(ship, citizens_count=args.citizens, seed=args.seed)
        print(t("cli.demo_done", community=summary.community, citizens=summary.citizens,
                tickets=summary.tickets, served=summary.served, missed=summary.missed,
                referred=summary.referred, waiting=summary.still_waiting))
        print()
        print_table(reports.figures(ship))
        print()
        print(t("cli.demo_logins"))
        from vessel.setup import DEMO_OPERATORS

        for login, _name, role, station, pin in DEMO_OPERATORS:
            print(f"  {login:<12} PIN {pin}  ({role}{' ' + station if station else ''})")
    finally:
        ship.close()
    return 0
