"""The `pias` command as a person runs it: exit codes and one clear line on errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vessel import config

PIAS = [sys.executable, "-m", "vessel.cli"]


def pias(*args: str, home: Path | None = None, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PIAS_HOME": str(home) if home else "", **(env or {})}
    return subprocess.run([*PIAS, *args], capture_output=True, text=True, env=full_env, timeout=120, **kw)


def test_usage_error_is_2():
    assert pias("no-such-command").returncode == 2


def test_not_a_home(tmp_path: Path):
    r = pias("report", home=tmp_path / "nothing")
    assert r.returncode == 1
    assert "pias init" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_config_one_line_nothing_created(tmp_path: Path):
    cfg = tmp_path / "ship.toml"
    cfg.write_text(config.demo_text().replace('policy = "ageing"', 'policy = "lottery"'), encoding="utf-8")
    home = tmp_path / "home"
    r = pias("init", "--config", str(cfg), "--pin", "123456", home=home)
    assert r.returncode == 1
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert str(cfg) in line and "queue.policy" in line and "lottery" in line
    assert not home.exists()


def test_init_demo_report_csv_and_stops(tmp_path: Path):
    home = tmp_path / "home"
    r = pias("demo", "--citizens", "40", home=home)
    assert r.returncode == 0, r.stderr
    assert "Mazán" in r.stdout and "coordinador" in r.stdout
    again = pias("demo", home=home)
    assert again.returncode == 1 and "nueva" in again.stderr
    out = tmp_path / "report.csv"
    r = pias("--lang", "en", "report", "--csv", str(out), home=home)
    assert r.returncode == 0 and "CSV written" in r.stdout
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("stop,station,issued")
    assert any(line.startswith("Mazán,salud,") for line in lines)
    r = pias("stop", "depart", "--as", "puente", home=home, env={"PIAS_PIN": "2222"})
    assert r.returncode == 0 and "Mazán" in r.stdout
    r = pias("stop", "arrive", "negro urco", "--as", "puente", home=home, env={"PIAS_PIN": "2222"})
    assert r.returncode == 0, r.stderr
    r = pias("stop", "arrive", "3", "--as", "puente", home=home, env={"PIAS_PIN": "2222"})
    assert r.returncode == 1 and "Negro Urco" in r.stderr
    r = pias("stop", "depart", "--as", "puente", home=home, env={"PIAS_PIN": "0000"})
    assert r.returncode == 1 and "PIN" in r.stderr
    listing = pias("stop", "list", home=home).stdout
    assert "*" in listing.splitlines()[1]  # Negro Urco is the current stop


def test_init_refuses_existing_home(tmp_path: Path):
    home = tmp_path / "home"
    assert pias("init", "--demo", home=home).returncode == 0
    r = pias("init", "--demo", home=home)
    assert r.returncode == 1 and "ya es" in r.stderr


def test_init_needs_a_pin_without_a_terminal(tmp_path: Path):
    cfg = tmp_path / "ship.toml"
    cfg.write_text(config.demo_text(), encoding="utf-8")
    r = pias("init", "--config", str(cfg), home=tmp_path / "home", stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "PIN" in r.stderr


@pytest.mark.parametrize("module", ["vessel", "devices", "ledger"])
def test_core_never_imports_textual(module: str):
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({module!r})\n"
        "for m in pkgutil.walk_packages(getattr(pkg, '__path__', []), pkg.__name__ + '.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] == 'textual')\n"
        "assert not bad, bad\n"
        "if pkg.__name__ in ('devices', 'ledger'):\n"
        "    other = 'ledger' if pkg.__name__ == 'devices' else 'devices'\n"
        "    leaked = sorted(n for n in sys.modules if n.split('.')[0] in ('vessel', 'tui', other))\n"
        "    assert not leaked, leaked\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_every_command_is_mapped_to_the_module_that_registers_it():
    import argparse
    import importlib

    from vessel.cli import COMMAND_MODULES, COMMANDS

    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        registered = set(sub.choices)
        assert registered == {c for c, m in COMMANDS.items() if m == module}, module


def test_help_lists_every_command():
    from vessel.cli import COMMANDS

    r = pias("--help")
    assert r.returncode == 0
    for command in COMMANDS:
        assert command in r.stdout
