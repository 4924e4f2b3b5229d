"""Key files: owner-only private keys, passphrases, fingerprints, and refusing what is not a key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import keys
from ledger.errors import LedgerError


def test_signing_key_round_trip_owner_only(tmp_path: Path):
    key = keys.generate_signing_key("pias-rio-napo")
    path = tmp_path / "k" / "ship.key"
    keys.save_private(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = keys.load_signing_key(path)
    assert again.key_id == key.key_id
    assert again.public.verify(again.sign(b"m"), b"m") and key.public.verify(again.sign(b"m"), b"m")
    with pytest.raises(LedgerError) as err:
        keys.save_private(key, path)
    assert err.value.code == "key_exists"


@pytest.mark.parametrize("algorithm", keys.RECIPIENT_ALGORITHMS)
def test_recipient_key_round_trip(tmp_path: Path, algorithm: str):
    key = keys.generate_recipient_key("MINSA", algorithm)
    keys.save_private(key, tmp_path / "minsa.key")
    keys.save_public(key.public, tmp_path / "minsa.pub")
    loaded = keys.load_recipient_key(tmp_path / "minsa.key")
    pub = keys.load_public(tmp_path / "minsa.pub", role="recipient")
    assert loaded.key_id == key.key_id == pub.key_id
    assert pub.algorithm == algorithm and pub.name == "MINSA"
    assert len(pub.raw) == keys.RAW_LENGTHS[algorithm]


def test_passphrase_needed_wrong_and_right(tmp_path: Path):
    key = keys.generate_signing_key("pias-rio-napo")
    path = tmp_path / "ship.key"
    keys.save_private(key, path, passphrase="río arriba 2026")
    assert keys.is_protected(path)
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in path.read_bytes()
    with pytest.raises(LedgerError) as err:
        keys.load_signing_key(path)
    assert err.value.code == "key_passphrase_needed"
    with pytest.raises(LedgerError) as err:
        keys.load_signing_key(path, "rio arriba 2026")
    assert err.value.code == "key_passphrase_wrong"
    assert keys.load_signing_key(path, "río arriba 2026").key_id == key.key_id


def test_fingerprint_is_readable_and_tied_to_key_id():
    pub = keys.generate_recipient_key("MIDIS").public
    groups = pub.fingerprint.split(" ")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    assert "".join(groups[:4]).lower() == pub.key_id


def test_altered_public_key_file_is_refused(tmp_path: Path):
    a, b = keys.generate_recipient_key("MIDIS"), keys.generate_recipient_key("MIDIS")
    text = a.public.to_text()
    # Someone swaps in another key but keeps the fingerprint the institution read out.
    forged = text.replace(a.public.to_text().splitlines()[-1], b.public.to_text().splitlines()[-1])
    (tmp_path / "midis.pub").write_text(forged)
    with pytest.raises(LedgerError) as err:
        keys.load_public(tmp_path / "midis.pub")
    assert err.value.code == "key_file_altered"


def test_wrong_role_and_missing_file(tmp_path: Path):
    keys.save_public(keys.generate_signing_key("pias-x").public, tmp_path / "ship.pub")
    with pytest.raises(LedgerError) as err:
        keys.load_public(tmp_path / "ship.pub", role="recipient")
    assert err.value.code == "key_wrong_role"
    with pytest.raises(LedgerError) as err:
        keys.load_public(tmp_path / "nope.pub")
    assert err.value.code == "key_file_missing"
    keys.save_private(keys.generate_recipient_key("MIDIS"), tmp_path / "midis.key")
    with pytest.raises(LedgerError) as err:
        keys.load_signing_key(tmp_path / "midis.key")
    assert err.value.code == "key_wrong_role"


def test_private_key_file_with_header_edited_is_refused(tmp_path: Path):
    key = keys.generate_signing_key("pias-x")
    path = tmp_path / "ship.key"
    keys.save_private(key, path)
    other = keys.generate_signing_key("pias-x").key_id
    path.write_bytes(path.read_bytes().replace(key.key_id.encode(), other.encode()))
    with pytest.raises(LedgerError) as err:
        keys.load_private(path)
    assert err.value.code == "key_file_altered"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_a_key_or_a_clear_refusal(text: str):
    try:
        pub = keys.PublicKey.parse(text, "fuzz.pub")
    except LedgerError as exc:
        assert exc.code in ("key_file_malformed", "key_file_altered")
        assert "fuzz.pub" in str(exc)
    else:
        assert pub.role in keys.ROLES


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_key_files_never_crash(data: st.DataObject):
    text = keys.generate_recipient_key("MIDIS", keys.X25519).public.to_text()
    i = data.draw(st.integers(0, len(text) - 1))
    ch = data.draw(st.characters())
    mutated = text[:i] + ch + text[i + 1:]
    try:
        keys.PublicKey.parse(mutated, "m.pub")
    except LedgerError as exc:
        assert exc.code in ("key_file_malformed", "key_file_altered")


def test_registry_from_folder(tmp_path: Path):
    for name in ("pias-a", "pias-b"):
        keys.save_public(keys.generate_signing_key(name).public, tmp_path / f"{name}.pub")
    assert sorted(k.name for k in keys.load_ship_registry(tmp_path)) == ["pias-a", "pias-b"]
