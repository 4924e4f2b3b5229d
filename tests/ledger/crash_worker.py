"""Appends to a ledger in bursts until killed; prints 'ack SEQ HASH' after each commit returns.

Run by test_crash.py as a real process, so that kill -9 can land anywhere:
inside a transaction, between a commit and its acknowledgement, or while idle.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger import keys
from ledger.appender import Ledger, Recipient


def main() -> None:
    db_path, ship_key, midis_pub, worker = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(worker)
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 30000")
    ledger = Ledger("pias-crash", keys.load_signing_key(ship_key),
                    [Recipient("MIDIS", keys.load_public(midis_pub), ("*",))])
    ledger.prepare(conn)
    at = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    n = 0
    print("ready", flush=True)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(rng.randint(1, 12)):
            n += 1
            at += timedelta(seconds=rng.randint(1, 90))
            appended = ledger.append(conn, rng.choice(["ticket.called", "health.visit", "citizen.registered"]), at,
                                     {"worker": worker, "n": n, "dni": f"{rng.randint(10**7, 10**8 - 1)}"})
        conn.execute("COMMIT")
        print(f"ack {appended.seq} {appended.hash.hex()}", flush=True)
        time.sleep(rng.uniform(0.0, 0.01))  # desks pause between bursts


if __name__ == "__main__":
    main()
