"""Offload to a folder and ingest at the ministry: determinism, re-sends, receipts, scopes, no blocking."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ledger_helpers import SHIP, Clock, Keyring, append_many, counts, open_db, payload

from ledger import bundle as bundle_mod
from ledger import central, keys
from ledger.appender import Ledger
from ledger.ingest import Ingester
from ledger.offload import FolderTarget, Offloader, confirmed_through


def offloader(conn: sqlite3.Connection, keyring: Keyring, outbox: Path | None = None) -> Offloader:
    return Offloader(conn, SHIP, "NAPO-2026-03", keyring.ship, {keyring.receipts.key_id: keyring.receipts.public},
                     outbox, Clock())


def ministry(path: Path, keyring: Keyring, key: keys.RecipientKey | None = None,
             ships: list[keys.PublicKey] | None = None) -> Ingester:
    conn = central.connect(path)
    central.register(conn, ships or [keyring.ship.public], "2026-11-20T00:00:00.000000Z")
    return Ingester(conn, key or keyring.midis, keyring.receipts, now=Clock())


def test_same_range_same_name_and_bytes(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring):
    append_many(db, ledger, 50)
    one = bundle_mod.build(db, SHIP, "NAPO-2026-03", 1, 40, keyring.ship)
    two = bundle_mod.build(db, SHIP, "NAPO-2026-03", 1, 40, keyring.ship)
    assert one == two
    parsed = bundle_mod.parse(one)
    assert parsed.name == bundle_mod.parse(two).name
    assert parsed.name.startswith(f"{SHIP}_000000001-000000040_")
    assert b"Shiguango" not in one  # the entries stay sealed inside the bundle


def test_folder_round_trip_receipts_and_confirmation(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger,
                                                     keyring: Keyring):
    append_many(db, ledger, 120)
    usb = tmp_path / "usb"
    report = offloader(db, keyring, tmp_path / "outbox").run(FolderTarget(usb))
    assert [b.state for b in report.bundles] == ["delivered"]
    assert report.confirmed_through == 0  # written is not received
    name = report.bundles[0].name
    assert (usb / name).read_bytes() == (tmp_path / "outbox" / name).read_bytes()
    ingest = ministry(tmp_path / "central.db", keyring)
    [outcome] = ingest.ingest_path(usb)
    assert outcome.status == "imported" and outcome.events == 120
    # The ministry's receipt travels back on the same drive; the next offload confirms with it.
    assert (usb / (name + ".receipt")).exists()
    report = offloader(db, keyring, tmp_path / "outbox").run(FolderTarget(usb))
    assert report.bundles == [] and report.confirmed_through == report.head
    receipt = db.execute("SELECT status, verified, matches FROM ledger_receipts").fetchone()
    assert receipt == ("accepted", 1, 1)


def test_central_holds_exactly_the_ship_events(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger,
                                               keyring: Keyring):
    appended = append_many(db, ledger, 90)
    offloader(db, keyring).run(FolderTarget(tmp_path / "usb"))
    ingest = ministry(tmp_path / "central.db", keyring)
    ingest.ingest_path(tmp_path / "usb")
    rows = ingest.conn.execute("SELECT ship_id, seq, kind, payload FROM events ORDER BY seq").fetchall()
    assert [r[1] for r in rows] == [a.seq for a in appended]
    assert [json.loads(r[3]) for r in rows] == [payload(i) for i in range(90)]
    assert {r[0] for r in rows} == {SHIP}
    ingest.ingest_path(tmp_path / "usb")
    assert counts(ingest.conn) == (1, appended[-1].seq, 90)


def test_each_institution_reads_its_mandate_only(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger,
                                                 keyring: Keyring):
    append_many(db, ledger, 30)
    offloader(db, keyring).run(FolderTarget(tmp_path / "usb"))
    minsa = ministry(tmp_path / "minsa.db", keyring, key=keyring.minsa)
    [outcome] = minsa.ingest_path(tmp_path / "usb")
    assert outcome.status == "imported" and (outcome.events, outcome.sealed) == (10, 20)
    kinds = {k for (k,) in minsa.conn.execute("SELECT DISTINCT kind FROM events")}
    assert kinds == {"health.consultation"}
    # MINSA's database still mirrors the whole chain (sealed), so the next bundle is checked against it.
    assert minsa.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == outcome.last


def test_delivered_but_unconfirmed_is_sent_again(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger,
                                                 keyring: Keyring):
    append_many(db, ledger, 40)
    first = offloader(db, keyring).run(FolderTarget(tmp_path / "usb1"))
    append_many(db, ledger, 10, start=40)
    second = offloader(db, keyring).run(FolderTarget(tmp_path / "usb2"))
    names = [b.name for b in second.bundles]
    assert names[0] == first.bundles[0].name and len(names) == 2
    assert (tmp_path / "usb1" / names[0]).read_bytes() == (tmp_path / "usb2" / names[0]).read_bytes()
    assert second.bundles[1].first == first.bundles[0].last + 1
    ingest = ministry(tmp_path / "central.db", keyring)
    assert [o.status for o in ingest.ingest_path(tmp_path / "usb2")] == ["imported", "imported"]


def test_damaged_outbox_copy_is_rebuilt_identically(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger,
                                                    keyring: Keyring):
    append_many(db, ledger, 20)
    outbox = tmp_path / "outbox"
    report = offloader(db, keyring, outbox).run(FolderTarget(tmp_path / "usb"))
    good = (outbox / report.bundles[0].name).read_bytes()
    (outbox / report.bundles[0].name).write_bytes(good[:100])
    (tmp_path / "usb" / report.bundles[0].name).unlink()
    offloader(db, keyring, outbox).run(FolderTarget(tmp_path / "usb"))
    assert (tmp_path / "usb" / report.bundles[0].name).read_bytes() == good


def test_a_bad_bundle_never_blocks_the_others(tmp_path: Path, keyring: Keyring):
    """Two ships' bundles on one drive; one of them damaged in transit."""
    usb = tmp_path / "usb"
    other_key = keys.generate_signing_key("pias-other")
    ships = []
    for ship_id, key in ((SHIP, keyring.ship), ("pias-other", other_key)):
        conn = open_db(tmp_path / f"{ship_id}.db")
        led = Ledger(ship_id, key, keyring.recipients())
        led.prepare(conn)
        append_many(conn, led, 30)
        ships.append((ship_id, key, conn))
    names = []
    for ship_id, key, conn in ships:
        for first, last in ((1, 12), (13, 24), (25, 32)):
            data = bundle_mod.build(conn, ship_id, "C", first, last, key)
            name = bundle_mod.parse(data).name
            (usb / name).parent.mkdir(exist_ok=True)
            (usb / name).write_bytes(data)
            names.append(name)
    damaged = usb / names[1]  # our ship's second bundle
    good_copy = damaged.read_bytes()
    damaged.write_bytes(good_copy[:-40] + bytes(40))
    ingest = ministry(tmp_path / "central.db", keyring, ships=[keyring.ship.public, other_key.public])
    outcomes = {o.source: o for o in ingest.ingest_path(usb)}
    assert outcomes[names[0]].status == "imported"
    assert outcomes[names[1]].problem.code == "body_mismatch"
    assert outcomes[names[2]].problem.code == "gap"
    assert all(outcomes[n].status == "imported" for n in names[3:])
    # The good copy arrives later: it and the bundle after it go in.
    damaged.write_bytes(good_copy)
    outcomes = {o.source: o for o in ingest.ingest_path(usb)}
    assert outcomes[names[1]].status == "imported" and outcomes[names[2]].status == "imported"
    problems = ingest.conn.execute("SELECT source, code FROM problems ORDER BY id").fetchall()
    assert problems == [(names[1], "body_mismatch"), (names[2], "gap")]


def test_overlapping_bundle_imports_only_the_new_part(tmp_path: Path, db: sqlite3.Connection, ledger: Ledger,
                                                      keyring: Keyring):
    append_many(db, ledger, 40)
    ingest = ministry(tmp_path / "central.db", keyring)
    ingest.ingest_bytes(bundle_mod.build(db, SHIP, "C", 1, 20, keyring.ship), "a")
    last = db.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]
    outcome = ingest.ingest_bytes(bundle_mod.build(db, SHIP, "C", 10, last, keyring.ship), "b")
    assert outcome.status == "imported" and outcome.imported_from == 21
    assert ingest.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == last


def test_confirmed_through_needs_a_verified_matching_receipt(tmp_path: Path, db: sqlite3.Connection,
                                                            ledger: Ledger, keyring: Keyring):
    append_many(db, ledger, 10)
    usb = tmp_path / "usb"
    offloader(db, keyring).run(FolderTarget(usb))
    stranger = keys.generate_signing_key("someone", role="receipt")
    conn = central.connect(tmp_path / "central.db")
    central.register(conn, [keyring.ship.public], "x")
    Ingester(conn, keyring.midis, stranger, now=Clock()).ingest_path(usb)
    offloader(db, keyring).run(FolderTarget(usb))
    assert confirmed_through(db) == 0  # a receipt signed by an unknown key confirms nothing
    row = db.execute("SELECT verified, matches FROM ledger_receipts").fetchone()
    assert row == (0, 1)
