"""Helpers for the ledger tests: real keys, real SQLite files, entries a minute apart."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger import keys
from ledger.appender import Appended, Ledger, Recipient

SHIP = "pias-test"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@dataclass
class Keyring:
    ship: keys.SigningKey
    midis: keys.RecipientKey
    minsa: keys.RecipientKey
    receipts: keys.SigningKey

    def recipients(self) -> list[Recipient]:
        return [
            Recipient("MIDIS", self.midis.public, ("*",)),
            Recipient("MINSA", self.minsa.public, ("health.*",)),
        ]


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring(
        ship=keys.generate_signing_key(SHIP),
        midis=keys.generate_recipient_key("MIDIS"),
        minsa=keys.generate_recipient_key("MINSA", keys.X25519),
        receipts=keys.generate_signing_key("MIDIS receipts", role="receipt"),
    )


def open_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 15000")
    return conn


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = open_db(tmp_path / "ship.db")
    yield conn
    conn.close()


@pytest.fixture
def ledger(db: sqlite3.Connection, keyring: Keyring) -> Ledger:
    led = Ledger(SHIP, keyring.ship, keyring.recipients())
    led.prepare(db)
    return led


def payload(i: int) -> dict:
    return {"operator": 3, "stop": 1, "citizen": i, "dni": f"{40000000 + i:08d}",
            "given_names": "María Ñusta", "surnames": "Shiguango Ríos"}


def kind_of(i: int) -> str:
    return "health.consultation" if i % 3 == 0 else "ticket.called"


def append_many(conn: sqlite3.Connection, led: Ledger, n: int, start: int = 0, minutes: float = 1.0
                ) -> list[Appended]:
    """n entries, one transaction each, a minute apart from START + start minutes."""
    out = []
    for i in range(start, start + n):
        conn.execute("BEGIN IMMEDIATE")
        out.append(led.append(conn, kind_of(i), START + timedelta(minutes=i * minutes), payload(i)))
        conn.execute("COMMIT")
    return out


class Clock:
    def __init__(self) -> None:
        self.t = START

    def __call__(self) -> str:
        self.t += timedelta(seconds=1)
        return self.t.isoformat(timespec="microseconds")[:-6] + "Z"


def counts(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """What a central database holds: (bundles, entries, events)."""
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("bundles", "entries", "events"))


def drop_guards(conn: sqlite3.Connection) -> None:
    """What someone editing the file would do first: remove the append-only triggers."""
    conn.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update")
    conn.execute("DROP TRIGGER IF EXISTS ledger_entries_no_delete")


class CuttingProxy:
    """A real TCP relay on 127.0.0.1 that can drop the link after so many bytes, like a port's Wi-Fi.

    Once cut, it keeps refusing (accepting and closing at once) until heal();
    with `once`, it heals by itself after the first cut.
    """

    def __init__(self, target_port: int, cut_after: int | None = None, once: bool = False, delay: float = 0.0
                 ) -> None:
        import socket
        import threading

        self.delay = delay  # seconds per 8 KiB towards the receiver: a slow link
        self.target_port = target_port
        self.cut_after = cut_after
        self.once = once
        self.forwarded = 0
        self.down = False
        self.cuts = 0
        self._lock = threading.Lock()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._open: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heal(self) -> None:
        with self._lock:
            self.down = False
            self.cut_after = None
            self.delay = 0.0

    def close(self) -> None:
        self._socket.close()
        self._cut()

    def cut_now(self) -> None:
        """The link goes down at once (the ship's computer lost power with it)."""
        with self._lock:
            self.down = True
        self._cut()

    def _cut(self) -> None:
        import socket

        for s in self._open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self._open.clear()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._socket.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._open += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, counted: bool) -> None:
        while True:
            try:
                data = src.recv(8192)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(1)
                return
            if counted:
                if self.delay:
                    import time

                    time.sleep(self.delay)
                with self._lock:
                    budget = None if self.cut_after is None else self.cut_after - self.forwarded
                    if budget is not None and budget <= len(data):
                        data = data[: max(0, budget)]
                        self.down = True
                    self.forwarded += len(data)
            try:
                dst.sendall(data)
            except OSError:
                return
            if counted and self.down:
                self.cuts += 1
                self._cut()
                if self.once:
                    self.heal()
                return
