"""Sealing entries: a data key per segment, wrapped with HPKE for each recipient; an AEAD per entry.

Why this shape:
- HPKE (RFC 9180) costs a key encapsulation (about 1.1 KB with ML-KEM-768 +
  X25519), so it is paid once per segment (one process run, or one day), to
  wrap a random 32-byte data key for every institution whose mandate covers
  the segment's entries; each entry is then a ChaCha20-Poly1305 seal under
  that data key.
- The nonce is the entry's sequence number, so it needs no storage. A data
  key is never used twice for one sequence number: the ledger replaces the
  key when a rolled-back transaction would make a number come round again.
- The ship id, data key id and recipient key id go into HPKE's `info`, and
  the entry's canonical header (ship id, sequence number, time, kind, data key
  id, amended entry) is the AEAD's associated data, so a sealed payload cannot
  be moved to another entry, key or ship.
- The data key lives only in the memory of the process that made it; the
  ship holds no recipient private key, so it cannot read a sealed payload back.
- Payloads are compressed before sealing (ciphertext does not compress): raw
  DEFLATE with a fixed preset dictionary of the field names ship events use.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ledger.keys import MLKEM768_X25519, X25519, PublicKey, RecipientKey

AEAD_NAME = "chacha20poly1305"
DATA_KEY_BYTES = 32
HPKE_SUITES = {
    MLKEM768_X25519: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305),
    X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305),
}

CODEC_JSON = 0
CODEC_DEFLATE_V1 = 1

# Preset dictionary for CODEC_DEFLATE_V1. Never change it: entries sealed with
# it must stay readable for decades. The most frequent strings come last.
_DICTIONARY_V1 = (
    b'{"points":[{"course":,"hdop":,"lat":-,"lon":-,"mode":"3d","sats":,"speed_kn":,"t":"2026-'
    b'"reason":null,"undone":"waiting","to_station":"","locked":false,"role":"station","login":"'
    b'"community":"","by":"hand","seq":,"desk":"salud-1","outcome":"served","referred","notes":null,'
    b'"call":1,"priority_class":null,"gestante","adulto_mayor","con_infante","discapacidad",'
    b'"stations":["salud","banco","reniec","programas","mujer"],"language":"es","sex":"F","M",'
    b'"conditions":[],"birth_date":"19","citizen":,"dni":"","given_names":"","surnames":"",'
    b'"name":"","number":,"operator":,"station":"salud","step":,"stop":,"ticket":'
)


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class SealError(Exception):
    """A sealed value that cannot be opened: wrong key, altered bytes or moved between contexts."""


def entry_nonce(seq: int) -> bytes:
    """The AEAD nonce of entry `seq`: four zero bytes then the number, big-endian."""
    return b"\x00\x00\x00\x00" + seq.to_bytes(8, "big")


def wrap_info(ship_id: str, data_key_id: str, recipient_key_id: str) -> bytes:
    return b"PIAS-LEDGER-1 data key\x00" + b"\x00".join(
        part.encode() for part in (ship_id, data_key_id, recipient_key_id)
    )


def wrap(data_key: bytes, recipient: PublicKey, ship_id: str, data_key_id: str) -> bytes:
    """Encrypt a data key to one recipient: HPKE base mode, single shot."""
    suite = HPKE_SUITES[recipient.algorithm]
    return suite.encrypt(data_key, recipient.hpke_key(), info=wrap_info(ship_id, data_key_id, recipient.key_id))


def unwrap(enc: bytes, key: RecipientKey, ship_id: str, data_key_id: str) -> bytes:
    suite = HPKE_SUITES[key.algorithm]
    try:
        secret = suite.decrypt(enc, key.hpke_key(), info=wrap_info(ship_id, data_key_id, key.key_id))
    except (InvalidTag, ValueError) as exc:
        raise SealError(f"data key {data_key_id} does not open with key {key.key_id}") from exc
    if len(secret) != DATA_KEY_BYTES:
        raise SealError(f"data key {data_key_id} has {len(secret)} bytes")
    return secret


@dataclass
class DataKey:
    """A segment's data key, in memory only."""

    id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != DATA_KEY_BYTES:
            raise ValueError("a data key has 32 bytes")
        self._aead = ChaCha20Poly1305(self.secret)

    @classmethod
    def new(cls) -> DataKey:
        return cls(id=os.urandom(8).hex(), secret=os.urandom(DATA_KEY_BYTES))

    def seal(self, seq: int, aad: bytes, plaintext: bytes) -> bytes:
        return self._aead.encrypt(entry_nonce(seq), plaintext, aad)

    def open(self, seq: int, aad: bytes, ciphertext: bytes) -> bytes:
        try:
            return self._aead.decrypt(entry_nonce(seq), ciphertext, aad)
        except InvalidTag as exc:
            raise SealError(f"entry {seq} does not open with data key {self.id}") from exc


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Canonical JSON, deflated with the preset dictionary when that is shorter; one codec byte first."""
    text = _ENCODER.encode(payload).encode("utf-8")
    # A 2 KiB window and small hash tables: payloads are short, and a fresh
    # compressor with the default 32 KiB window costs more to set up than to run.
    packer = zlib.compressobj(6, zlib.DEFLATED, -11, 2, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY_V1)
    packed = packer.compress(text) + packer.flush()
    if len(packed) < len(text):
        return bytes([CODEC_DEFLATE_V1]) + packed
    return bytes([CODEC_JSON]) + text


def decode_payload(data: bytes, limit: int = 16 * 2**20) -> dict[str, Any]:
    return json.loads(payload_text(data, limit))


def payload_text(data: bytes, limit: int = 16 * 2**20) -> str:
    """The payload's canonical JSON text, checked to be one JSON object; ValueError otherwise."""
    if not data:
        raise ValueError("empty payload")
    codec, body = data[0], data[1:]
    if codec == CODEC_DEFLATE_V1:
        unpacker = zlib.decompressobj(-15, zdict=_DICTIONARY_V1)
        text = unpacker.decompress(body, limit)
        if unpacker.unconsumed_tail or not unpacker.eof:
            raise ValueError("payload does not inflate to a whole value within the limit")
    elif codec == CODEC_JSON:
        text = body
    else:
        raise ValueError(f"unknown payload codec {codec}")
    decoded = text.decode("utf-8")
    if not isinstance(json.loads(decoded), dict):
        raise ValueError("a payload is a JSON object")
    return decoded
