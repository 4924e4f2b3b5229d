"""The tamper suite: every kind of interference gives its own clear error, and nothing is imported.

First the ship's own database edited behind the program's back (verify names
the first bad entry), then bundles altered in transit or forged (ingest
refuses them and the central database does not change).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from ledger_helpers import SHIP, START, Clock, Keyring, append_many, counts, drop_guards, open_db

from ledger import bundle as bundle_mod
from ledger import central, keys
from ledger.appender import Ledger
from ledger.chain import canonical_json, entry_hash, hash_prefix, head_message, header_bytes
from ledger.ingest import Ingester
from ledger.verify import verify

# --- the ship's database -----------------------------------------------------------------

COLUMNS = ["at", "kind", "key_id", "amends", "body", "prev_hash", "hash", "signer"]


def flip(value: object) -> object:
    """One byte changed: a bit for bytes, one character for text, one for a number."""
    if isinstance(value, bytes):
        return value[:5] + bytes([value[5] ^ 0x01]) + value[6:]
    if isinstance(value, str):
        i = len(value) // 2
        return value[:i] + ("1" if value[i] != "1" else "2") + value[i + 1:]
    return (value or 0) + 1


@pytest.fixture
def chain40(db: sqlite3.Connection, ledger: Ledger):
    appended = append_many(db, ledger, 40)
    drop_guards(db)
    return appended


@pytest.mark.parametrize("column", COLUMNS)
def test_one_byte_changed_in_any_column_names_the_entry(db: sqlite3.Connection, chain40, column: str):
    seq = 20
    value = db.execute(f"SELECT {column} FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()[0]
    if isinstance(value, bytes | memoryview):
        value = bytes(value)
    db.execute(f"UPDATE ledger_entries SET {column} = ? WHERE seq = ?", (flip(value), seq))
    report = verify(db)
    assert not report.ok
    assert report.problem.seq == seq, report.problem
    expected = {
        "at": {"altered", "bad_field"}, "kind": {"altered", "bad_field"},
        "key_id": {"unannounced_key", "bad_field"}, "amends": {"altered", "bad_amends"},
        "body": {"altered"}, "prev_hash": {"broken_link"}, "hash": {"altered"}, "signer": {"unknown_signer"},
    }[column]
    assert report.problem.code in expected
    assert f"entry {seq}" in str(report.problem)


def test_signatures_damaged(db: sqlite3.Connection, chain40):
    last = chain40[-1].seq
    sig = bytes(db.execute("SELECT sig FROM ledger_entries WHERE seq = 20").fetchone()[0])
    db.execute("UPDATE ledger_entries SET sig = ? WHERE seq = 20", (flip(sig),))
    # The chain itself does not rest on an old head's signature; checking every one finds it.
    assert verify(db).ok
    report = verify(db, all_signatures=True)
    assert (report.problem.seq, report.problem.code) == (20, "bad_signature")
    sig = bytes(db.execute("SELECT sig FROM ledger_entries WHERE seq = ?", (last,)).fetchone()[0])
    db.execute("UPDATE ledger_entries SET sig = ? WHERE seq = ?", (flip(sig), last))
    report = verify(db)
    assert (report.problem.seq, report.problem.code) == (last, "bad_signature")


def test_entry_deleted(db: sqlite3.Connection, chain40):
    db.execute("DELETE FROM ledger_entries WHERE seq = 17")
    report = verify(db)
    assert (report.problem.seq, report.problem.code) == (17, "missing")
    assert report.problem.params == {"first": 17, "last": 17}


def test_two_entries_swapped(db: sqlite3.Connection, chain40):
    cols = "at, kind, key_id, amends, body, prev_hash, hash, signer, sig"
    a = db.execute(f"SELECT {cols} FROM ledger_entries WHERE seq = 12").fetchone()
    b = db.execute(f"SELECT {cols} FROM ledger_entries WHERE seq = 13").fetchone()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    db.execute(f"UPDATE ledger_entries SET {sets} WHERE seq = 12", b)
    db.execute(f"UPDATE ledger_entries SET {sets} WHERE seq = 13", a)
    report = verify(db)
    assert (report.problem.seq, report.problem.code) == (12, "broken_link")


def test_tail_cut_is_caught_against_the_logged_head(db: sqlite3.Connection, chain40):
    logged = chain40[-1].fingerprint  # what the commander wrote in the paper log
    db.execute("DELETE FROM ledger_entries WHERE seq > 35")
    assert verify(db).ok  # on its own, a shorter chain is still a chain
    report = verify(db, head=logged)
    assert report.problem.code == "head_not_found"
    assert "ends at entry 35" in str(report.problem)


def test_entry_appended_with_another_key(db: sqlite3.Connection, chain40, keyring: Keyring):
    intruder = keys.generate_signing_key(SHIP)
    seq, prev = chain40[-1].seq + 1, chain40[-1].hash
    at = "2026-11-03T09:00:00.000000Z"
    key_id = db.execute("SELECT key_id FROM ledger_entries WHERE seq = ?", (seq - 1,)).fetchone()[0]
    header = header_bytes(seq, at, "ticket.called", key_id, None)
    body = b"\x00" * 40
    digest = entry_hash(hash_prefix(SHIP), prev, header, body)
    sig = intruder.sign(head_message(SHIP, seq, digest))
    row = (seq, at, "ticket.called", key_id, None, body, prev, digest)
    db.execute("INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, intruder.key_id, sig))
    report = verify(db)
    assert (report.problem.seq, report.problem.code) == (seq, "unknown_signer")
    # The same, pretending to be the ship's key: its signature gives it away.
    db.execute("DELETE FROM ledger_entries WHERE seq = ?", (seq,))
    db.execute("INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, keyring.ship.key_id, sig))
    report = verify(db)
    assert (report.problem.seq, report.problem.code) == (seq, "bad_signature")


def test_whole_chain_replaced_by_someone_else(tmp_path: Path, keyring: Keyring):
    conn = open_db(tmp_path / "forged.db")
    forger = Ledger(SHIP, keys.generate_signing_key(SHIP), keyring.recipients())
    forger.prepare(conn)
    append_many(conn, forger, 5)
    assert verify(conn).ok
    report = verify(conn, trusted_key=keyring.ship.key_id)
    assert report.problem.code == "untrusted_key"


# --- bundles at the ministry ---------------------------------------------------------------


class Ministry:
    def __init__(self, path: Path, keyring: Keyring, key: keys.RecipientKey | None = None, register: bool = True):
        self.conn = central.connect(path)
        if register:
            central.register(self.conn, [keyring.ship.public], "2026-11-20T00:00:00.000000Z")
        self.ingester = Ingester(self.conn, key or keyring.midis, keyring.receipts, now=Clock())

    def take(self, data: bytes, source: str = "b.pias"):
        return self.ingester.ingest_bytes(data, source)


@pytest.fixture
def ship60(db: sqlite3.Connection, ledger: Ledger):
    append_many(db, ledger, 60)
    return db


def build(conn: sqlite3.Connection, keyring: Keyring, first: int, last: int) -> bytes:
    return bundle_mod.build(conn, SHIP, "NAPO-2026-03", first, last, keyring.ship)


def last_seq(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]


def test_every_single_byte_flip_is_refused(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    data = build(ship60, keyring, 1, 12)
    ministry = Ministry(tmp_path / "central.db", keyring)
    seen = set()
    for i in range(len(data)):
        damaged = data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]
        outcome = ministry.take(damaged)
        assert outcome.status == "refused", i
        seen.add(outcome.problem.code)
    assert counts(ministry.conn) == (0, 0, 0)
    assert seen <= {"malformed", "bad_signature", "body_mismatch", "unknown_ship", "unknown_signer"}
    assert {"bad_signature", "body_mismatch"} <= seen
    assert ministry.take(data).status == "imported"


def _rebody(data: bytes, edit) -> tuple[dict, bytes, bytes]:
    """Decode a bundle, let edit() change its entry list, encode it again (header left to the caller)."""
    b = bundle_mod.parse(data)
    items = bundle_mod.entries(b)
    items = edit(items)
    columns = {"at": [e.at for e in items], "kind": [e.kind for e in items], "key": [e.key_id for e in items],
               "amends": [e.amends for e in items], "size": [len(e.body) for e in items]}
    plain = canonical_json(columns) + b"\n" + b"".join(e.body for e in items)
    body = zlib.compress(plain, 6)
    header = dict(b.header)
    header.update(plain_size=len(plain), body_size=len(body), body_sha256=hashlib.sha256(body).hexdigest(),
                  count=len(items), last=b.first + len(items) - 1)
    return header, body, b.signature


def _assemble(header: dict, signature: bytes, body: bytes) -> bytes:
    return (bundle_mod.MAGIC + canonical_json(header) + b"\n" + base64.b64encode(signature) + b"\n" + body)


def test_entry_removed_from_a_bundle(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    data = build(ship60, keyring, 1, 20)
    ministry = Ministry(tmp_path / "central.db", keyring)
    header, body, signature = _rebody(data, lambda items: items[:7] + items[8:])
    kept_header = bundle_mod.parse(data).header
    assert ministry.take(_assemble(kept_header, signature, body)).problem.code == "body_mismatch"
    assert ministry.take(_assemble(header, signature, body)).problem.code == "bad_signature"
    assert counts(ministry.conn) == (0, 0, 0)


def test_entries_swapped_even_if_signed_again(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    data = build(ship60, keyring, 1, 20)
    ministry = Ministry(tmp_path / "central.db", keyring)
    header, body, _ = _rebody(data, lambda items: [*items[:9], items[10], items[9], *items[11:]])
    # Even the ship's own key signing a reordered bundle does not make it a chain.
    resigned = keyring.ship.sign(bundle_mod.SIGNED_PREFIX + canonical_json(header))
    outcome = ministry.take(_assemble(header, resigned, body))
    assert outcome.problem.code in ("head_mismatch", "chain")
    assert counts(ministry.conn) == (0, 0, 0)


def test_replay_of_an_old_bundle(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    ministry = Ministry(tmp_path / "central.db", keyring)
    first, second = build(ship60, keyring, 1, 30), build(ship60, keyring, 31, 60)
    assert ministry.take(first).status == "imported" and ministry.take(second).status == "imported"
    before = counts(ministry.conn)
    again = ministry.take(first)
    assert again.status == "already_ingested"
    replay = ministry.take(build(ship60, keyring, 1, 20))  # the same entries, cut differently
    assert (replay.status, replay.problem.code) == ("refused", "replay")
    assert counts(ministry.conn) == before


def test_gap_is_named(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    ministry = Ministry(tmp_path / "central.db", keyring)
    outcome = ministry.take(build(ship60, keyring, 31, 60))
    assert outcome.problem.code == "gap"
    assert outcome.problem.params["missing_from"] == 1 and outcome.problem.params["missing_to"] == 30
    assert counts(ministry.conn) == (0, 0, 0)


def test_cut_tail_and_fork(tmp_path: Path, keyring: Keyring):
    conn = open_db(tmp_path / "ship.db")
    led = Ledger(SHIP, keyring.ship, keyring.recipients())
    led.prepare(conn)
    append_many(conn, led, 45)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp_path / "ship.db", tmp_path / "restored.db")  # a copy taken at entry ~45
    append_many(conn, led, 15, start=45)
    ministry = Ministry(tmp_path / "central.db", keyring)
    upto = last_seq(conn)
    assert ministry.take(build(conn, keyring, 1, upto)).status == "imported"
    before = counts(ministry.conn)
    # The ship's database is put back to the old copy and goes on: the tail the ministry holds was cut.
    other = open_db(tmp_path / "restored.db")
    cut_at = last_seq(other)
    rewritten = Ledger(SHIP, keyring.ship, keyring.recipients())
    append_many(other, rewritten, 30, start=500)
    outcome = ministry.take(build(other, keyring, cut_at + 1, last_seq(other)))
    assert (outcome.problem.code, outcome.problem.seq) == ("cut_tail", cut_at)
    # A bundle that starts after what the ministry holds, on a different history: a fork.
    fork = ministry.take(build(other, keyring, upto + 1, last_seq(other)))
    assert (fork.problem.code, fork.problem.seq) == ("fork", upto)
    assert counts(ministry.conn) == before


def test_bundle_signed_by_another_key(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    intruder = keys.generate_signing_key(SHIP)
    ministry = Ministry(tmp_path / "central.db", keyring)
    forged = bundle_mod.build(ship60, SHIP, "NAPO-2026-03", 1, 30, intruder)
    assert ministry.take(forged).problem.code == "unknown_signer"
    b = bundle_mod.parse(forged)
    header = dict(b.header, signer=keyring.ship.key_id)
    posing = _assemble(header, intruder.sign(bundle_mod.SIGNED_PREFIX + canonical_json(header)), b.body)
    assert ministry.take(posing).problem.code == "bad_signature"
    assert counts(ministry.conn) == (0, 0, 0)


def test_wrong_ministry_key(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    impostor = keys.generate_recipient_key("MIDIS")
    ministry = Ministry(tmp_path / "central.db", keyring, key=impostor)
    outcome = ministry.take(build(ship60, keyring, 1, 30))
    assert outcome.problem.code == "wrong_key"
    assert keyring.midis.key_id in str(outcome.problem)
    assert counts(ministry.conn) == (0, 0, 0)


def test_unknown_ship(ship60: sqlite3.Connection, keyring: Keyring, tmp_path: Path):
    ministry = Ministry(tmp_path / "central.db", keyring, register=False)
    outcome = ministry.take(build(ship60, keyring, 1, 30))
    assert outcome.problem.code == "unknown_ship" and SHIP in str(outcome.problem)
    assert counts(ministry.conn) == (0, 0, 0)
    problems = ministry.conn.execute("SELECT code FROM problems").fetchall()
    assert problems == [("unknown_ship",)]


def test_offload_refuses_a_ledger_that_does_not_verify(ship60: sqlite3.Connection, keyring: Keyring,
                                                       tmp_path: Path):
    from ledger.errors import LedgerError
    from ledger.offload import FolderTarget, Offloader

    drop_guards(ship60)
    ship60.execute("UPDATE ledger_entries SET body = x'00' WHERE seq = 33")
    offloader = Offloader(ship60, SHIP, "C", keyring.ship, {}, None, Clock())
    with pytest.raises(LedgerError) as err:
        offloader.run(FolderTarget(tmp_path / "usb"))
    assert err.value.code == "ledger_does_not_verify" and "entry 33" in str(err.value)
    assert not (tmp_path / "usb").exists()


def test_every_problem_has_a_spanish_and_english_text():
    from ledger.bundle import BUNDLE_PROBLEMS
    from ledger.chain import PROBLEMS
    from ledger.errors import MESSAGES
    from vessel import i18n

    for lang in ("es", "en"):
        cat = i18n.catalogue(lang)
        for section, codes in (("chain", PROBLEMS), ("bundle", BUNDLE_PROBLEMS), ("error", MESSAGES)):
            missing = [c for c in codes if f"ledger_problem.{section}.{c}" not in cat]
            assert not missing, (lang, section, missing)


def test_time_claims_are_claims(db: sqlite3.Connection, ledger: Ledger):
    """A clock stepped backwards does not break the chain: order is the sequence number."""
    append_many(db, ledger, 3)
    db.execute("BEGIN IMMEDIATE")
    ledger.append(db, "ticket.called", START - timedelta(days=400), {"n": 1})
    db.execute("COMMIT")
    assert verify(db).ok


@pytest.mark.parametrize("sql, code", [
    ("UPDATE ledger_entries SET body = body || x'00' WHERE seq = 20", "altered"),  # the column becomes text
    ("UPDATE ledger_entries SET kind = x'ff00' WHERE seq = 20", "bad_field"),
    ("UPDATE ledger_entries SET amends = 'abc' WHERE seq = 20", "bad_field"),
    ("UPDATE ledger_entries SET hash = 'not a hash' WHERE seq = 20", "altered"),
])
def test_columns_of_the_wrong_type_are_named_not_crashed_on(db: sqlite3.Connection, chain40, sql: str, code: str):
    db.execute(sql)
    report = verify(db)
    assert (report.problem.seq, report.problem.code) == (20, code)
