"""The ministry's central database: known ships, their chains, the bundles taken in, the decrypted events.

One SQLite file per institution, holding only what that institution's key can
read. `entries` mirrors every ship's chain as it arrived (still sealed), so a
later bundle can be checked against exactly what was accepted before;
`events` holds the payloads this institution's key opens; `problems` names
every bundle that was refused, and why.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from ledger.chain import DataKeyAnnouncement, Wrap
from ledger.keys import ED25519, PublicKey

SCHEMA_VERSION = 1

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS central_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ships (
        ship_id TEXT PRIMARY KEY,
        registered_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ship_keys (
        ship_id TEXT NOT NULL REFERENCES ships(ship_id),
        key_id TEXT NOT NULL,
        public BLOB NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('registry', 'chain')),
        PRIMARY KEY (ship_id, key_id)
    )""",
    """CREATE TABLE IF NOT EXISTS chains (
        ship_id TEXT PRIMARY KEY REFERENCES ships(ship_id),
        holds INTEGER NOT NULL,
        head BLOB NOT NULL,
        current_key TEXT,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS bundles (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        ship_id TEXT NOT NULL REFERENCES ships(ship_id),
        campaign TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        head BLOB NOT NULL,
        imported_from INTEGER NOT NULL,
        events INTEGER NOT NULL,
        sealed INTEGER NOT NULL,
        ingested_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS entries (
        ship_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        key_id TEXT NOT NULL,
        amends INTEGER,
        body BLOB NOT NULL,
        hash BLOB NOT NULL,
        bundle TEXT NOT NULL,
        PRIMARY KEY (ship_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS data_keys (
        ship_id TEXT NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        day TEXT NOT NULL,
        wraps TEXT NOT NULL,
        PRIMARY KEY (ship_id, id)
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        ship_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        amends INTEGER,
        payload TEXT NOT NULL,
        PRIMARY KEY (ship_id, seq)
    )""",
    "CREATE INDEX IF NOT EXISTS events_kind ON events(kind)",
    """CREATE TABLE IF NOT EXISTS problems (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        ship_id TEXT,
        code TEXT NOT NULL,
        seq INTEGER,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
]


class CentralError(Exception):
    """The central database cannot be used as it is."""


def connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 15000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            conn.execute(statement)
        row = conn.execute("SELECT value FROM central_meta WHERE key = 'schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO central_meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            conn.execute("ROLLBACK")
            raise CentralError(f"{path}: central database version {row[0]} is newer than this program")
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CentralError(f"{path}: not a usable SQLite database ({exc})") from None
    return conn


def register(conn: sqlite3.Connection, keys: list[PublicKey], at: str) -> list[tuple[str, str, bool]]:
    """Add ship keys to the registry; (ship, key id, newly added) for each."""
    out = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for key in keys:
            if key.role != "ship" or key.algorithm != ED25519:
                raise ValueError(f"{key.name}: only ship signing keys go in the registry")
            conn.execute("INSERT OR IGNORE INTO ships (ship_id, registered_at) VALUES (?, ?)", (key.name, at))
            cur = conn.execute(
                "INSERT OR IGNORE INTO ship_keys (ship_id, key_id, public, source) VALUES (?, ?, ?, 'registry')",
                (key.name, key.key_id, key.raw),
            )
            out.append((key.name, key.key_id, cur.rowcount == 1))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return out


def is_known_ship(conn: sqlite3.Connection, ship_id: str) -> bool:
    return conn.execute("SELECT 1 FROM ships WHERE ship_id = ?", (ship_id,)).fetchone() is not None


def ship_keys(conn: sqlite3.Connection, ship_id: str) -> dict[str, PublicKey]:
    rows = conn.execute("SELECT key_id, public FROM ship_keys WHERE ship_id = ?", (ship_id,)).fetchall()
    return {k: PublicKey("ship", ship_id, ED25519, bytes(raw)) for k, raw in rows}


def chain_state(conn: sqlite3.Connection, ship_id: str) -> tuple[int, bytes, str | None]:
    row = conn.execute("SELECT holds, head, current_key FROM chains WHERE ship_id = ?", (ship_id,)).fetchone()
    if row is None:
        return 0, bytes(32), None
    return row[0], bytes(row[1]), row[2]


def hashes(conn: sqlite3.Connection, ship_id: str, first: int, last: int) -> dict[int, bytes]:
    rows = conn.execute(
        "SELECT seq, hash FROM entries WHERE ship_id = ? AND seq BETWEEN ? AND ?", (ship_id, first, last)
    ).fetchall()
    return {seq: bytes(h) for seq, h in rows}


def data_keys(conn: sqlite3.Connection, ship_id: str) -> dict[str, DataKeyAnnouncement]:
    out = {}
    for dk_id, seq, day, wraps in conn.execute(
        "SELECT id, seq, day, wraps FROM data_keys WHERE ship_id = ?", (ship_id,)
    ):
        items = tuple(
            Wrap(w["recipient"], w["key"], w["algorithm"], tuple(w["kinds"]), bytes.fromhex(w["enc"]))
            for w in json.loads(wraps)
        )
        out[dk_id] = DataKeyAnnouncement(dk_id, seq, day, items)
    return out


def wraps_json(announcement: DataKeyAnnouncement) -> str:
    return json.dumps([
        {"recipient": w.recipient, "key": w.key_id, "algorithm": w.algorithm, "kinds": list(w.kinds),
         "enc": w.enc.hex()}
        for w in announcement.wraps
    ])
