"""Offload over real HTTP on 127.0.0.1: resumable uploads, receipts, conflicts and evidence."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_helpers import SHIP, Clock, CuttingProxy, Keyring, append_many, counts, open_db, payload

from ledger import bundle as bundle_mod
from ledger import central, keys
from ledger.appender import Ledger
from ledger.ingest import Ingester
from ledger.offload import HttpTarget, Offloader
from ledger.receiver import Inbox, make_server


@pytest.fixture
def receiver(tmp_path: Path, keyring: Keyring) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox(tmp_path / "inbox", keyring.receipts, [keyring.ship.public], now=Clock())
    server = make_server(inbox, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield inbox, server.server_address[1]
    server.shutdown()
    server.server_close()


def offloader(conn: sqlite3.Connection, keyring: Keyring) -> Offloader:
    return Offloader(conn, SHIP, "NAPO-2026-03", keyring.ship, {keyring.receipts.key_id: keyring.receipts.public},
                     None, Clock())


def target(url: str, **kw) -> HttpTarget:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("chunk_size", 16 * 1024)
    kw.setdefault("timeout", 5)
    return HttpTarget(url, **kw)


def staged(inbox: Inbox) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in inbox.staging.iterdir()}


@pytest.mark.slow
def test_end_to_end_with_a_cut_link(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger, keyring: Keyring,
                                    receiver):
    inbox, port = receiver
    appended = append_many(db, ledger, 1500)
    size = len(bundle_mod.build(db, SHIP, "NAPO-2026-03", 1, appended[-1].seq, keyring.ship))
    proxy = CuttingProxy(port, cut_after=int(size * 0.9))
    first = offloader(db, keyring).run(target(proxy.url))
    assert first.link_error is not None and first.confirmed_through == 0
    [partial] = staged(inbox).values()
    assert partial >= size * 0.75  # the whole chunks before the cut are held ashore
    proxy.heal()
    sent: list[int] = []
    second = offloader(db, keyring).run(target(proxy.url), progress=lambda item, s, t, e: sent.append(s))
    assert second.ok and second.confirmed_through == appended[-1].seq
    assert sent[0] > partial  # it went on from where the link dropped, not from the start
    assert proxy.forwarded < size * 1.2
    # Ingest what the receiver holds: exactly the ship's events.
    conn = central.connect(tmp_path / "central.db")
    central.register(conn, [keyring.ship.public], "x")
    ingest = Ingester(conn, keyring.midis, now=Clock())
    [outcome] = ingest.ingest_path(inbox.folder / SHIP)
    assert outcome.status == "imported" and outcome.events == 1500
    payloads = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM events ORDER BY seq")]
    assert payloads == [payload(i) for i in range(1500)]
    # Twice over: nothing doubles.
    third = offloader(db, keyring).run(target(proxy.url))
    assert third.bundles == []
    assert [o.status for o in ingest.ingest_path(inbox.folder / SHIP)] == ["already_ingested"]
    assert counts(conn) == (1, appended[-1].seq, 1500)
    proxy.close()


@pytest.mark.slow
def test_link_dropping_once_is_retried_in_the_same_run(db: sqlite3.Connection, ledger: Ledger,
                                                       keyring: Keyring, receiver):
    _inbox, port = receiver
    append_many(db, ledger, 600)
    proxy = CuttingProxy(port, cut_after=40_000, once=True)
    report = offloader(db, keyring).run(target(proxy.url))
    assert report.ok and report.confirmed_through == report.head
    assert proxy.cuts == 1
    proxy.close()


def test_identical_resend_is_a_no_op(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring, receiver):
    inbox, port = receiver
    append_many(db, ledger, 30)
    data = bundle_mod.build(db, SHIP, "C", 1, 20, keyring.ship)
    name = bundle_mod.parse(data).name
    url = f"http://127.0.0.1:{port}"
    assert target(url).deliver(name, data, None).status == "accepted"
    again = target(url).deliver(name, data, None)
    assert again.status == "already_received" and again.receipt["holds"] == 20
    assert len(list((inbox.folder / SHIP).iterdir())) == 1


def test_gap_answers_where_the_receiver_stands(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring,
                                               receiver):
    inbox, port = receiver
    append_many(db, ledger, 60)
    url = f"http://127.0.0.1:{port}"
    target(url).deliver(*_named(bundle_mod.build(db, SHIP, "C", 1, 20, keyring.ship)), None)
    late = target(url).deliver(*_named(bundle_mod.build(db, SHIP, "C", 41, 60, keyring.ship)), None)
    assert late.status == "conflict" and late.receipt["holds"] == 20
    assert not (inbox.folder / SHIP / _named(bundle_mod.build(db, SHIP, "C", 41, 60, keyring.ship))[0]).exists()
    # The ship's offloader reads the conflict and sends what the receiver lacks.
    report = offloader(db, keyring).run(target(url))
    assert report.confirmed_through == report.head
    assert report.bundles[-1].first == 21


def _named(data: bytes) -> tuple[str, bytes]:
    return bundle_mod.parse(data).name, data


def test_same_numbers_different_bytes_kept_as_evidence(tmp_path: Path, keyring: Keyring, receiver):
    inbox, port = receiver
    url = f"http://127.0.0.1:{port}"
    conn = open_db(tmp_path / "ship.db")
    led = Ledger(SHIP, keyring.ship, keyring.recipients())
    led.prepare(conn)
    append_many(conn, led, 30)
    target(url).deliver(*_named(bundle_mod.build(conn, SHIP, "C", 1, 32, keyring.ship)), None)
    # Another copy of the ship's database, diverging from entry 20 on.
    other = open_db(tmp_path / "other.db")
    other_led = Ledger(SHIP, keyring.ship, keyring.recipients())
    for row in conn.execute("SELECT * FROM ledger_entries WHERE seq < 20 ORDER BY seq"):
        if row[0] == 1:
            other_led.prepare(other)
        other.execute("INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    append_many(other, other_led, 20, start=900)
    answer = target(url).deliver(*_named(bundle_mod.build(other, SHIP, "C", 15, 38, keyring.ship)), None)
    assert answer.status == "refused" and answer.reason == "fork" and answer.seq == 20
    evidence = inbox.db.execute("SELECT seq, reason, path FROM evidence").fetchall()
    assert [(s, r) for s, r, _ in evidence] == [(20, "fork")]
    assert (inbox.folder / evidence[0][2]).exists()
    assert inbox.chain(SHIP)[0] == 32  # what was accepted stands


def test_strangers_are_refused_before_anything_is_stored(tmp_path: Path, keyring: Keyring, receiver):
    inbox, port = receiver
    url = f"http://127.0.0.1:{port}"
    stranger_key = keys.generate_signing_key("pias-unknown")
    conn = open_db(tmp_path / "stranger.db")
    led = Ledger("pias-unknown", stranger_key, keyring.recipients())
    led.prepare(conn)
    append_many(conn, led, 20)
    answer = target(url).deliver(*_named(bundle_mod.build(conn, "pias-unknown", "C", 1, 10, stranger_key)), None)
    assert answer.status == "refused" and answer.reason == "unknown_ship"
    # A known ship's name, someone else's key.
    impostor = open_db(tmp_path / "impostor.db")
    led = Ledger(SHIP, keys.generate_signing_key(SHIP), keyring.recipients())
    led.prepare(impostor)
    append_many(impostor, led, 20)
    forged = bundle_mod.build(impostor, SHIP, "C", 1, 10, led.key)
    assert target(url).deliver(*_named(forged), None).reason == "unknown_signer"
    assert staged(inbox) == {} and not (inbox.folder / SHIP).exists() and not (inbox.folder / "pias-unknown").exists()


def test_receipts_are_checked_by_the_ship(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring, receiver):
    _inbox, port = receiver
    append_many(db, ledger, 10)
    unknown_receiver = Offloader(db, SHIP, "C", keyring.ship, {}, None, Clock())
    report = unknown_receiver.run(target(f"http://127.0.0.1:{port}"))
    assert [b.state for b in report.bundles] == ["delivered"] and report.confirmed_through == 0
    report = offloader(db, keyring).run(target(f"http://127.0.0.1:{port}"))
    assert report.confirmed_through == report.head
    assert db.execute("SELECT count(*) FROM ledger_receipts WHERE verified = 1 AND matches = 1").fetchone()[0] >= 1


def test_receiver_down_is_a_clear_link_error(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring):
    import socket

    append_many(db, ledger, 5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = offloader(db, keyring).run(target(f"http://127.0.0.1:{port}", retries=1))
    assert report.link_error is not None and report.link_error.offset == 0
    # Nothing reached the shore, so next time one bundle covers it all again.
    assert db.execute("SELECT state FROM ledger_offloads").fetchall() == [("superseded",)]
