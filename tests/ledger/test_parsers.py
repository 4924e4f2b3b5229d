"""Everything fed from outside, fuzzed: fingerprints people type, bundles and receipts off the wire."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import SHIP, Clock, append_many

from ledger import bundle as bundle_mod
from ledger import keys, receipts
from ledger.appender import Ledger
from ledger.bundle import BundleProblem
from ledger.chain import head_fingerprint, parse_head_fingerprint
from ledger.errors import LedgerError
from ledger.receiver import Inbox

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(st.integers(1, 10**9), st.binary(min_size=32, max_size=32))
def test_fingerprint_round_trip_as_people_write_it(seq: int, digest: bytes):
    fp = head_fingerprint(seq, digest)
    for written in (fp, fp.lower(), fp.replace("-", " "), f"#{fp}", fp.replace(":", " ")):
        assert parse_head_fingerprint(written) == (seq, digest.hex()[:16])


@given(st.text(max_size=60))
def test_any_text_is_a_fingerprint_or_a_clear_refusal(text: str):
    try:
        seq, prefix = parse_head_fingerprint(text)
    except LedgerError as exc:
        assert exc.code == "bad_fingerprint"
    else:
        assert seq >= 0 and len(prefix) == 16


@pytest.fixture(scope="module")
def sample_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, keys.SigningKey]:
    key = keys.generate_signing_key(SHIP)
    conn = sqlite3.connect(str(tmp_path_factory.mktemp("b") / "ship.db"), isolation_level=None)
    led = Ledger(SHIP, key, [])
    led.prepare(conn)
    append_many(conn, led, 8)
    return bundle_mod.build(conn, SHIP, "C", 1, 9, key), key


def _read(data: bytes, key: keys.SigningKey) -> None:
    b = bundle_mod.parse(data)
    bundle_mod.check_signature(b, {key.key_id: key.public})
    bundle_mod.entries(b)


@FUZZ
@given(st.data())
def test_damaged_bundles_fail_only_with_bundle_problems(sample_bundle, data: st.DataObject):
    good, key = sample_bundle
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)), min_size=1, max_size=4))
    damaged = bytearray(good)
    for i, v in edits:
        damaged[i] = v
    cut = data.draw(st.integers(0, len(good)))
    try:
        _read(bytes(damaged[:cut]), key)
    except BundleProblem as problem:
        assert problem.code in bundle_mod.BUNDLE_PROBLEMS
    else:
        assert bytes(damaged[:cut]) == good


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_are_not_bundles(sample_bundle, junk: bytes):
    _, key = sample_bundle
    for data in (junk, bundle_mod.MAGIC + junk):
        with pytest.raises(BundleProblem):
            _read(data, key)


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_receipts_from_anywhere(text):
    try:
        receipt = receipts.parse(text)
    except ValueError:
        return
    assert receipt["format"] == receipts.FORMAT


def test_receipt_signature_covers_every_field():
    key = keys.generate_signing_key("r", role="receipt")
    good = receipts.make(key, ship=SHIP, bundle="b", sha256="00", status="accepted", holds=9, head=bytes(32),
                         at="2026-11-20T00:00:00.000000Z")
    known = {key.key_id: key.public}
    assert receipts.verify(good, known)
    for field, value in (("holds", 10), ("status", "conflict"), ("ship", "pias-x"), ("head", "11" * 32)):
        assert not receipts.verify({**good, field: value}, known)


@FUZZ
@given(st.binary(max_size=400), st.integers(1, 5000))
def test_receiver_refuses_junk_first_chunks_and_stores_nothing(tmp_path: Path, junk: bytes, length: int):
    key = keys.generate_signing_key("r", role="receipt")
    inbox = Inbox(tmp_path / "inbox", key, [], now=Clock())
    name = f"{SHIP}_000000001-000000009_00000000.pias"
    status, answer, offset = inbox.receive(name, 0, max(length, len(junk)), junk)
    assert answer["status"] in ("bad_request", "refused")
    assert status in (400, 403) and offset is None
    assert list(inbox.staging.iterdir()) == []
    assert inbox.receive("../../etc/passwd", 0, 10, b"x")[0] == 400
