"""Taking bundles into the central database: verify, check continuity, decrypt, import once.

Each bundle is checked in this order, and the first failure is named: its
shape; that its ship is in the registry; its header signature; that its body
is the one the header signs; the chain it carries (recomputed from the hash
before it to the signed head); that it continues the ship's chain exactly
where the last accepted bundle ended (a gap, a fork, a cut tail and a replay
are each told apart); and that this institution's key opens what it is meant
to. Then everything goes in within one transaction, keyed by the bundle's
SHA-256, so a bundle is imported once however often it arrives. A refused
bundle changes nothing but the list of problems, and never stops the bundles
after it from being tried.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger import bundle as bundle_mod
from ledger import central, receipts
from ledger.bundle import Bundle, BundleProblem, Entry
from ledger.chain import ChainWalker, DataKeyAnnouncement, hash_prefix, header_bytes
from ledger.crypto import DataKey, SealError, payload_text, unwrap
from ledger.files import atomic_write
from ledger.keys import RecipientKey, SigningKey


@dataclass
class IngestOutcome:
    source: str
    status: str  # imported | already_ingested | refused
    name: str | None = None
    ship: str | None = None
    first: int | None = None
    last: int | None = None
    imported_from: int | None = None
    events: int = 0
    sealed: int = 0
    problem: BundleProblem | None = None
    receipt: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status != "refused"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


class Ingester:
    def __init__(
        self,
        conn: sqlite3.Connection,
        key: RecipientKey,
        receipt_key: SigningKey | None = None,
        now: Callable[[], str] = _utc_now,
    ) -> None:
        self.conn = conn
        self.key = key
        self.receipt_key = receipt_key
        self.now = now
        self._data_keys: dict[tuple[str, str, bytes], DataKey] = {}

    def ingest_path(self, path: Path) -> list[IngestOutcome]:
        """One bundle file, or every bundle in a folder in chain order (names sort by ship, then range)."""
        path = Path(path)
        files = sorted(path.glob(f"*{bundle_mod.SUFFIX}")) if path.is_dir() else [path]
        return [self.ingest_file(f) for f in files]

    def ingest_file(self, path: Path) -> IngestOutcome:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            problem = BundleProblem("malformed", reason=exc.strerror or str(exc))
            return IngestOutcome(source=str(path), status="refused", problem=problem)
        outcome = self.ingest_bytes(data, Path(path).name)
        if self.receipt_key is not None and outcome.receipt is not None:
            # A receipt that cannot be written (a read-only drive) changes nothing of the import.
            with contextlib.suppress(OSError):
                atomic_write(Path(path).with_name(Path(path).name + ".receipt"),
                             json.dumps(outcome.receipt, indent=1).encode())
        return outcome

    def ingest_bytes(self, data: bytes, source: str) -> IngestOutcome:
        sha = hashlib.sha256(data).hexdigest()
        outcome = IngestOutcome(source=source, status="refused")
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT name, ship_id, first_seq, last_seq FROM bundles WHERE sha256 = ?",
                                (sha,)).fetchone()
            if done is not None:
                outcome.status = "already_ingested"
                outcome.name, outcome.ship, outcome.first, outcome.last = done
                holds, head, _ = central.chain_state(conn, outcome.ship)
                outcome.receipt = self._receipt(outcome, sha, "already_received", holds, head)
                conn.execute("COMMIT")
                return outcome
            self._ingest(data, sha, outcome)
        except BundleProblem as problem:
            conn.execute("ROLLBACK")
            outcome.status = "refused"
            outcome.problem = problem
            self._record_problem(source, sha, outcome)
            return outcome
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return outcome

    # --- the checks, in order ----------------------------------------------------------

    def _ingest(self, data: bytes, sha: str, outcome: IngestOutcome) -> None:
        conn = self.conn
        b = bundle_mod.parse(data)
        outcome.name, outcome.ship, outcome.first, outcome.last = b.name, b.ship, b.first, b.last
        if not central.is_known_ship(conn, b.ship):
            raise BundleProblem("unknown_ship", ship=b.ship)
        known_keys = central.ship_keys(conn, b.ship)
        bundle_mod.check_signature(b, known_keys)
        items = bundle_mod.entries(b)
        holds, head, current_key = central.chain_state(conn, b.ship)
        start = self._continuity(b, items, holds, head, outcome)
        new_items = items[start - b.first:]
        announced = central.data_keys(conn, b.ship)
        walker = ChainWalker(
            b.ship, prev_hash=head, next_seq=start,
            signing_keys=bundle_mod.header_keys(b.header, b.ship, known_keys),
            current_key=current_key, known_data_keys=set(announced),
        )
        hashes = self._walk_from(b, new_items, walker)
        announced.update(walker.data_keys)
        events = self._open_all(b.ship, new_items, announced)
        self._check_addressed(b.ship, new_items, announced, events)
        now = self.now()
        name = b.name
        conn.executemany(
            "INSERT INTO entries (ship_id, seq, at, kind, key_id, amends, body, hash, bundle) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (b.ship, e.seq, e.at, e.kind, e.key_id, e.amends, e.body, h, name)
                for e, h in zip(new_items, hashes, strict=True)
            ],
        )
        conn.executemany(
            "INSERT INTO data_keys (ship_id, id, seq, day, wraps) VALUES (?, ?, ?, ?, ?)",
            [(b.ship, a.id, a.seq, a.day, central.wraps_json(a)) for a in walker.data_keys.values()],
        )
        conn.executemany(
            "INSERT INTO events (ship_id, seq, kind, at, amends, payload) VALUES (?, ?, ?, ?, ?, ?)",
            [(b.ship, e.seq, e.kind, e.at, e.amends, payload) for e, payload in events],
        )
        for _, _, new_id in walker.rotations:
            key = walker.signing_keys[new_id]
            conn.execute(
                "INSERT OR IGNORE INTO ship_keys (ship_id, key_id, public, source) VALUES (?, ?, ?, 'chain')",
                (b.ship, key.key_id, key.raw),
            )
        conn.execute(
            "INSERT INTO chains (ship_id, holds, head, current_key, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(ship_id) DO UPDATE SET holds = excluded.holds, head = excluded.head, "
            "current_key = excluded.current_key, updated_at = excluded.updated_at",
            (b.ship, b.last, b.head_hash, walker.current_key, now),
        )
        sealed = sum(1 for e in new_items if e.key_id) - len(events)
        conn.execute(
            "INSERT INTO bundles (sha256, name, ship_id, campaign, first_seq, last_seq, head, imported_from, events, "
            "sealed, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sha, b.name, b.ship, b.header["campaign"], b.first, b.last, b.head_hash, start, len(events), sealed, now),
        )
        outcome.status = "imported"
        outcome.imported_from = start
        outcome.events = len(events)
        outcome.sealed = sealed
        outcome.receipt = self._receipt(outcome, sha, "accepted", b.last, b.head_hash)

    def _continuity(self, b: Bundle, items: list[Entry], holds: int, head: bytes, outcome: IngestOutcome) -> int:
        """Where the new part of the bundle starts; BundleProblem for a gap, fork, cut tail or replay."""
        if b.first > holds + 1:
            self._conflict_receipt(outcome, b, holds, head)
            raise BundleProblem("gap", first=b.first, holds=holds, missing_from=holds + 1, missing_to=b.first - 1)
        if b.first == holds + 1:
            if b.prev_hash != head:
                raise BundleProblem("fork", seq=holds)
            return b.first
        # The bundle overlaps what is held: it must agree with it entry by entry.
        held = central.hashes(self.conn, b.ship, b.first - 1, min(b.last, holds))
        if b.first > 1 and held.get(b.first - 1) != b.prev_hash:
            raise BundleProblem("fork", seq=b.first - 1)
        walker = ChainWalker(b.ship, prev_hash=b.prev_hash, next_seq=b.first)
        ours = bundle_mod.walk(b, items, walker)
        for e, h in zip(items, ours, strict=True):
            if e.seq > holds:
                break
            if held.get(e.seq) != h:
                if e.seq == 1:
                    raise BundleProblem("fork", seq=1)
                raise BundleProblem("cut_tail", seq=e.seq - 1, holds=holds)
        if b.last <= holds:
            self._conflict_receipt(outcome, b, holds, head)
            raise BundleProblem("replay", holds=holds)
        return holds + 1

    def _walk_from(self, b: Bundle, new_items: list[Entry], walker: ChainWalker) -> list[bytes]:
        return bundle_mod.walk_items(new_items, walker, b.head_hash)

    def _open_all(
        self, ship: str, items: list[Entry], announced: dict[str, DataKeyAnnouncement]
    ) -> list[tuple[Entry, str]]:
        prefix = hash_prefix(ship)
        out = []
        for e in items:
            if not e.key_id:
                continue
            data_key = self._data_key(ship, announced[e.key_id])
            if data_key is None:
                continue
            aad = prefix + header_bytes(e.seq, e.at, e.kind, e.key_id, e.amends)
            try:
                plain = data_key.open(e.seq, aad, e.body)
            except SealError:
                raise BundleProblem("undecryptable", seq=e.seq) from None
            try:
                text = payload_text(plain)
            except (ValueError, UnicodeDecodeError, zlib.error):
                raise BundleProblem("bad_payload", seq=e.seq) from None
            out.append((e, text))
        return out

    def _data_key(self, ship: str, announcement: DataKeyAnnouncement) -> DataKey | None:
        ours = next((w for w in announcement.wraps if w.key_id == self.key.key_id), None)
        if ours is None:
            return None
        cache_key = (ship, announcement.id, ours.enc)
        data_key = self._data_keys.get(cache_key)
        if data_key is None:
            try:
                data_key = DataKey(announcement.id, unwrap(ours.enc, self.key, ship, announcement.id))
            except SealError:
                raise BundleProblem("undecryptable", seq=announcement.seq) from None
            self._data_keys[cache_key] = data_key
        return data_key

    def _check_addressed(
        self, ship: str, items: list[Entry], announced: dict[str, DataKeyAnnouncement], events: list
    ) -> None:
        """Refuse a bundle sealed for others entirely when this key was never one of the ship's recipients."""
        sealed = [e for e in items if e.key_id]
        if events or not sealed:
            return
        if any(w.key_id == self.key.key_id for a in announced.values() for w in a.wraps):
            return
        addressed = sorted({f"{w.recipient} ({w.key_id})" for e in sealed for w in announced[e.key_id].wraps})
        raise BundleProblem("wrong_key", key=self.key.key_id, name=self.key.name,
                            addressed=", ".join(addressed) or "nobody")

    # --- records -------------------------------------------------------------------------

    def _receipt(
        self, outcome: IngestOutcome, sha: str, status: str, holds: int, head: bytes, reason: str | None = None
    ) -> dict[str, Any] | None:
        if self.receipt_key is None or outcome.ship is None or outcome.name is None:
            return None
        return receipts.make(self.receipt_key, ship=outcome.ship, bundle=outcome.name, sha256=sha, status=status,
                             holds=holds, head=head, at=self.now(), reason=reason)

    def _conflict_receipt(self, outcome: IngestOutcome, b: Bundle, holds: int, head: bytes) -> None:
        outcome.receipt = self._receipt(outcome, b.sha256, "conflict", holds, head)

    def _record_problem(self, source: str, sha: str, outcome: IngestOutcome) -> None:
        problem = outcome.problem
        assert problem is not None
        self.conn.execute(
            "INSERT INTO problems (source, sha256, ship_id, code, seq, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (source, sha, outcome.ship, problem.code, problem.seq, str(problem), self.now()),
        )
