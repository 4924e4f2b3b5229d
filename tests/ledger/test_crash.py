"""kill -9, many times, of real processes appending in bursts.

Afterwards the chain verifies and every acknowledged append is there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ledger_helpers import Clock, Keyring, open_db

from ledger import bundle as bundle_mod
from ledger import central, keys
from ledger.ingest import Ingester
from ledger.verify import verify

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = 12


def start(db: Path, keydir: Path, worker: int) -> subprocess.Popen:
    repo = str(Path(__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(db), str(keydir / "ship.key"), str(keydir / "midis.pub"), str(worker)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


@pytest.mark.slow
def test_kill_9_while_appending_in_bursts(tmp_path: Path, keyring: Keyring):
    keydir = tmp_path / "keys"
    ship_key = keys.generate_signing_key("pias-crash")
    keys.save_private(ship_key, keydir / "ship.key")
    keys.save_public(keyring.midis.public, keydir / "midis.pub")
    db = tmp_path / "ship.db"
    rng = random.Random(20261102)
    acked: dict[int, str] = {}
    worker_id = 0
    for _ in range(ROUNDS):
        procs = []
        for _ in range(2):
            worker_id += 1
            procs.append(start(db, keydir, worker_id))
        time.sleep(rng.uniform(0.05, 0.4))
        for p in procs:
            os.kill(p.pid, signal.SIGKILL)
        for p in procs:
            out, _ = p.communicate(timeout=30)
            assert p.returncode == -signal.SIGKILL
            for line in out.splitlines():
                if line.startswith("ack "):
                    _, seq, digest = line.split()
                    acked[int(seq)] = digest
        conn = open_db(db)
        report = verify(conn, expected_ship="pias-crash", trusted_key=ship_key.key_id)
        assert report.ok, report.problem
        for seq, digest in acked.items():
            row = conn.execute("SELECT hash FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()
            assert row is not None and bytes(row[0]).hex() == digest, f"acknowledged entry {seq} lost"
        conn.close()
    assert len(acked) > ROUNDS  # the workers did get work done between the kills
    conn = open_db(db)
    assert verify(conn, all_signatures=True).ok
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every entry still opens at the ministry: no data key was lost or reused across the kills.
    head = conn.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]
    sealed = conn.execute("SELECT count(*) FROM ledger_entries WHERE key_id <> ''").fetchone()[0]
    center = central.connect(tmp_path / "central.db")
    central.register(center, [ship_key.public], "x")
    outcome = Ingester(center, keyring.midis, now=Clock()).ingest_bytes(
        bundle_mod.build(conn, "pias-crash", "C", 1, head, ship_key), "all.pias")
    assert outcome.status == "imported" and outcome.events == sealed
