"""Writes numbered events into a ship's database until told to stop: the live load a backup runs under.

Run as a script: backup_writer.py HOME STOP_FILE. Prints "ready" once writing,
and at the end the last number it committed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from vessel import events
from vessel import home as home_mod
from vessel.store import transaction


def main() -> int:
    home = home_mod.Home(Path(sys.argv[1]))
    stop = Path(sys.argv[2])
    ship = home_mod.open_ship(home)
    n = 0
    deadline = time.monotonic() + 60
    try:
        while not stop.exists() and time.monotonic() < deadline:
            n += 1
            with transaction(ship.db):
                events.record(ship, "backup_test.tick", {"n": n, "pad": "x" * 300})
            if n == 50:
                print("ready", flush=True)
    finally:
        ship.close()
    print(n, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
