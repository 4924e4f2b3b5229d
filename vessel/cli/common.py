"""Helpers shared by the subcommands: opening the ship a command works on."""

from __future__ import annotations

import argparse

from vessel import home as home_mod
from vessel import i18n
from vessel.ship import Ship


def home_of(args: argparse.Namespace) -> home_mod.Home:
    return home_mod.resolve(args.home)


def open_ship(args: argparse.Namespace, **kwargs) -> Ship:
    """The ship of --home, with the ledger attached when the ship has keys."""
    home = home_of(args).require()
    ship = home_mod.open_ship(home, **kwargs)
    if not args.lang:
        i18n.set_language(ship.config.language)
    attach_ledger(ship, home)
    return ship


def attach_ledger(ship: Ship, home: home_mod.Home) -> None:
    """Route events into the signed ledger when the ship's keys exist (see vessel/ledger_link.py)."""
    try:
        from vessel import ledger_link
    except ImportError:
        return
    ledger_link.attach(ship, home)
