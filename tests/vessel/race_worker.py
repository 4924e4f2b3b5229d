"""One desk process for the race test: call, start and finish until the queue is empty.

Run as a script: race_worker.py HOME DESK GO_FILE. Prints one claimed step id per line.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from vessel import home as home_mod
from vessel import operators, tickets
from vessel.errors import Refused


def main() -> None:
    home, desk, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    ship = home_mod.open_ship(home_mod.Home(home))
    actor = operators.get(ship, "coordinador")
    tickets.open_desk(ship, actor, desk)
    while not go.exists():  # all processes start racing at the same instant
        time.sleep(0.001)
    claimed = []
    while True:
        try:
            step = tickets.call_next(ship, actor, desk)
        except Refused as exc:
            if exc.code == "queue_empty":
                break
            raise
        claimed.append(step.id)
        tickets.start(ship, actor, desk)
        tickets.finish(ship, actor, desk)
    sys.stdout.write("".join(f"{i}\n" for i in claimed))
    sys.stdout.flush()
    ship.close()
    os._exit(0)


if __name__ == "__main__":
    main()
