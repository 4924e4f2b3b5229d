"""Bundles: a range of the chain, sealed for the trip ashore.

A bundle file is

    PIAS-BUNDLE 1 LF
    header (canonical JSON) LF
    Ed25519 signature of the header, base64 LF
    body: zlib-compressed columns of the entries

The header names the ship, campaign, the sequence range, the hash before the
range and the head hash after it, the signing keys of the chain (each new one
endorsed by the one before, so a receiver that knows only the first can
follow a rotation), and the SHA-256 of the body; the ship signs it. The
entries are already sealed, so the body is compressed but not encrypted
again; it holds no per-entry hashes or signatures, because a receiver
recomputes the chain from the header's starting hash and must arrive at its
signed head.

The same range of the same chain signed by the same key always gives the same
name and the same bytes: JSON is canonical, zlib's level is fixed and Ed25519
signatures are deterministic. So a re-sent bundle is recognisably the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
import zlib
from dataclasses import dataclass
from typing import Any

from ledger import store
from ledger.chain import (
    GENESIS,
    SIGNING_KEY,
    ZERO_HASH,
    ChainProblem,
    ChainWalker,
    canonical_json,
    describe,
    endorsement_message,
    valid_ship_id,
)
from ledger.keys import ED25519, PublicKey, SigningKey

MAGIC = b"PIAS-BUNDLE 1\n"
SIGNED_PREFIX = b"PIAS-BUNDLE-1\n"
SUFFIX = ".pias"
COMPRESSION = "zlib-6"
MAX_HEADER = 1 << 20
MAX_PLAIN = 1 << 31


class BundleProblem(Exception):
    """Why a bundle cannot be accepted: a code, its parameters, and the entry when one is to blame."""

    def __init__(self, code: str, seq: int | None = None, **params: Any) -> None:
        self.code = code
        self.seq = seq
        self.params = params
        super().__init__(code)

    def __str__(self) -> str:
        text = BUNDLE_PROBLEMS.get(self.code, self.code)
        try:
            text = text.format(seq=self.seq, **self.params)
        except (KeyError, IndexError, ValueError):
            text = f"{self.code} {self.params}"
        return text


BUNDLE_PROBLEMS = {
    "malformed": "not a PIAS bundle ({reason})",
    "unknown_ship": "comes from ship {ship}, which is not in the registry of known ships",
    "unknown_signer": "is signed by key {key}, which is not a known key of ship {ship}",
    "bad_signature": "its header is not signed by ship {ship} (altered or forged)",
    "body_mismatch": "its entries do not match the signed header (altered, removed or reordered)",
    "chain": "entry {seq}: {detail}",
    "head_mismatch": "its entries do not lead to the signed head (altered, removed or reordered)",
    "wrong_name": "its file name does not match its content (expected {expected})",
    "gap": "starts at entry {first}, but entries up to {holds} only are held: entries {missing_from} to "
    "{missing_to} are missing",
    "fork": "entry {seq} differs from the entry {seq} already accepted from this ship (same number, "
    "different bytes)",
    "cut_tail": "the ship's chain was cut back to entry {seq} and continued differently; entries up to "
    "{holds} had already been accepted",
    "replay": "holds only entries already accepted (up to {holds}): a replay of an old bundle",
    "wrong_key": "none of its entries is sealed for key {key} ({name}); it is sealed for: {addressed}",
    "undecryptable": "entry {seq} does not open with the key it is sealed for",
    "bad_payload": "entry {seq} opens, but its payload is not a readable record",
}


def bundle_name(ship_id: str, first: int, last: int, head_hash: bytes) -> str:
    return f"{ship_id}_{first:09d}-{last:09d}_{head_hash[:4].hex()}{SUFFIX}"


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    kind: str
    key_id: str
    amends: int | None
    body: bytes


@dataclass
class Bundle:
    """A parsed bundle: header fields checked for shape, nothing trusted yet."""

    header: dict[str, Any]
    signature: bytes
    header_bytes: bytes
    body: bytes
    data: bytes

    @property
    def ship(self) -> str:
        return self.header["ship"]

    @property
    def first(self) -> int:
        return self.header["first"]

    @property
    def last(self) -> int:
        return self.header["last"]

    @property
    def prev_hash(self) -> bytes:
        return bytes.fromhex(self.header["prev_hash"])

    @property
    def head_hash(self) -> bytes:
        return bytes.fromhex(self.header["head_hash"])

    @property
    def name(self) -> str:
        return bundle_name(self.ship, self.first, self.last, self.head_hash)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# --- building ------------------------------------------------------------------------


def chain_keys(conn: sqlite3.Connection, signer: str) -> list[dict[str, Any]]:
    """The chain's signing keys, genesis first, each later one with its endorsement; up to `signer`."""
    rows = conn.execute(
        "SELECT kind, body FROM ledger_entries WHERE kind IN (?, ?) ORDER BY seq", (GENESIS, SIGNING_KEY)
    ).fetchall()
    out: list[dict[str, Any]] = []
    for kind, body in rows:
        value = json.loads(bytes(body))
        item = {"key": value["signing_key"]}
        if kind == SIGNING_KEY:
            item["previous"] = value["previous"]
            item["endorsement"] = value["endorsement"]
        out.append(item)
        if value["signing_key"]["id"] == signer:
            break
    return out


def build(
    conn: sqlite3.Connection, ship_id: str, campaign: str, first: int, last: int, key: SigningKey
) -> bytes:
    """The bundle of entries first..last of the chain in conn, signed with key."""
    rows = conn.execute(
        "SELECT seq, at, kind, key_id, amends, body, hash FROM ledger_entries WHERE seq BETWEEN ? AND ? ORDER BY seq",
        (first, last),
    ).fetchall()
    if not rows or rows[0][0] != first or rows[-1][0] != last or len(rows) != last - first + 1:
        raise ValueError(f"entries {first} to {last} are not all in the ledger")
    prev = ZERO_HASH if first == 1 else store.entry_hash_at(conn, first - 1)
    if prev is None:
        raise ValueError(f"entry {first - 1} is not in the ledger")
    columns = {
        "at": [r[1] for r in rows],
        "kind": [r[2] for r in rows],
        "key": [r[3] for r in rows],
        "amends": [r[4] for r in rows],
        "size": [len(r[5]) for r in rows],
    }
    plain = canonical_json(columns) + b"\n" + b"".join(bytes(r[5]) for r in rows)
    body = zlib.compress(plain, 6)
    header = {
        "format": 1,
        "ship": ship_id,
        "campaign": campaign,
        "first": first,
        "last": last,
        "count": len(rows),
        "prev_hash": prev.hex(),
        "head_hash": bytes(rows[-1][6]).hex(),
        "head_at": rows[-1][1],
        "signer": key.key_id,
        "keys": chain_keys(conn, key.key_id),
        "compression": COMPRESSION,
        "plain_size": len(plain),
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    header_bytes = canonical_json(header)
    signature = key.sign(SIGNED_PREFIX + header_bytes)
    return MAGIC + header_bytes + b"\n" + base64.b64encode(signature) + b"\n" + body


# --- reading -------------------------------------------------------------------------


def split_header(data: bytes) -> tuple[dict[str, Any], bytes, bytes, int] | None:
    """(header, signature, header bytes, offset of the body) once data holds the whole header, else None.

    Raises BundleProblem("malformed") as soon as the prefix cannot be a bundle,
    so a receiver can refuse a stranger's upload after its first bytes.
    """
    if len(data) < len(MAGIC):
        if not MAGIC.startswith(data):
            raise BundleProblem("malformed", reason="no PIAS-BUNDLE line")
        return None
    if not data.startswith(MAGIC):
        raise BundleProblem("malformed", reason="no PIAS-BUNDLE line")
    end_header = data.find(b"\n", len(MAGIC))
    if end_header < 0:
        if len(data) > MAX_HEADER:
            raise BundleProblem("malformed", reason="header too long")
        return None
    end_sig = data.find(b"\n", end_header + 1)
    if end_sig < 0:
        if len(data) - end_header > 200:
            raise BundleProblem("malformed", reason="bad signature line")
        return None
    header_bytes = data[len(MAGIC) : end_header]
    try:
        header = json.loads(header_bytes.decode("utf-8"))
        signature = base64.b64decode(data[end_header + 1 : end_sig], validate=True)
    except (UnicodeDecodeError, ValueError, binascii.Error):
        raise BundleProblem("malformed", reason="unreadable header or signature") from None
    _check_header(header)
    if len(signature) != 64 or base64.b64encode(signature) != data[end_header + 1 : end_sig]:
        # Only the one canonical spelling: otherwise two different files could be the same bundle.
        raise BundleProblem("malformed", reason="bad signature line")
    return header, signature, header_bytes, end_sig + 1


def parse(data: bytes) -> Bundle:
    found = split_header(data)
    if found is None:
        raise BundleProblem("malformed", reason="truncated header")
    header, signature, header_bytes, offset = found
    body = data[offset:]
    return Bundle(header=header, signature=signature, header_bytes=header_bytes, body=body, data=data)


def _check_header(h: Any) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise BundleProblem("malformed", reason=what)

    need(isinstance(h, dict), "header is not an object")
    need(h.get("format") == 1, "unknown format")
    need(isinstance(h.get("ship"), str) and valid_ship_id(h["ship"]), "ship id")
    need(isinstance(h.get("campaign"), str), "campaign")
    for name in ("first", "last", "count", "plain_size", "body_size"):
        need(isinstance(h.get(name), int) and not isinstance(h.get(name), bool) and h[name] >= 0, name)
    need(1 <= h["first"] <= h["last"] and h["count"] == h["last"] - h["first"] + 1, "range")
    need(h["plain_size"] <= MAX_PLAIN, "declared size too large")
    for name in ("prev_hash", "head_hash", "body_sha256"):
        need(isinstance(h.get(name), str) and len(h[name]) == 64 and _is_hex(h[name]), name)
    need(isinstance(h.get("signer"), str) and len(h["signer"]) == 16 and _is_hex(h["signer"]), "signer")
    need(h.get("compression") == COMPRESSION, "compression")
    need(isinstance(h.get("keys"), list) and len(h["keys"]) >= 1, "keys")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def header_keys(bundle_header: dict[str, Any], ship_id: str, known: dict[str, PublicKey]) -> dict[str, PublicKey]:
    """Known keys plus those the header's endorsements lead to from a known key."""
    keys = dict(known)
    for item in bundle_header.get("keys", []):
        try:
            value = item["key"]
            raw = base64.b64decode(value["public"], validate=True)
            if value.get("algorithm") != ED25519 or len(raw) != 32:
                continue
            key = PublicKey("ship", ship_id, ED25519, raw)
            if key.key_id != value.get("id") or key.key_id in keys:
                continue
            previous = keys.get(item.get("previous", ""))
            if previous is None:
                continue
            endorsement = base64.b64decode(item.get("endorsement", ""), validate=True)
            if previous.verify(endorsement, endorsement_message(ship_id, previous.key_id, key)):
                keys[key.key_id] = key
        except (KeyError, TypeError, ValueError, binascii.Error):
            continue
    return keys


def check_signature(bundle: Bundle, known: dict[str, PublicKey]) -> PublicKey:
    """The ship key that signed the header; BundleProblem if none of the ship's known keys did."""
    keys = header_keys(bundle.header, bundle.ship, known)
    signer = keys.get(bundle.header["signer"])
    if signer is None:
        raise BundleProblem("unknown_signer", key=bundle.header["signer"], ship=bundle.ship)
    if not signer.verify(bundle.signature, SIGNED_PREFIX + bundle.header_bytes):
        raise BundleProblem("bad_signature", ship=bundle.ship)
    return signer


def entries(bundle: Bundle) -> list[Entry]:
    """Decompress and decode the body, checking it against the signed header first."""
    h = bundle.header
    if len(bundle.body) != h["body_size"] or hashlib.sha256(bundle.body).hexdigest() != h["body_sha256"]:
        raise BundleProblem("body_mismatch")
    inflater = zlib.decompressobj()
    try:
        plain = inflater.decompress(bundle.body, h["plain_size"] + 1)
    except zlib.error:
        raise BundleProblem("malformed", reason="body does not decompress") from None
    if len(plain) != h["plain_size"] or not inflater.eof or inflater.unused_data:
        raise BundleProblem("malformed", reason="body size differs from the header")
    newline = plain.find(b"\n")
    try:
        columns = json.loads(plain[:newline].decode("utf-8"))
        ats, kinds, keys, amends, sizes = (columns[k] for k in ("at", "kind", "key", "amends", "size"))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise BundleProblem("malformed", reason="unreadable entry columns") from None
    count = h["count"]
    if newline < 0 or not all(isinstance(c, list) and len(c) == count for c in (ats, kinds, keys, amends, sizes)):
        raise BundleProblem("malformed", reason="entry columns do not match the count")
    out: list[Entry] = []
    offset = newline + 1
    for i in range(count):
        size = sizes[i]
        if not isinstance(size, int) or size < 0 or offset + size > len(plain):
            raise BundleProblem("malformed", reason="entry sizes")
        a = amends[i]
        if not (isinstance(ats[i], str) and isinstance(kinds[i], str) and isinstance(keys[i], str)) or not (
            a is None or (isinstance(a, int) and not isinstance(a, bool))
        ):
            raise BundleProblem("malformed", reason="entry fields")
        out.append(Entry(h["first"] + i, ats[i], kinds[i], keys[i], a, plain[offset : offset + size]))
        offset += size
    if offset != len(plain):
        raise BundleProblem("malformed", reason="trailing bytes")
    return out


def walk(bundle: Bundle, items: list[Entry], walker: ChainWalker) -> list[bytes]:
    """Recompute the chain over the bundle's entries; their hashes, or BundleProblem."""
    if walker.prev_hash != bundle.prev_hash or walker.next_seq != bundle.first:
        raise ValueError("the walker must start where the bundle starts")
    return walk_items(items, walker, bundle.head_hash)


def walk_items(items: list[Entry], walker: ChainWalker, head_hash: bytes) -> list[bytes]:
    """Step the walker over the entries, which must end at head_hash; their hashes, or BundleProblem."""
    hashes = []
    try:
        for e in items:
            hashes.append(walker.step(e.seq, e.at, e.kind, e.key_id, e.amends, e.body))
    except ChainProblem as problem:
        raise BundleProblem("chain", seq=problem.seq, detail=describe(problem.code, problem.params)) from None
    if hashes[-1] != head_hash:
        raise BundleProblem("head_mismatch")
    return hashes
