"""One terminal of a simulated campaign, as its own process: the registration desk or a station desk.

    python -m vessel.sim_worker register HOME COUNT SEED
    python -m vessel.sim_worker desk HOME DESK SEED STOP_FILE

Operators log in with their PIN like anyone else (the demo ship's accounts).
A desk works until STOP_FILE exists and its queue is empty, then closes; a
desk killed mid-way and started again picks up the ticket it had.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vessel import crowd, operators, tickets
from vessel import home as home_mod
from vessel.setup import DEMO_OPERATORS

PINS = {login: pin for login, _name, _role, _station, pin in DEMO_OPERATORS}


def _attach(ship, home: home_mod.Home) -> None:
    from vessel.cli.common import attach_ledger

    attach_ledger(ship, home)


def main(argv: list[str]) -> int:
    role, home_path = argv[0], Path(argv[1])
    home = home_mod.Home(home_path)
    ship = home_mod.open_ship(home)
    _attach(ship, home)
    try:
        if role == "register":
            count, seed = int(argv[2]), int(argv[3])
            actor = operators.login(ship, "registro", PINS["registro"])
            result = crowd.register_crowd(ship, actor, count, seed)
            print(f"registered {result.citizens} issued {result.tickets}", flush=True)
            return 0
        if role == "desk":
            desk, seed, stop_file = argv[2], int(argv[3]), Path(argv[4])
            station = tickets.get_desk(ship, desk).station
            actor = operators.login(ship, station, PINS[station])
            tally = crowd.serve_desk(ship, actor, desk, seed=seed, should_stop=stop_file.exists)
            tickets.close_desk(ship, actor, desk)
            print(f"served {tally.served} missed {tally.missed} referred {tally.referred}", flush=True)
            return 0
        print(f"unknown role {role!r}", file=sys.stderr)
        return 2
    finally:
        ship.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
