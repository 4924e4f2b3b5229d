"""Another terminal on the same ship, as a separate process: runs domain actions and prints what it did.

Run as a script: other_terminal.py HOME AT LOGIN ACTION [ARGS...], with AT an
ISO time for the process's clock (so both processes agree on the time).
Actions: issue STATION..., call DESK, open DESK, miss DESK (recalls until the
ticket can be marked missed). Prints one line per result: the ticket label.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vessel import home as home_mod
from vessel import operators, tickets
from vessel.clock import FixedClock, parse


def main() -> None:
    home, at, login, action, *args = sys.argv[1:]
    clock = FixedClock(parse(at))
    ship = home_mod.open_ship(home_mod.Home(Path(home)), clock=clock)
    actor = operators.get(ship, login)
    try:
        if action == "issue":
            ticket = tickets.issue(ship, actor, args)
            print(ticket.steps[0].label)
        elif action == "open":
            tickets.open_desk(ship, actor, args[0])
            print(args[0])
        elif action == "call":
            for desk in args:
                # The demo day may have left this desk busy: its operator finishes that one first.
                busy = tickets.current_at_desk(ship, desk)
                if busy is not None:
                    if busy.state == "called":
                        tickets.start(ship, actor, desk)
                    tickets.finish(ship, actor, desk)
                print(tickets.call_next(ship, actor, desk).label)
        elif action == "miss":
            desk = args[0]
            rules = ship.config.queue
            step = tickets.current_at_desk(ship, desk)
            while step.call_count < rules.missed_after_calls:
                clock.advance(seconds=rules.recall_gap_seconds + 1)
                step = tickets.recall(ship, actor, desk)
            clock.advance(seconds=1)
            print(tickets.missed(ship, actor, desk).label)
        else:
            raise SystemExit(f"unknown action {action}")
    finally:
        ship.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
