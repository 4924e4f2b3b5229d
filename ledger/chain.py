"""The hash chain: canonical bytes of an entry, its hash, the signed head, and walking a chain.

An entry's canonical bytes are its header (sequence number, time claim, kind,
data key id, amended entry), fields joined by 0x1F, then 0x1E, then its body
(the sealed payload, or clear JSON for the ledger's own entries). Header
fields cannot hold control characters, so the encoding is unambiguous.

    hash(n) = SHA-256("PIAS-LEDGER-1" 0x00 ship-id 0x00 || hash(n-1) || header || 0x1E || body)

with hash(0) = 32 zero bytes. The head (ship, seq, hash) is what the ship
signs with Ed25519; its short fingerprint is what the commander writes in the
paper log. A walker recomputes the chain from any starting point (the ship's
own tables, or a bundle at the ministry) without decrypting anything, and
follows the ledger's own clear entries: the genesis (the ship and its first
signing key), data key announcements, and signing key rotations, each new key
endorsed by the one before it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.errors import LedgerError
from ledger.keys import ED25519, RECIPIENT_ALGORITHMS, PublicKey

FORMAT = 1
ZERO_HASH = bytes(32)
GENESIS = "ledger.genesis"
DATA_KEY = "ledger.data_key"
SIGNING_KEY = "ledger.signing_key"
STRUCTURAL = frozenset({GENESIS, DATA_KEY, SIGNING_KEY})
RESERVED_PREFIX = "ledger."

_KIND_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_SHIP_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_FP_RE = re.compile(r"^\s*#?\s*(\d{1,12})\s*[:/ ]\s*([0-9A-Fa-f][0-9A-Fa-f\- ]*)$")
FINGERPRINT_HEX = 16


def valid_ship_id(ship_id: str) -> bool:
    return bool(_SHIP_RE.match(ship_id))


def valid_kind(kind: str) -> bool:
    return bool(_KIND_RE.match(kind))


def format_time(at: datetime) -> str:
    if at.tzinfo is not UTC:
        if at.tzinfo is None:
            raise LedgerError("ledger_naive_time")
        at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")[:-6] + "Z"


def hash_prefix(ship_id: str) -> bytes:
    return b"PIAS-LEDGER-1\x00" + ship_id.encode() + b"\x00"


def header_bytes(seq: int, at: str, kind: str, key_id: str, amends: int | None) -> bytes:
    return f"{seq}\x1f{at}\x1f{kind}\x1f{key_id}\x1f{'' if amends is None else amends}".encode()


def entry_hash(prefix: bytes, prev_hash: bytes, header: bytes, body: bytes) -> bytes:
    return hashlib.sha256(b"".join((prefix, prev_hash, header, b"\x1e", body))).digest()


def head_message(ship_id: str, seq: int, head_hash: bytes) -> bytes:
    """What the ship signs at every append: its chain, up to seq, is the one ending in head_hash."""
    return f"PIAS-LEDGER-1 head\n{ship_id}\n{seq}\n{head_hash.hex()}\n".encode()


def endorsement_message(ship_id: str, previous_key_id: str, new_key: PublicKey) -> bytes:
    return (
        f"PIAS-LEDGER-1 signing key\n{ship_id}\n{previous_key_id}\n{new_key.key_id}\n"
        f"{base64.b64encode(new_key.raw).decode()}\n"
    ).encode()


def head_fingerprint(seq: int, head_hash: bytes) -> str:
    """Short enough to write in a paper log or read on the radio: '1234:9F3C-A2B1-77D0-4E15'."""
    digits = head_hash.hex().upper()[:FINGERPRINT_HEX]
    return f"{seq}:" + "-".join(digits[i : i + 4] for i in range(0, FINGERPRINT_HEX, 4))


def parse_head_fingerprint(text: str) -> tuple[int, str]:
    """(seq, lower-case hex prefix) from a fingerprint as people write it; LedgerError if it is not one."""
    m = _FP_RE.match(text or "")
    if not m:
        raise LedgerError("bad_fingerprint", text=text)
    digits = m.group(2).replace("-", "").replace(" ", "").lower()
    if len(digits) != FINGERPRINT_HEX:
        raise LedgerError("bad_fingerprint", text=text)
    return int(m.group(1)), digits


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def key_json(key: PublicKey) -> dict[str, str]:
    return {"algorithm": key.algorithm, "id": key.key_id, "public": base64.b64encode(key.raw).decode()}


def genesis_body(ship_id: str, signing_key: PublicKey) -> bytes:
    return canonical_json({"format": FORMAT, "ship": ship_id, "signing_key": key_json(signing_key)})


def rotation_body(ship_id: str, previous: str, new_key: PublicKey, endorsement: bytes) -> bytes:
    return canonical_json({
        "previous": previous,
        "signing_key": key_json(new_key),
        "endorsement": base64.b64encode(endorsement).decode(),
    })


@dataclass(frozen=True)
class Wrap:
    recipient: str
    key_id: str
    algorithm: str
    kinds: tuple[str, ...]
    enc: bytes


@dataclass(frozen=True)
class DataKeyAnnouncement:
    id: str
    seq: int
    day: str
    wraps: tuple[Wrap, ...]


def data_key_body(key_id: str, day: str, wraps: list[Wrap]) -> bytes:
    return canonical_json({
        "id": key_id,
        "aead": "chacha20poly1305",
        "day": day,
        "wraps": [
            {"recipient": w.recipient, "key": w.key_id, "algorithm": w.algorithm, "kinds": list(w.kinds),
             "enc": base64.b64encode(w.enc).decode()}
            for w in wraps
        ],
    })


@dataclass(frozen=True)
class ChainProblem(Exception):
    """The first thing wrong in a chain: which entry, and a code with parameters."""

    seq: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"entry {self.seq}: {describe(self.code, self.params)}"


PROBLEMS = {
    "missing": "entries {first} to {last} are missing (removed, or the chain was cut)",
    "broken_link": "does not follow the entry before it (entries removed, inserted or reordered)",
    "altered": "its content does not match its hash (altered)",
    "no_genesis": "the chain does not start with the ledger's genesis entry",
    "second_genesis": "a second genesis entry inside the chain",
    "wrong_ship": "the chain belongs to ship {found}, not {expected}",
    "bad_structure": "a ledger entry that cannot be read ({reason})",
    "bad_field": "a malformed field ({field})",
    "bad_endorsement": "the new signing key {key} is not endorsed by the key before it ({previous})",
    "unannounced_key": "sealed with data key {key}, which no earlier entry announces",
    "bad_amends": "amends entry {amends}, which does not come before it",
    "unknown_signer": "signed by key {key}, which is not a signing key of this ship",
    "retired_signer": "signed by key {key}, which had been replaced by {current}",
    "bad_signature": "its head signature does not verify with key {key}",
    "head_mismatch": "the chain ends with a different hash than the one signed",
    "untrusted_key": "the chain's signing key {key} is not the ship's key {expected}",
    "head_not_found": "the head {fingerprint} is not in the chain ({found})",
}


def describe(code: str, params: dict[str, Any]) -> str:
    try:
        return PROBLEMS.get(code, code).format(**params)
    except (KeyError, IndexError, ValueError):
        return f"{code} {params}"


class ChainWalker:
    """Recomputes a chain entry by entry, from genesis or from a known point, without decrypting.

    It raises ChainProblem at the first entry that does not fit, and keeps
    what the ledger's own entries announce: the signing keys and data keys.
    """

    def __init__(
        self,
        ship_id: str,
        prev_hash: bytes = ZERO_HASH,
        next_seq: int = 1,
        signing_keys: dict[str, PublicKey] | None = None,
        current_key: str | None = None,
        known_data_keys: set[str] | None = None,
    ) -> None:
        self.ship_id = ship_id
        # None: data keys are not checked (a receiver that never decrypts);
        # a set: every sealed entry's key must be announced here or before.
        self.known_data_keys = known_data_keys
        self.prefix = hash_prefix(ship_id)
        self.prev_hash = prev_hash
        self.next_seq = next_seq
        self.signing_keys: dict[str, PublicKey] = dict(signing_keys or {})
        self.current_key = current_key
        # key id -> seq from which it signs
        self.key_since: dict[str, int] = {}
        self.data_keys: dict[str, DataKeyAnnouncement] = {}
        self.rotations: list[tuple[int, str, str]] = []
        # Kinds and key ids already seen to be well formed (a chain has few of each).
        self._good: set[str] = set()

    def step(self, seq: int, at: str, kind: str, key_id: str, amends: int | None, body: bytes) -> bytes:
        if seq != self.next_seq:
            if seq > self.next_seq:
                raise ChainProblem(self.next_seq, "missing", {"first": self.next_seq, "last": seq - 1})
            raise ChainProblem(seq, "broken_link")
        if not _AT_RE.match(at):
            raise ChainProblem(seq, "bad_field", {"field": "time"})
        if kind not in self._good:
            if not _KIND_RE.match(kind):
                raise ChainProblem(seq, "bad_field", {"field": "kind"})
            self._good.add(kind)
        if key_id and key_id not in self._good:
            if not _KEY_ID_RE.match(key_id):
                raise ChainProblem(seq, "bad_field", {"field": "key id"})
            self._good.add(key_id)
        if amends is not None and not 1 <= amends < seq:
            raise ChainProblem(seq, "bad_amends", {"amends": amends})
        if kind in STRUCTURAL and (key_id or amends is not None):
            raise ChainProblem(seq, "bad_field", {"field": "key id"})
        digest = entry_hash(self.prefix, self.prev_hash, header_bytes(seq, at, kind, key_id, amends), body)
        if seq == 1:
            if kind != GENESIS:
                raise ChainProblem(seq, "no_genesis")
            self._genesis(seq, body)
        elif kind == GENESIS:
            raise ChainProblem(seq, "second_genesis")
        elif kind == SIGNING_KEY:
            self._rotation(seq, body)
        elif kind == DATA_KEY:
            self._data_key(seq, body)
        elif not key_id:
            raise ChainProblem(seq, "bad_field", {"field": "key id"})
        elif (
            self.known_data_keys is not None
            and key_id not in self.data_keys
            and key_id not in self.known_data_keys
        ):
            raise ChainProblem(seq, "unannounced_key", {"key": key_id})
        self.prev_hash = digest
        self.next_seq = seq + 1
        return digest

    def signer_at(self, seq: int) -> str | None:
        """The key id that must sign the head at seq: a rotation entry is still signed by the old key."""
        signer = None
        for since_seq, key in sorted((s, k) for k, s in self.key_since.items()):
            if since_seq <= seq:
                signer = key
        return signer

    def _json(self, seq: int, body: bytes) -> dict[str, Any]:
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ChainProblem(seq, "bad_structure", {"reason": "not JSON"}) from None
        if not isinstance(value, dict):
            raise ChainProblem(seq, "bad_structure", {"reason": "not a JSON object"})
        return value

    def _key(self, seq: int, value: Any) -> PublicKey:
        try:
            algorithm, raw = value["algorithm"], base64.b64decode(value["public"], validate=True)
            if algorithm != ED25519 or len(raw) != 32:
                raise ValueError(algorithm)
            key = PublicKey("ship", self.ship_id, ED25519, raw)
            if value.get("id") != key.key_id:
                raise ValueError("id")
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise ChainProblem(seq, "bad_structure", {"reason": "signing key"}) from None
        return key

    def _genesis(self, seq: int, body: bytes) -> None:
        value = self._json(seq, body)
        if value.get("ship") != self.ship_id:
            raise ChainProblem(seq, "wrong_ship", {"found": str(value.get("ship")), "expected": self.ship_id})
        key = self._key(seq, value.get("signing_key"))
        self.signing_keys.setdefault(key.key_id, key)
        self.current_key = key.key_id
        self.key_since[key.key_id] = seq

    def _rotation(self, seq: int, body: bytes) -> None:
        value = self._json(seq, body)
        key = self._key(seq, value.get("signing_key"))
        previous = value.get("previous")
        if self.current_key is not None and previous != self.current_key:
            raise ChainProblem(seq, "bad_endorsement", {"key": key.key_id, "previous": str(previous)})
        old = self.signing_keys.get(previous) if isinstance(previous, str) else None
        try:
            endorsement = base64.b64decode(value.get("endorsement", ""), validate=True)
        except (binascii.Error, ValueError, TypeError):
            endorsement = b""
        if old is not None and not old.verify(endorsement, endorsement_message(self.ship_id, previous, key)):
            raise ChainProblem(seq, "bad_endorsement", {"key": key.key_id, "previous": previous})
        self.signing_keys[key.key_id] = key
        self.rotations.append((seq, previous, key.key_id))
        self.current_key = key.key_id
        # The rotation entry itself is signed by the old key; the new one signs from the next entry.
        self.key_since[key.key_id] = seq + 1

    def _data_key(self, seq: int, body: bytes) -> None:
        value = self._json(seq, body)
        try:
            dk_id = value["id"]
            if not isinstance(dk_id, str) or not _KEY_ID_RE.match(dk_id) or value.get("aead") != "chacha20poly1305":
                raise ValueError("id")
            wraps = tuple(
                Wrap(
                    recipient=str(w["recipient"]), key_id=str(w["key"]), algorithm=str(w["algorithm"]),
                    kinds=tuple(str(k) for k in w["kinds"]), enc=base64.b64decode(w["enc"], validate=True),
                )
                for w in value["wraps"]
            )
            if any(w.algorithm not in RECIPIENT_ALGORITHMS for w in wraps):
                raise ValueError("algorithm")
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise ChainProblem(seq, "bad_structure", {"reason": "data key announcement"}) from None
        if dk_id in self.data_keys:
            raise ChainProblem(seq, "bad_structure", {"reason": f"data key {dk_id} announced twice"})
        self.data_keys[dk_id] = DataKeyAnnouncement(dk_id, seq, str(value.get("day", "")), wraps)
