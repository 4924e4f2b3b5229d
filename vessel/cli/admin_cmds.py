"""`pias operator` and `pias stop`: accounts, and arrival or departure by hand."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from vessel import campaign, operators
from vessel.cli.common import open_ship
from vessel.errors import Refused
from vessel.i18n import t


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("operator", help="add or list operator accounts (needs a coordinator's PIN)")
    ops = p.add_subparsers(dest="operator_command", required=True, metavar="ACTION")
    a = ops.add_parser("add", help="add an operator")
    a.add_argument("login")
    a.add_argument("--name", required=True)
    a.add_argument("--role", required=True, choices=operators.ROLES)
    a.add_argument("--station", help="for station operators: the station's code")
    a.add_argument("--as", dest="as_login", required=True, help="the coordinator doing it")
    a.set_defaults(func=cmd_operator_add)
    ls = ops.add_parser("list", help="list operators")
    ls.set_defaults(func=cmd_operator_list)

    p = sub.add_parser("stop", help="the itinerary; record arrival or departure by hand")
    st = p.add_subparsers(dest="stop_command", required=True, metavar="ACTION")
    ls = st.add_parser("list", help="planned and actual arrival and departure of every stop")
    ls.set_defaults(func=cmd_stop_list)
    a = st.add_parser("arrive", help="record arrival at a stop")
    a.add_argument("stop", help="its number in the itinerary or its community name")
    a.add_argument("--as", dest="as_login", required=True)
    a.set_defaults(func=cmd_stop_arrive)
    d = st.add_parser("depart", help="record departure from the current stop")
    d.add_argument("--as", dest="as_login", required=True)
    d.set_defaults(func=cmd_stop_depart)


def _pin(prompt_login: str, env: str = "PIAS_PIN") -> str:
    if os.environ.get(env):
        return os.environ[env]
    if not sys.stdin.isatty():
        raise Refused("pin_needed")
    return getpass.getpass(t("cli.ask_pin", login=prompt_login))


def cmd_operator_add(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        actor = operators.login(ship, args.as_login, _pin(args.as_login))
        new_pin = os.environ.get("PIAS_NEW_PIN") or (
            getpass.getpass(t("cli.ask_new_pin", login=args.login)) if sys.stdin.isatty() else ""
        )
        op = operators.create(ship, actor, args.login, args.name, args.role, new_pin, args.station)
        print(t("cli.operator_added", login=op.login, role=op.role))
    finally:
        ship.close()
    return 0


def cmd_operator_list(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        for o in operators.all_operators(ship):
            print(f"{o['login']:<14} {o['role']:<13} {o['station'] or '':<10} {o['name']}")
    finally:
        ship.close()
    return 0


def cmd_stop_list(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        for s in campaign.stops(ship):
            arrived = s.arrived_at.strftime("%Y-%m-%d %H:%M") if s.arrived_at else "-"
            departed = s.departed_at.strftime("%Y-%m-%d %H:%M") if s.departed_at else "-"
            mark = "*" if s.is_current else " "
            print(f"{mark}{s.seq:>2} {s.community:<16} {s.planned_arrive}..{s.planned_depart}  "
                  f"{arrived:<16} {departed:<16} {', '.join(s.stations)}")
    finally:
        ship.close()
    return 0


def cmd_stop_arrive(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        actor = operators.login(ship, args.as_login, _pin(args.as_login))
        stop = campaign.arrive(ship, actor, campaign.find(ship, args.stop).id)
        print(t("cli.arrived", community=stop.community))
    finally:
        ship.close()
    return 0


def cmd_stop_depart(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        actor = operators.login(ship, args.as_login, _pin(args.as_login))
        stop = campaign.depart(ship, actor)
        print(t("cli.departed", community=stop.community))
    finally:
        ship.close()
    return 0
