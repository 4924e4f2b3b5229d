"""The real `pias` command in a real terminal (tmux), driven by keys and read off the screen as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vessel import operators, tickets

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed: the terminal smoke test needs it"),
]


def pias_command() -> str:
    script = Path(sys.executable).with_name("pias")
    return str(script) if script.exists() else f"{sys.executable} -m vessel.cli"


class Terminal:
    """A detached tmux session of a given size on a private server."""

    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        self.server = f"pias-test-{os.getpid()}-{time.monotonic_ns()}"
        self.run("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command)

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, seconds: float = 20) -> str:
        """The screen once `text` is on it; `seconds` only bounds a failing test."""
        deadline = time.monotonic() + seconds
        while True:
            shown = self.screen()
            if text in shown or time.monotonic() > deadline:
                assert text in shown, f"{text!r} never appeared; the screen shows:\n{shown}"
                return shown
            time.sleep(0.2)

    def close(self) -> None:
        self.run("kill-server")


def test_log_in_at_a_desk_and_call_a_ticket(ship, at_stop, demo_home):
    registrar = operators.get(ship, "registro")
    first = tickets.issue(ship, registrar, ["salud"])
    tickets.issue(ship, registrar, ["salud"])
    term = Terminal(f"{pias_command()} --home {demo_home.path} tui")
    try:
        term.wait_for("Ingreso del operador")
        term.keys("salud", "Enter", "3333", "Enter")
        term.wait_for("¿En qué ventanilla atiende?")
        term.keys("Down", "Enter")
        term.wait_for("Ventanilla salud-2: CERRADA")
        term.keys("o")
        term.wait_for("Ventanilla salud-2: ABIERTA")
        term.keys("n")
        shown = term.wait_for("LLAMADO (1)")
        label = first.steps[0].label
        assert label in shown and "En espera (1)" in shown
        assert tickets.current_at_desk(ship, "salud-2").label == label
        term.keys("C-q")
        deadline = time.monotonic() + 10
        while "t" in term.run("list-sessions", "-F", "#{session_name}").split() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert term.run("list-sessions", "-F", "#{session_name}").strip() == ""
    finally:
        term.close()


def test_the_public_display_opens_without_a_login(ship, at_stop, demo_home):
    called = tickets.issue(ship, operators.get(ship, "registro"), ["banco"])
    boss = operators.get(ship, "coordinador")
    tickets.open_desk(ship, boss, "banco-2")
    tickets.call_next(ship, boss, "banco-2")
    term = Terminal(f"{pias_command()} --home {demo_home.path} display")
    try:
        shown = term.wait_for(called.steps[0].label)
        assert "Ingreso del operador" not in shown
        assert "Banco de la Nación" in shown
        term.keys("C-q")
    finally:
        term.close()
