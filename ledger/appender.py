"""Appending to the ledger inside the caller's transaction: seal, chain, sign.

One Ledger object lives in each process that records events. It holds the
ship's signing key and, in memory only, the data keys of its current
segments: one per group of institutions that may read a kind of entry, per
UTC day of the entries' time claims. Several processes append to the same
chain; BEGIN IMMEDIATE in the caller serialises them, and each reads the head
inside its own transaction.

A data key is replaced whenever it could otherwise be misused: a new day, a
rolled-back transaction that would bring a sequence number (the nonce) round
again, or an announcement entry that was itself rolled back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from ledger import store
from ledger.chain import (
    DATA_KEY,
    GENESIS,
    RESERVED_PREFIX,
    SIGNING_KEY,
    STRUCTURAL,
    Wrap,
    data_key_body,
    endorsement_message,
    entry_hash,
    format_time,
    genesis_body,
    hash_prefix,
    head_fingerprint,
    head_message,
    header_bytes,
    rotation_body,
    valid_kind,
    valid_ship_id,
)
from ledger.crypto import DataKey, encode_payload, wrap
from ledger.errors import LedgerError
from ledger.keys import PublicKey, SigningKey


@dataclass(frozen=True)
class Recipient:
    """An institution the ship seals entries for, and the kinds of entry its mandate covers."""

    name: str
    key: PublicKey
    kinds: tuple[str, ...] = ("*",)

    def covers(self, kind: str) -> bool:
        return any(fnmatchcase(kind, pattern) for pattern in self.kinds)


class Appended(NamedTuple):
    seq: int
    hash: bytes

    @property
    def fingerprint(self) -> str:
        return head_fingerprint(self.seq, self.hash)


@dataclass
class _Segment:
    key: DataKey
    day: str
    announced_seq: int
    announced_hash: bytes
    last_seq: int


class Ledger:
    def __init__(self, ship_id: str, signing_key: SigningKey, recipients: Sequence[Recipient]) -> None:
        if not valid_ship_id(ship_id):
            raise ValueError(f"ship id {ship_id!r} may hold only letters, digits, '-' and '_'")
        for r in recipients:
            if r.key.role != "recipient":
                raise ValueError(f"{r.name}: a {r.key.role} key cannot receive entries")
        self.ship_id = ship_id
        self.key = signing_key
        self.recipients = tuple(sorted(recipients, key=lambda r: r.name))
        self._prefix = hash_prefix(ship_id)
        self._segments: dict[tuple[str, ...], _Segment] = {}
        self._readers: dict[str, tuple[tuple[Recipient, ...], tuple[str, ...]]] = {}
        self._prepared = False
        self._kinds: set[str] = set()  # kinds already seen to be well formed

    # --- setup ---------------------------------------------------------------------

    def prepare(self, conn: sqlite3.Connection) -> None:
        """Create the tables if needed and check the chain is this ship's; run it once, outside a transaction."""
        store.ensure_schema(conn)
        self._check_owner(conn)
        self._prepared = not conn.in_transaction

    def _check_owner(self, conn: sqlite3.Connection) -> None:
        owner = store.get_meta(conn, "ship_id")
        if owner is not None and owner != self.ship_id:
            raise LedgerError("ledger_other_ship", owner=owner, ship=self.ship_id)

    def readers(self, kind: str) -> tuple[Recipient, ...]:
        return self._scope(kind)[0]

    def _scope(self, kind: str) -> tuple[tuple[Recipient, ...], tuple[str, ...]]:
        """Who may read entries of this kind, and the key ids that name that group."""
        found = self._readers.get(kind)
        if found is None:
            readers = tuple(r for r in self.recipients if r.covers(kind))
            found = self._readers[kind] = (readers, tuple(r.key.key_id for r in readers))
        return found

    # --- appending -----------------------------------------------------------------

    def append(
        self,
        conn: sqlite3.Connection,
        kind: str,
        at: datetime,
        payload: dict[str, Any],
        *,
        amends: int | None = None,
    ) -> Appended:
        """Seal payload as the next entry, in the caller's open transaction, and sign the new head."""
        if not conn.in_transaction:
            raise LedgerError("ledger_not_in_transaction")
        if kind not in self._kinds:
            if not valid_kind(kind):
                raise LedgerError("ledger_bad_kind", kind=kind)
            if kind.startswith(RESERVED_PREFIX):
                raise LedgerError("ledger_reserved_kind", kind=kind)
            self._kinds.add(kind)
        at_text = format_time(at)
        readers, group = self._scope(kind if amends is None else self._amended_kind(conn, amends))
        segment = self._segments.get(group)
        head, announced = self._head(conn, at_text, segment.announced_seq if segment else 0)
        segment, head = self._segment(conn, readers, group, at_text, head, announced)
        seq = head.seq + 1
        header = header_bytes(seq, at_text, kind, segment.key.id, amends)
        body = segment.key.seal(seq, self._prefix + header, encode_payload(payload))
        digest = self._write(conn, seq, head.hash, header, at_text, kind, segment.key.id, amends, body)
        segment.last_seq = seq
        return Appended(seq, digest)

    def rotate(self, conn: sqlite3.Connection, new_key: SigningKey, at: datetime) -> Appended:
        """Hand the chain to a new signing key, endorsed by the current one; old entries still verify."""
        if not conn.in_transaction:
            raise LedgerError("ledger_not_in_transaction")
        if new_key.key_id == self.key.key_id:
            raise LedgerError("ledger_rotation_same_key")
        at_text = format_time(at)
        head, _ = self._head(conn, at_text)
        endorsement = self.key.sign(endorsement_message(self.ship_id, self.key.key_id, new_key.public))
        body = rotation_body(self.ship_id, self.key.key_id, new_key.public, endorsement)
        seq = head.seq + 1
        header = header_bytes(seq, at_text, SIGNING_KEY, "", None)
        digest = self._write(conn, seq, head.hash, header, at_text, SIGNING_KEY, "", None, body)
        store.set_meta(conn, "signing_key", new_key.key_id)
        self.key = new_key
        return Appended(seq, digest)

    # --- internals -----------------------------------------------------------------

    def _head(self, conn: sqlite3.Connection, at_text: str, also_seq: int = 0) -> tuple[store.Head, bytes | None]:
        """The chain's head, written first if the chain is empty, and the hash of entry also_seq."""
        if not self._prepared:
            store.ensure_schema(conn)
            self._check_owner(conn)
        head, also = store.head_and_hash(conn, also_seq)
        if head is None:
            body = genesis_body(self.ship_id, self.key.public)
            header = header_bytes(1, at_text, GENESIS, "", None)
            store.set_meta(conn, "ship_id", self.ship_id)
            store.set_meta(conn, "signing_key", self.key.key_id)
            digest = self._write(conn, 1, bytes(32), header, at_text, GENESIS, "", None, body)
            return store.Head(1, digest, self.key.key_id), None
        if head.signer != self.key.key_id:
            current = store.get_meta(conn, "signing_key")
            if current != self.key.key_id:
                raise LedgerError("ledger_key_retired", key=self.key.key_id, current=current or head.signer)
        return head, also

    def _amended_kind(self, conn: sqlite3.Connection, amends: int) -> str:
        seq = amends
        while True:
            row = conn.execute("SELECT kind, amends FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                raise LedgerError("ledger_unknown_entry", seq=seq)
            kind, earlier = row
            if kind in STRUCTURAL:
                raise LedgerError("ledger_amends_structure", seq=seq, kind=kind)
            if earlier is None:
                return kind
            seq = earlier

    def _segment(
        self,
        conn: sqlite3.Connection,
        readers: tuple[Recipient, ...],
        group: tuple[str, ...],
        at_text: str,
        head: store.Head,
        announced_hash: bytes | None,
    ) -> tuple[_Segment, store.Head]:
        day = at_text[:10]
        segment = self._segments.get(group)
        if (
            segment is not None
            and segment.day == day
            and segment.last_seq < head.seq + 1
            and announced_hash == segment.announced_hash
        ):
            return segment, head
        data_key = DataKey.new()
        wraps = [
            Wrap(r.name, r.key.key_id, r.key.algorithm, r.kinds,
                 wrap(data_key.secret, r.key, self.ship_id, data_key.id))
            for r in readers
        ]
        seq = head.seq + 1
        body = data_key_body(data_key.id, day, wraps)
        header = header_bytes(seq, at_text, DATA_KEY, "", None)
        digest = self._write(conn, seq, head.hash, header, at_text, DATA_KEY, "", None, body)
        segment = _Segment(data_key, day, seq, digest, last_seq=seq)
        self._segments[group] = segment
        return segment, store.Head(seq, digest, self.key.key_id)

    def _write(
        self,
        conn: sqlite3.Connection,
        seq: int,
        prev_hash: bytes,
        header: bytes,
        at_text: str,
        kind: str,
        key_id: str,
        amends: int | None,
        body: bytes,
    ) -> bytes:
        digest = entry_hash(self._prefix, prev_hash, header, body)
        sig = self.key.sign(head_message(self.ship_id, seq, digest))
        store.insert_entry(conn, seq, at_text, kind, key_id, amends, body, prev_hash, digest, self.key.key_id, sig)
        return digest
