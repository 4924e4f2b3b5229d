"""The whole trip with the real commands: a demo ship offloads over HTTP to `pias receive`, the ministry ingests.

The offload process is killed with SIGKILL while its bundle is on the wire;
what was in flight counts as not sent, and the next run delivers it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ledger_helpers import CuttingProxy

PIAS = [sys.executable, "-m", "vessel.cli"]


def env(home: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("PIAS_KEY_PASSPHRASE", "PIAS_PIN")}
    out["PIAS_HOME"] = str(home)
    return out


def pias(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PIAS, *args], capture_output=True, text=True, env=env(home), timeout=120)


@pytest.mark.slow
def test_demo_ship_to_central_database_over_http(tmp_path: Path):
    home = tmp_path / "ship"
    assert pias(home, "demo", "--citizens", "150").returncode == 0
    ministry = home / "keys" / "ministry-demo"
    inbox = tmp_path / "inbox"
    receiver = subprocess.Popen(
        [*PIAS, "receive", "--listen", "127.0.0.1:0", "--inbox", str(inbox), "--key", str(ministry / "receipts.key"),
         "--ships", str(ministry / "ships")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(home),
    )
    try:
        line = receiver.stdout.readline()
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        proxy = CuttingProxy(port, delay=0.15)  # a slow port link: about 50 KB/s
        offload = subprocess.Popen([*PIAS, "offload", "--to", proxy.url], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env(home))
        deadline = time.monotonic() + 30
        while proxy.forwarded < 20_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proxy.forwarded >= 20_000
        os.kill(offload.pid, signal.SIGKILL)  # the ship's computer dies, and its link with it
        proxy.cut_now()
        offload.communicate(timeout=30)
        assert not list((inbox / "pias-rio-napo").glob("*.pias"))
        ship_db = sqlite3.connect(home / "pias.db")
        states = [s for (s,) in ship_db.execute("SELECT state FROM ledger_offloads")]
        assert states and "confirmed" not in states  # in flight is not sent
        assert ship_db.execute("SELECT count(*) FROM ledger_receipts").fetchone()[0] == 0
        proxy.heal()
        r = pias(home, "offload", "--to", proxy.url)
        assert r.returncode == 0 and "recibido y confirmado" in r.stdout, r.stdout + r.stderr
        # Delivered, but the answer lost on the way back: the next run sends it again, the receiver knows it.
        ship_db.execute("DELETE FROM ledger_receipts")
        ship_db.execute("UPDATE ledger_offloads SET state = 'pending'")
        ship_db.commit()
        r = pias(home, "offload", "--to", proxy.url)
        assert r.returncode == 0 and "ya estaba recibido" in r.stdout, r.stdout + r.stderr
        central_db = tmp_path / "central.db"
        r = pias(home, "ingest", str(inbox / "pias-rio-napo"), "--key", str(ministry / "midis.key"),
                 "--db", str(central_db), "--ships", str(ministry / "ships"))
        assert r.returncode == 0 and "importados" in r.stdout, r.stdout + r.stderr
        central = sqlite3.connect(central_db)
        sealed = ship_db.execute("SELECT count(*) FROM ledger_entries WHERE key_id <> ''").fetchone()[0]
        assert central.execute("SELECT count(*) FROM events").fetchone()[0] == sealed
        registered = [json.loads(p) for (p,) in central.execute(
            "SELECT payload FROM events WHERE kind = 'citizen.registered' ORDER BY seq")]
        on_board = ship_db.execute("SELECT id, dni, given_names, surnames FROM citizens ORDER BY id").fetchall()
        assert [(p["citizen"], p["dni"], p["given_names"], p["surnames"]) for p in registered] == on_board
        # Once more: nothing doubles.
        assert "No hay asientos nuevos" in pias(home, "offload", "--to", proxy.url).stdout
        r = pias(home, "ingest", str(inbox / "pias-rio-napo"), "--key", str(ministry / "midis.key"),
                 "--db", str(central_db))
        assert r.returncode == 0 and "ya importado" in r.stdout
        assert central.execute("SELECT count(*) FROM events").fetchone()[0] == sealed
        proxy.close()
    finally:
        receiver.terminate()
        receiver.communicate(timeout=30)
