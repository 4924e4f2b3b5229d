"""The public display and the coordinator's screens in the real `pias` command, in tmux, keys only."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screen_host
from screen_host import DAY_END, run_other
from test_staff_tmux import Terminal, pias_command

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed: the terminal smoke test needs it"),
]

demo_day_template = screen_host.demo_day_template
day_home = screen_host.day_home


def Tmux(command: str, width: int = 80, height: int = 24) -> Terminal:
    """The staff tests' tmux terminal, at 80x24 unless told otherwise."""
    return Terminal(command, width, height)


def test_public_display_shows_a_call_made_at_a_desk(day_home):
    term = Tmux(f"{pias_command()} --home {day_home.path} display")
    try:
        shown = term.wait_for("PIAS Río Napo · Mazán")
        assert "Últimos llamados" in shown and "Turnos perdidos" in shown
        run_other(day_home, DAY_END, "registro", "issue", "salud")
        run_other(day_home, DAY_END, "salud", "call", "salud-2")
        shown = term.wait_for("S-151 → v2 · Salud", 10)
        assert "Pase a ventanilla 2" in shown
        term.keys("C-q")  # the speech worker must not keep the process alive
        deadline = time.monotonic() + 10
        while "t" in term.run("list-sessions", "-F", "#{session_name}").split() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "t" not in term.run("list-sessions", "-F", "#{session_name}").split()
    finally:
        term.close()


def served_today(home) -> int:
    """What the stop's report counts as served at the end of the demo day: the dashboard's title must agree."""
    from vessel import campaign, reports
    from vessel import home as home_mod
    from vessel.clock import FixedClock

    ship = home_mod.open_ship(home, clock=FixedClock(DAY_END))
    try:
        stop = campaign.current(ship)
        return next(f.served for f in reports.figures(ship, stop.id)
                    if f.stop == stop.community and f.station == reports.ALL)
    finally:
        ship.close()


def test_coordinator_goes_through_dashboard_bridge_and_ledger_with_keys(day_home):
    served = served_today(day_home)
    term = Tmux(f"{pias_command()} --home {day_home.path} tui")
    try:
        term.wait_for("Ingreso del operador")
        term.keys("coordinador", "Enter", "1234", "Enter")
        shown = term.wait_for(f"{served} atendidos")
        assert "Más de 90 min esperando" in shown
        term.keys("F8")
        term.wait_for("Puente · PIAS Río Napo · Mazán")
        term.keys("d")
        term.wait_for("¿Registrar la salida de Mazán")
        term.keys("n")
        term.wait_for("◀ aquí")
        term.keys("b")
        term.wait_for("AVISO A LA COMUNIDAD")
        term.keys("Escape", "F9")
        term.wait_for("Libro de registro e informes")
        term.keys("]")
        term.wait_for("toda la campaña")
        term.keys("C-q")
        deadline = time.monotonic() + 10
        while "t" in term.run("list-sessions", "-F", "#{session_name}").split() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "t" not in term.run("list-sessions", "-F", "#{session_name}").split()
    finally:
        term.close()
