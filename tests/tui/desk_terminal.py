"""A second staff terminal in its own process: the real app, headless, pressing keys at a desk.

Run as a script: desk_terminal.py HOME AT LOGIN DESK KEY... (AT is the ISO
time of the process's clock, so both terminals agree on the time). Prints
the label of the ticket at the desk when the keys have been pressed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tui.factory import make_app
from vessel import home as home_mod
from vessel import operators, tickets
from vessel.clock import FixedClock, parse


async def drive(home: str, at: str, login: str, desk: str, keys: list[str]) -> str:
    ship = home_mod.open_ship(home_mod.Home(Path(home)), clock=FixedClock(parse(at)))
    try:
        app = make_app(ship, desk=desk, actor=operators.get(ship, login), print_ticket=None, cursor_blink=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
        step = tickets.current_at_desk(ship, desk)
        return step.label if step else "-"
    finally:
        ship.close()


if __name__ == "__main__":
    home, at, login, desk, *keys = sys.argv[1:]
    print(asyncio.run(drive(home, at, login, desk, keys)))
