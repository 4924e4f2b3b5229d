"""Fixed vectors, checked both ways, so the ship's sealer and the ministry's opener cannot drift apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import crypto, keys
from ledger.chain import entry_hash, hash_prefix, head_fingerprint, head_message, header_bytes

VECTORS = json.loads((Path(__file__).parent / "vectors" / "ledger_v1.json").read_text(encoding="utf-8"))
H = bytes.fromhex


@pytest.mark.parametrize("v", VECTORS["hpke"], ids=lambda v: v["algorithm"])
def test_hpke_recorded_encapsulation_opens(v: dict):
    rk = keys.recipient_key_from_bytes("MIDIS", v["algorithm"], H(v["recipient_secret"]))
    assert rk.key_id == v["recipient_key_id"]
    assert rk.public.raw == H(v["recipient_public"])
    assert crypto.unwrap(H(v["enc"]), rk, v["ship"], v["data_key_id"]) == H(v["data_key"])


@pytest.mark.parametrize("v", VECTORS["hpke"], ids=lambda v: v["algorithm"])
def test_hpke_encrypt_path_to_the_fixed_public_key(v: dict):
    pub = keys.PublicKey("recipient", "MIDIS", v["algorithm"], H(v["recipient_public"]))
    enc = crypto.wrap(H(v["data_key"]), pub, v["ship"], v["data_key_id"])
    assert len(enc) == len(H(v["enc"]))
    rk = keys.recipient_key_from_bytes("MIDIS", v["algorithm"], H(v["recipient_secret"]))
    assert crypto.unwrap(enc, rk, v["ship"], v["data_key_id"]) == H(v["data_key"])


@pytest.mark.parametrize("v", VECTORS["hpke"], ids=lambda v: v["algorithm"])
def test_hpke_context_is_bound(v: dict):
    rk = keys.recipient_key_from_bytes("MIDIS", v["algorithm"], H(v["recipient_secret"]))
    with pytest.raises(crypto.SealError):
        crypto.unwrap(H(v["enc"]), rk, "pias-other", v["data_key_id"])
    with pytest.raises(crypto.SealError):
        crypto.unwrap(H(v["enc"]), rk, v["ship"], "0011223344556678")


@pytest.mark.parametrize("v", VECTORS["entries"], ids=lambda v: str(v["seq"]))
def test_entry_seal_path(v: dict):
    plaintext = crypto.encode_payload(v["payload"])
    assert plaintext == H(v["plaintext"])
    prefix = hash_prefix(v["ship"])
    header = header_bytes(v["seq"], v["at"], v["kind"], v["data_key_id"], v["amends"])
    assert prefix + header == H(v["aad"])
    assert crypto.entry_nonce(v["seq"]) == H(v["nonce"])
    dk = crypto.DataKey(v["data_key_id"], H(v["data_key"]))
    ciphertext = dk.seal(v["seq"], prefix + header, plaintext)
    assert ciphertext == H(v["ciphertext"])
    assert entry_hash(prefix, H(v["prev_hash"]), header, ciphertext) == H(v["hash"])


@pytest.mark.parametrize("v", VECTORS["entries"], ids=lambda v: str(v["seq"]))
def test_entry_open_path(v: dict):
    dk = crypto.DataKey(v["data_key_id"], H(v["data_key"]))
    plaintext = dk.open(v["seq"], H(v["aad"]), H(v["ciphertext"]))
    assert plaintext == H(v["plaintext"])
    assert crypto.decode_payload(plaintext) == v["payload"]
    # The payload is bound to its entry: another sequence number does not open it.
    with pytest.raises(crypto.SealError):
        dk.open(v["seq"] + 1, H(v["aad"]), H(v["ciphertext"]))


def test_head_signature_vector():
    s = VECTORS["signing"]
    key = keys.signing_key_from_bytes("pias-vector", H(s["secret"]))
    assert key.key_id == s["key_id"]
    message = head_message("pias-vector", s["seq"], H(s["hash"]))
    assert message == H(s["message"])
    assert key.sign(message) == H(s["signature"])
    assert key.public.verify(H(s["signature"]), message)
    assert head_fingerprint(s["seq"], H(s["hash"])) == s["fingerprint"]


def test_both_payload_codecs_are_covered():
    codecs = {H(v["plaintext"])[0] for v in VECTORS["entries"]}
    assert codecs == {crypto.CODEC_JSON, crypto.CODEC_DEFLATE_V1}
