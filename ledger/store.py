"""The ledger's tables, kept in the caller's own SQLite database.

The ledger writes in the same connection and transaction as the change it
records, so both are durable together or not at all. It creates its tables
itself (idempotently) and keeps its own schema version in ledger_meta, apart
from the host application's migrations. Triggers refuse UPDATE and DELETE on
entries: they guard against mistakes, not against someone who edits the file
(that is what the hash chain and the signatures are for).
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

SCHEMA_VERSION = 1

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS ledger_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ledger_entries (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        key_id TEXT NOT NULL,
        amends INTEGER,
        body BLOB NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL,
        signer TEXT NOT NULL,
        sig BLOB NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS ledger_entries_no_update BEFORE UPDATE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS ledger_entries_no_delete BEFORE DELETE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
    """CREATE TABLE IF NOT EXISTS ledger_offloads (
        target TEXT NOT NULL,
        name TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        head_hash BLOB NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        sha256 TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'confirmed', 'failed', 'superseded')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (name)
    )""",
    """CREATE TABLE IF NOT EXISTS ledger_receipts (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        bundle TEXT,
        status TEXT NOT NULL,
        holds INTEGER NOT NULL,
        head TEXT NOT NULL,
        receiver_key TEXT NOT NULL,
        verified INTEGER NOT NULL,
        matches INTEGER NOT NULL,
        body TEXT NOT NULL,
        received_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ledger_receipts_target ON ledger_receipts(target, holds)",
]


class SchemaError(Exception):
    """The database's ledger tables are of a newer version than this program."""


class Head(NamedTuple):
    seq: int
    hash: bytes
    signer: str


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the ledger tables when missing; inside the caller's transaction if one is open."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA:
            conn.execute(statement)
        row = conn.execute("SELECT value FROM ledger_meta WHERE key = 'schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO ledger_meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise SchemaError(
                f"the ledger tables are at version {row[0]}, newer than this program ({SCHEMA_VERSION})"
            )
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")


def has_ledger(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_entries'").fetchone()
    return row is not None


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM ledger_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO ledger_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def head(conn: sqlite3.Connection) -> Head | None:
    row = conn.execute("SELECT seq, hash, signer FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else Head(row[0], bytes(row[1]), row[2])


def head_and_hash(conn: sqlite3.Connection, seq: int) -> tuple[Head | None, bytes | None]:
    """The head, and the hash of entry seq, in one statement: the append path runs it every time."""
    row = conn.execute(
        "SELECT seq, hash, signer, (SELECT hash FROM ledger_entries WHERE seq = ?) "
        "FROM ledger_entries ORDER BY seq DESC LIMIT 1",
        (seq,),
    ).fetchone()
    if row is None:
        return None, None
    return Head(row[0], bytes(row[1]), row[2]), None if row[3] is None else bytes(row[3])


def entry_hash_at(conn: sqlite3.Connection, seq: int) -> bytes | None:
    row = conn.execute("SELECT hash FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else bytes(row[0])


def insert_entry(
    conn: sqlite3.Connection,
    seq: int,
    at: str,
    kind: str,
    key_id: str,
    amends: int | None,
    body: bytes,
    prev_hash: bytes,
    entry_hash: bytes,
    signer: str,
    sig: bytes,
) -> None:
    conn.execute(
        "INSERT INTO ledger_entries (seq, at, kind, key_id, amends, body, prev_hash, hash, signer, sig) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, kind, key_id, amends, body, prev_hash, entry_hash, signer, sig),
    )
