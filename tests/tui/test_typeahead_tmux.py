"""Keys typed faster than the screen reacts still land where the person meant them (real terminal, tmux)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from test_staff_tmux import Terminal, pias_command

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed: the terminal test needs it"),
]


def test_login_typed_in_one_burst(demo_home, at_stop):
    term = Terminal(f"{pias_command()} --home {demo_home.path} tui")
    try:
        term.wait_for("Ingreso del operador")
        # One send-keys: the terminal delivers user, Tab, PIN and Enter in a single read.
        subprocess.run(["tmux", "-L", term.server, "send-keys", "-t", "t", "coordinador", "Tab", "1234", "Enter"],
                       check=True, timeout=10)
        shown = term.wait_for("Servicio")
        assert "coordinador1234" not in shown
        term.keys("C-q")
    finally:
        term.close()
