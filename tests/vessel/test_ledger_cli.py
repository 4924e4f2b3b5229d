"""`pias keys`, `pias ledger`, `pias offload` and `pias ingest` as a person runs them."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vessel import config

PIAS = [sys.executable, "-m", "vessel.cli"]


def pias(*args: str, home: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("PIAS_KEY_PASSPHRASE", "PIAS_PIN")}
    full_env.update({"PIAS_HOME": str(home) if home else "", **(env or {})})
    return subprocess.run([*PIAS, *args], capture_output=True, text=True, env=full_env, timeout=120)


def one_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


@pytest.fixture(scope="module")
def _demo_ship(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "ship"
    r = pias("demo", "--citizens", "30", home=home)
    assert r.returncode == 0, r.stderr
    return home


@pytest.fixture
def home(tmp_path: Path, _demo_ship: Path) -> Path:
    shutil.copytree(_demo_ship, tmp_path / "ship")
    return tmp_path / "ship"


def ministry_args(home: Path) -> list[str]:
    m = home / "keys" / "ministry-demo"
    return ["--key", str(m / "midis.key"), "--ships", str(m / "ships"), "--receipt-key", str(m / "receipts.key")]


def test_demo_ship_has_a_working_ledger(home: Path):
    r = pias("ledger", "status", home=home)
    assert r.returncode == 0 and "asientos" in r.stdout, r.stderr
    head = pias("ledger", "head", home=home).stdout.splitlines()[0]
    r = pias("ledger", "verify", "--head", head, home=home)
    assert r.returncode == 0 and "✔" in r.stdout and head in r.stdout
    r = pias("--lang", "en", "keys", "show", home=home)
    assert r.returncode == 0
    assert r.stdout.count("fingerprint") == 3 and "MIDIS" in r.stdout and "mlkem768-x25519" in r.stdout


def test_verify_names_the_bad_entry_and_offload_refuses(home: Path, tmp_path: Path):
    conn = sqlite3.connect(home / "pias.db")
    conn.execute("DROP TRIGGER ledger_entries_no_update")
    conn.execute("UPDATE ledger_entries SET body = body || x'00' WHERE seq = 10")
    conn.commit()
    conn.close()
    assert "asiento 10" in one_line(pias("ledger", "verify", home=home))
    line = one_line(pias("offload", "--to", str(tmp_path / "usb"), home=home))
    assert "asiento 10" in line and "no verifica" in line
    assert not (tmp_path / "usb").exists()


def test_head_that_is_no_longer_in_the_chain(home: Path):
    line = one_line(pias("ledger", "verify", "--head", "7:0000-0000-0000-0000", home=home))
    assert "7:0000-0000-0000-0000" in line
    assert "huella" in one_line(pias("ledger", "verify", "--head", "nonsense", home=home))


def test_offload_ingest_and_confirmation(home: Path, tmp_path: Path):
    usb, central = tmp_path / "usb", tmp_path / "central.db"
    r = pias("offload", "--to", str(usb), home=home)
    assert r.returncode == 0 and "escrito" in r.stdout, r.stderr
    r = pias("ingest", str(usb), "--db", str(central), *ministry_args(home))
    assert r.returncode == 0 and "importados" in r.stdout, r.stderr
    r = pias("ingest", str(usb), "--db", str(central), *ministry_args(home))
    assert r.returncode == 0 and "ya importado" in r.stdout
    r = pias("offload", "--to", str(usb), home=home)
    assert r.returncode == 0
    head = int(pias("ledger", "head", home=home).stdout.split(":")[0])
    assert f"hasta el asiento {head} de {head}" in r.stdout
    events = sqlite3.connect(central).execute("SELECT count(*) FROM events").fetchone()[0]
    ledgered = sqlite3.connect(home / "pias.db").execute(
        "SELECT count(*) FROM ledger_entries WHERE key_id <> ''").fetchone()[0]
    assert events == ledgered > 0


def test_ingest_with_the_wrong_key(home: Path, tmp_path: Path):
    pias("offload", "--to", str(tmp_path / "usb"), home=home)
    r = pias("keys", "ministry-init", "--out", str(tmp_path / "other"), "--name", "MIDIS")
    assert r.returncode == 0
    m = home / "keys" / "ministry-demo"
    r = pias("ingest", str(tmp_path / "usb"), "--key", str(tmp_path / "other" / "midis.key"),
             "--db", str(tmp_path / "c.db"), "--ships", str(m / "ships"))
    line = one_line(r)
    assert "rechazado" in line and "RECHAZADO" in r.stdout and "sellado para" in r.stdout


def test_keys_for_a_new_ship(tmp_path: Path):
    cfg = tmp_path / "ship.toml"
    cfg.write_text(config.demo_text(), encoding="utf-8")
    home = tmp_path / "home"
    assert pias("init", "--config", str(cfg), "--pin", "123456", home=home).returncode == 0
    assert "pias keys init" in one_line(pias("offload", "--to", str(tmp_path / "usb"), home=home))
    m = tmp_path / "ministry"
    r = pias("keys", "ministry-init", "--out", str(m), "--name", "MIDIS")
    assert r.returncode == 0 and "huella" in r.stdout
    assert stat.S_IMODE((m / "midis.key").stat().st_mode) == 0o600
    r = pias("keys", "init", "--ministry-pub", str(m / "midis.pub"), "--ministry-pub", str(m / "midis-receipts.pub"),
             home=home)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((home / "keys" / "ship.key").stat().st_mode) == 0o600
    assert (home / "keys" / "midis.pub").read_text() == (m / "midis.pub").read_text()
    assert "--rotate" in one_line(pias("keys", "init", home=home))
    r = pias("keys", "export", "--out", str(m / "ship.pub"), home=home)
    assert r.returncode == 0 and (m / "ship.pub").exists()
    assert "registro" in one_line(pias("keys", "import", str(m / "ship.pub"), home=home))
    stranger = tmp_path / "stranger"
    pias("keys", "ministry-init", "--out", str(stranger), "--name", "RENIEC")
    assert "RENIEC" in one_line(pias("keys", "import", str(stranger / "reniec.pub"), home=home))


def test_passphrase_and_rotation(home: Path):
    secret = {"PIAS_KEY_PASSPHRASE": "cóndor del napo"}
    before = pias("ledger", "head", home=home).stdout.splitlines()[0]
    r = pias("keys", "init", "--rotate", "--passphrase", home=home, env=secret)
    assert r.returncode == 0, r.stderr
    assert "PIAS_KEY_PASSPHRASE" in one_line(pias("offload", "--to", str(home / "usb"), home=home))
    r = pias("stop", "depart", "--as", "puente", home=home, env={**secret, "PIAS_PIN": "2222"})
    assert r.returncode == 0, r.stderr
    r = pias("ledger", "verify", "--all-signatures", "--head", before, home=home)
    assert r.returncode == 0, r.stderr
    kinds = sqlite3.connect(home / "pias.db").execute("SELECT kind FROM ledger_entries ORDER BY seq").fetchall()
    assert ("ledger.signing_key",) in kinds and kinds[-1] == ("stop.departed",)


def test_correction(home: Path):
    pin = {"PIAS_PIN": "1234"}
    r = pias("ledger", "correct", "--seq", "5", "--reason", "DNI mal digitado", "--set", "dni=41234568",
             "--as", "coordinador", home=home, env=pin)
    assert r.returncode == 0 and "corrige el 5" in r.stdout, r.stderr
    conn = sqlite3.connect(home / "pias.db")
    assert conn.execute("SELECT kind, amends FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone() == (
        "correction", 5)
    assert "1" in one_line(pias("ledger", "correct", "--seq", "1", "--reason", "x", "--as", "coordinador",
                                home=home, env=pin))
    assert one_line(pias("ledger", "correct", "--seq", "5", "--reason", "x", "--as", "coordinador",
                         home=home, env={"PIAS_PIN": "9999"}))
    assert "registro" in one_line(pias("ledger", "correct", "--seq", "5", "--reason", "x", "--as", "registro",
                                       home=home, env={"PIAS_PIN": "1111"}))
