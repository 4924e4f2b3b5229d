"""Appending and verifying: the chain, segment keys, scopes, rollbacks, rotation, corrections."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest
from ledger_helpers import SHIP, START, Keyring, append_many, open_db, payload

from ledger import crypto, keys, store
from ledger.appender import Ledger, Recipient
from ledger.chain import DATA_KEY, hash_prefix, header_bytes, parse_head_fingerprint
from ledger.errors import LedgerError
from ledger.verify import verify


def open_entry(conn: sqlite3.Connection, seq: int, key: keys.RecipientKey) -> dict | None:
    """What an institution reads of entry seq: None when it is not sealed for this key."""
    at, kind, key_id, amends, body = conn.execute(
        "SELECT at, kind, key_id, amends, body FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()
    for (announcement,) in conn.execute("SELECT body FROM ledger_entries WHERE kind = ?", (DATA_KEY,)):
        a = json.loads(announcement)
        if a["id"] != key_id:
            continue
        for w in a["wraps"]:
            if w["key"] == key.key_id:
                import base64

                secret = crypto.unwrap(base64.b64decode(w["enc"]), key, SHIP, key_id)
                aad = hash_prefix(SHIP) + header_bytes(seq, at, kind, key_id, amends)
                return crypto.decode_payload(crypto.DataKey(key_id, secret).open(seq, aad, bytes(body)))
    return None


def test_empty_ledger_verifies(db: sqlite3.Connection, ledger: Ledger):
    report = verify(db)
    assert report.ok and report.entries == 0


def test_append_verify_and_head(db: sqlite3.Connection, ledger: Ledger):
    appended = append_many(db, ledger, 30)
    report = verify(db, expected_ship=SHIP, trusted_key=ledger.key.key_id)
    assert report.ok, report.problem
    assert report.entries == appended[-1].seq
    assert report.fingerprint == appended[-1].fingerprint
    assert verify(db, head=appended[10].fingerprint).ok
    assert verify(db, all_signatures=True).signatures_checked == report.entries
    seq, prefix = parse_head_fingerprint(appended[-1].fingerprint.lower().replace("-", " "))
    assert seq == appended[-1].seq and appended[-1].hash.hex().startswith(prefix)


def test_payload_is_sealed_and_scoped(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring):
    appended = append_many(db, ledger, 6)
    raw = b"".join(bytes(r[0]) for r in db.execute("SELECT body FROM ledger_entries"))
    assert b"Shiguango" not in raw and b"40000000" not in raw
    health, ticket = appended[0].seq, appended[1].seq  # i = 0 is health, i = 1 is a ticket
    assert open_entry(db, health, keyring.midis) == payload(0)
    assert open_entry(db, health, keyring.minsa) == payload(0)
    assert open_entry(db, ticket, keyring.midis) == payload(1)
    assert open_entry(db, ticket, keyring.minsa) is None


def test_one_data_key_per_scope_group_and_day(db: sqlite3.Connection, ledger: Ledger):
    append_many(db, ledger, 10)
    groups = [json.loads(b) for (b,) in db.execute("SELECT body FROM ledger_entries WHERE kind = ?", (DATA_KEY,))]
    assert sorted(tuple(w["recipient"] for w in g["wraps"]) for g in groups) == [("MIDIS",), ("MIDIS", "MINSA")]
    append_many(db, ledger, 2, start=24 * 60)  # the next day
    days = {json.loads(b)["day"] for (b,) in db.execute("SELECT body FROM ledger_entries WHERE kind = ?", (DATA_KEY,))}
    assert days == {"2026-11-02", "2026-11-03"}


def test_a_second_process_gets_its_own_segment(db: sqlite3.Connection, keyring: Keyring, tmp_path):
    first = Ledger(SHIP, keyring.ship, keyring.recipients())
    first.prepare(db)
    other_conn = open_db(tmp_path / "ship.db")
    second = Ledger(SHIP, keyring.ship, keyring.recipients())
    append_many(db, first, 2)
    append_many(other_conn, second, 2, start=2)
    append_many(db, first, 2, start=4)
    keys_used = [k for (k,) in db.execute("SELECT key_id FROM ledger_entries WHERE key_id <> '' ORDER BY seq")]
    # Entries 1, 4 and 5 are tickets from the first process, entry 2 one from the second.
    assert keys_used[1] == keys_used[4] == keys_used[5] != keys_used[2]
    assert verify(db).ok
    other_conn.close()


def test_rollback_never_reuses_a_nonce(db: sqlite3.Connection, ledger: Ledger):
    append_many(db, ledger, 3)
    db.execute("BEGIN IMMEDIATE")
    lost = ledger.append(db, "ticket.called", START, payload(100))
    lost_key = db.execute("SELECT key_id FROM ledger_entries WHERE seq = ?", (lost.seq,)).fetchone()[0]
    db.execute("ROLLBACK")
    db.execute("BEGIN IMMEDIATE")
    again = ledger.append(db, "ticket.called", START, payload(101))
    db.execute("COMMIT")
    new_key, new_seq = db.execute("SELECT key_id, seq FROM ledger_entries WHERE kind = 'ticket.called' "
                                  "ORDER BY seq DESC LIMIT 1").fetchone()
    # The sequence number came round again, so the key changed with it.
    assert new_seq == again.seq and new_key != lost_key
    assert verify(db).ok


def test_rolled_back_announcement_is_made_again(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring):
    db.execute("BEGIN IMMEDIATE")
    ledger.append(db, "health.visit", START, payload(1))
    db.execute("ROLLBACK")
    append_many(db, ledger, 3)
    assert verify(db).ok  # every sealed entry's data key is announced in the chain
    assert all(open_entry(db, s, keyring.midis) is not None
               for (s,) in db.execute("SELECT seq FROM ledger_entries WHERE key_id <> ''"))


def test_refusals(db: sqlite3.Connection, ledger: Ledger, keyring: Keyring):
    with pytest.raises(LedgerError) as err:
        ledger.append(db, "ticket.called", START, {})
    assert err.value.code == "ledger_not_in_transaction"
    db.execute("BEGIN IMMEDIATE")
    for kind, at, code in [
        ("ledger.genesis", START, "ledger_reserved_kind"),
        ("bad kind", START, "ledger_bad_kind"),
        ("ticket.called", datetime(2026, 11, 2, 8, 0), "ledger_naive_time"),  # noqa: DTZ001 - on purpose
    ]:
        with pytest.raises(LedgerError) as err:
            ledger.append(db, kind, at, {})
        assert err.value.code == code
    db.execute("ROLLBACK")
    other = Ledger("pias-other", keyring.ship, keyring.recipients())
    append_many(db, ledger, 1)
    with pytest.raises(LedgerError) as err:
        other.prepare(db)
    assert err.value.code == "ledger_other_ship"


def test_entries_cannot_be_updated_or_deleted_through_sql(db: sqlite3.Connection, ledger: Ledger):
    append_many(db, ledger, 2)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE ledger_entries SET kind = 'x' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM ledger_entries WHERE seq = 2")


def test_correction_points_at_the_entry_and_keeps_its_readers(db: sqlite3.Connection, ledger: Ledger,
                                                              keyring: Keyring):
    appended = append_many(db, ledger, 3)
    health = appended[0].seq
    db.execute("BEGIN IMMEDIATE")
    fix = ledger.append(db, "correction", START + timedelta(hours=1),
                        {"author": "coordinador", "reason": "DNI mal digitado", "fields": {"dni": "41234568"}},
                        amends=health)
    db.execute("COMMIT")
    assert db.execute("SELECT amends FROM ledger_entries WHERE seq = ?", (fix.seq,)).fetchone()[0] == health
    # A correction of a health entry is readable by whoever reads the health entry, MINSA included.
    assert open_entry(db, fix.seq, keyring.minsa)["reason"] == "DNI mal digitado"
    assert open_entry(db, health, keyring.minsa) == payload(0)  # the original is untouched
    db.execute("BEGIN IMMEDIATE")
    for target, code in [(999, "ledger_unknown_entry"), (1, "ledger_amends_structure")]:
        with pytest.raises(LedgerError) as err:
            ledger.append(db, "correction", START, {}, amends=target)
        assert err.value.code == code
    db.execute("ROLLBACK")
    assert verify(db).ok


def test_rotation_continues_the_chain(db: sqlite3.Connection, keyring: Keyring, tmp_path):
    old_key = keys.generate_signing_key(SHIP)
    led = Ledger(SHIP, old_key, keyring.recipients())
    led.prepare(db)
    append_many(db, led, 5)
    stale = Ledger(SHIP, old_key, keyring.recipients())  # another process still holding the old key
    new_key = keys.generate_signing_key(SHIP)
    db.execute("BEGIN IMMEDIATE")
    led.rotate(db, new_key, START + timedelta(hours=2))
    db.execute("COMMIT")
    append_many(db, led, 5, start=200)
    report = verify(db, trusted_key=new_key.key_id, all_signatures=True)
    assert report.ok, report.problem
    assert set(report.signing_keys) == {old_key.key_id, new_key.key_id}
    assert not verify(db, trusted_key=old_key.key_id).ok
    db.execute("BEGIN IMMEDIATE")
    with pytest.raises(LedgerError) as err:
        stale.append(db, "ticket.called", START, {})
    assert err.value.code == "ledger_key_retired"
    db.execute("ROLLBACK")


def test_schema_is_idempotent_and_versioned(db: sqlite3.Connection, ledger: Ledger):
    store.ensure_schema(db)
    store.ensure_schema(db)
    db.execute("UPDATE ledger_meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(store.SchemaError):
        store.ensure_schema(db)


def test_recipients_without_scope_get_nothing(db: sqlite3.Connection, keyring: Keyring):
    led = Ledger(SHIP, keyring.ship, [Recipient("MINSA", keyring.minsa.public, ("health.*",))])
    led.prepare(db)
    append_many(db, led, 2)
    wraps = [json.loads(b)["wraps"] for (b,) in db.execute("SELECT body FROM ledger_entries WHERE kind = ?",
                                                            (DATA_KEY,))]
    assert sorted(len(w) for w in wraps) == [0, 1]
    assert verify(db).ok
