"""The database: settings every process relies on, and versioned migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vessel import migrations, store


def test_pragmas(tmp_path: Path):
    db = store.connect(tmp_path / "pias.db")
    conn = db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS
    assert store.schema_version(db) == store.SCHEMA_VERSION
    assert (tmp_path / "pias.db").stat().st_mode & 0o077 == 0


def test_older_database_is_upgraded_in_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "pias.db"
    db = store.connect(path)
    db.conn.execute("INSERT INTO stations (code, letter, name_es, name_en, institution, desks) "
                    "VALUES ('salud', 'S', 'Salud', 'Health', 'MINSA', 1)")
    db.conn.close()
    # A newer program adds a step: the old database gets it, keeping its rows.
    v2 = ["ALTER TABLE stations ADD COLUMN colour TEXT", "CREATE TABLE notes (id INTEGER PRIMARY KEY)"]
    monkeypatch.setattr(store, "MIGRATIONS", [*migrations.MIGRATIONS, v2])
    monkeypatch.setattr(store, "SCHEMA_VERSION", len(migrations.MIGRATIONS) + 1)
    db = store.connect(path)
    assert store.schema_version(db) == len(migrations.MIGRATIONS) + 1
    assert db["stations"].get("salud")["colour"] is None
    assert db["notes"].exists()


def test_failed_upgrade_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "pias.db"
    store.connect(path).conn.close()
    broken = ["CREATE TABLE half (id INTEGER)", "THIS IS NOT SQL"]
    monkeypatch.setattr(store, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    monkeypatch.setattr(store, "SCHEMA_VERSION", len(migrations.MIGRATIONS) + 1)
    with pytest.raises(sqlite3.OperationalError):
        store.connect(path)
    monkeypatch.undo()
    db = store.connect(path)
    assert store.schema_version(db) == len(migrations.MIGRATIONS)
    assert not db["half"].exists()


def test_newer_database_is_refused(tmp_path: Path):
    path = tmp_path / "pias.db"
    db = store.connect(path)
    db.conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 3}")
    db.conn.close()
    with pytest.raises(store.StoreError, match="newer than this program"):
        store.connect(path)


def test_not_a_database(tmp_path: Path):
    path = tmp_path / "pias.db"
    path.write_bytes(b"this is a text file, not SQLite" * 100)
    with pytest.raises(store.StoreError, match="not a usable SQLite database"):
        store.connect(path)


def test_nested_transaction_rolls_back_inner_only(tmp_path: Path):
    db = store.connect(tmp_path / "pias.db")
    with store.transaction(db) as conn:
        conn.execute("INSERT INTO events (at, kind, payload) VALUES ('t', 'outer', '{}')")
        with pytest.raises(ZeroDivisionError), store.transaction(db) as inner:
            inner.execute("INSERT INTO events (at, kind, payload) VALUES ('t', 'inner', '{}')")
            1 / 0  # noqa: B018
    kinds = [r["kind"] for r in db.query("SELECT kind FROM events")]
    assert kinds == ["outer"]
