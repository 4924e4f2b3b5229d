"""The ship's SQLite database: connection settings, migrations and transactions.

Every terminal is its own process on the same file, so the settings here are
what keeps them honest with each other: WAL so readers never block the writer,
a busy timeout so writers queue instead of failing, synchronous=FULL so a
committed change survives a power cut, and BEGIN IMMEDIATE so that a
read-then-write (call next, ticket numbers) holds the write lock from its
first read.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from vessel.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 15_000
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The database cannot be used as it is; str() is the message for a person."""


def connect(path: Path | str, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open the ship's database with the settings every process must share."""
    path = Path(path)
    fresh = not path.exists()
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only: the working tables hold personal and health data.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a usable SQLite database ({exc})") from None
    db = sqlite_utils.Database(conn)
    _writer_locks[id(conn)] = _open_writer_lock(path)
    if migrate:
        upgrade(db, path)
    return db


# Writers of this program queue on an flock of a file beside the database before they
# ask SQLite for its write lock. The kernel wakes a waiter as soon as the lock is
# free, where SQLite's busy handler would poll with growing sleeps; with eight desks
# pressing "next" at once that is the difference between milliseconds and a tenth
# of a second. SQLite's own locking still guards against any other writer.
_writer_locks: dict[int, int] = {}


def _open_writer_lock(path: Path) -> int:
    lock_path = path.with_name(path.name + "-writer.lock")
    return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def close(db: sqlite_utils.Database) -> None:
    fd = _writer_locks.pop(id(db.conn), None)
    if fd is not None:
        os.close(fd)
    db.conn.close()


def schema_version(db: sqlite_utils.Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def upgrade(db: sqlite_utils.Database, path: Path | str = "database") -> int:
    """Bring the schema to this version in one transaction; refuse a newer one."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: the database is at schema version {current}, newer than this program "
            f"({SCHEMA_VERSION}); install the newer PIAS Vessel that wrote it"
        )
    if current == SCHEMA_VERSION:
        return current
    conn = db.conn
    begin_immediate(conn)
    try:
        # Another process may have upgraded while we waited for the lock.
        current = schema_version(db)
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction holding the write lock from the start.

    Nested use joins the outer transaction through a savepoint, so a domain
    function can be called on its own or as part of a larger change.
    """
    conn = db.conn
    if conn.in_transaction:
        name = f"sp{id(conn)}_{os.urandom(4).hex()}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    fd = _writer_locks.get(id(conn))
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        begin_immediate(conn)
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


def begin_immediate(conn: sqlite3.Connection) -> None:
    """Take SQLite's write lock now, so a read-then-write cannot be overtaken."""
    conn.execute("BEGIN IMMEDIATE")


def data_version(db: sqlite_utils.Database) -> int:
    """A number that changes when another connection commits: a cheap change check."""
    return db.conn.execute("PRAGMA data_version").fetchone()[0]
