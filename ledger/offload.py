"""Offloading at port: everything not yet confirmed ashore, as bundles, to a folder or an HTTP receiver.

What is planned and what became of it lives in ledger_offloads, in the ship's
database: a bundle is "pending" until a receiver's signed receipt confirms it
(then "confirmed"), or it was written to a folder without an answer
("delivered"), or the receiver refused it ("failed", with the reason). Nothing
is marked before the answer arrives, so whatever was in flight when the
computer died is simply sent again; and because a bundle's bytes depend only
on its range, sending it again is recognised ashore as the same bundle.

Uploads go in chunks; after a dropped link the sender asks the receiver how
much it holds and goes on from there, retrying with exponential backoff. A
refused bundle is recorded and the next one is still tried. A conflict
answer says how far the receiver holds the ship's chain; when that matches
the ship's own chain, planning starts again from the entry after it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ledger import bundle as bundle_mod
from ledger import receipts, store
from ledger.errors import LedgerError
from ledger.files import atomic_write
from ledger.keys import PublicKey, SigningKey
from ledger.verify import verify

# progress(sent bytes, total bytes, seconds left or None)
ProgressFn = Callable[[int, int, float | None], None]
CHUNK_SIZE = 256 * 1024

# Entries per bundle at most: a month at sea is some 150,000 entries, which in one
# bundle would take several hundred MB to build or to open.
MAX_BUNDLE_ENTRIES = 20_000


@dataclass
class Delivery:
    status: str  # accepted | already_received | conflict | refused | delivered
    receipt: dict[str, Any] | None = None
    reason: str | None = None
    seq: int | None = None
    message: str = ""


class LinkDown(Exception):
    """The receiver could not be reached, or the link kept dropping, after every retry."""

    def __init__(self, target: str, offset: int, total: int, reason: str) -> None:
        self.target, self.offset, self.total, self.reason = target, offset, total, reason
        super().__init__(f"{target}: link lost at {offset} of {total} bytes ({reason})")


class Target(Protocol):
    label: str

    def deliver(self, name: str, data: bytes, progress: ProgressFn | None) -> Delivery: ...

    def receipts(self) -> list[dict[str, Any]]: ...


class FolderTarget:
    """A folder, typically on a USB drive: bundles are written atomically; receipts may come back in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.label = f"dir:{self.folder}"

    def deliver(self, name: str, data: bytes, progress: ProgressFn | None) -> Delivery:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        if not (path.exists() and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()):
            atomic_write(path, data, mode=0o640)
            if hashlib.sha256(path.read_bytes()).digest() != hashlib.sha256(data).digest():
                raise LinkDown(self.label, 0, len(data), "the written file reads back differently")
        if progress is not None:
            progress(len(data), len(data), 0.0)
        return Delivery("delivered")

    def receipts(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.folder.glob("*.receipt")):
            try:
                found.append(receipts.parse(path.read_bytes()))
            except (OSError, ValueError):
                continue
        return found


class HttpTarget:
    """A receiver's URL; uploads resume from what the receiver says it holds."""

    def __init__(
        self,
        url: str,
        *,
        retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        chunk_size: int = CHUNK_SIZE,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise LedgerError("offload_bad_url", url=url)
        self.label = url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.base = parts.path.rstrip("/")
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.chunk_size, self.timeout, self.sleep = chunk_size, timeout, sleep

    def receipts(self) -> list[dict[str, Any]]:
        return []

    def _request(
        self, conn: http.client.HTTPConnection, method: str, path: str, body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        return response.status, answer, response

    def deliver(self, name: str, data: bytes, progress: ProgressFn | None) -> Delivery:
        path = f"{self.base}/v1/bundles/{name}"
        total = len(data)
        header = bundle_mod.split_header(data)
        header_end = header[3] if header else 0
        attempt = 0
        offset = 0
        started: tuple[float, int] | None = None
        while True:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                status, answer, _ = self._request(conn, "GET", path)
                if status == 200 and answer.get("state") == "received":
                    return _delivery(answer)
                if status not in (200, 404):
                    raise OSError(f"status {status} asking for {name}")
                offset = int(answer.get("offset", 0))
                while True:
                    end = min(total, offset + self.chunk_size)
                    if offset == 0:
                        end = max(end, min(total, header_end))
                    status, answer, response = self._request(
                        conn, "PATCH", path, data[offset:end],
                        {"Upload-Offset": str(offset), "Upload-Length": str(total),
                         "Content-Type": "application/offset+octet-stream"},
                    )
                    if status == 204:
                        offset = int(response.getheader("Upload-Offset", str(end)))
                        attempt = 0
                        started = _report(progress, started, offset, total)
                        continue
                    if status == 409 and answer.get("status") == "offset_mismatch":
                        offset = int(answer.get("offset", 0))
                        continue
                    if status >= 500 or not answer:
                        raise OSError(f"status {status} from the receiver")
                    _report(progress, started, total, total)
                    return _delivery(answer)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                attempt += 1
                if attempt > self.retries:
                    raise LinkDown(self.label, offset, total, str(exc) or type(exc).__name__) from None
                self.sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
            finally:
                conn.close()


def _report(progress: ProgressFn | None, started: tuple[float, int] | None, offset: int, total: int
            ) -> tuple[float, int]:
    now = time.monotonic()
    if started is None:
        started = (now, offset)
    if progress is not None:
        elapsed, done = now - started[0], offset - started[1]
        eta = (total - offset) * elapsed / done if done > 0 and elapsed > 0 else None
        progress(offset, total, eta)
    return started


def _delivery(answer: dict[str, Any]) -> Delivery:
    status = str(answer.get("status", "refused"))
    if status not in ("accepted", "already_received", "conflict", "refused"):
        status = "refused"
    receipt = answer.get("receipt") if isinstance(answer.get("receipt"), dict) else None
    seq = answer.get("seq") if isinstance(answer.get("seq"), int) else None
    return Delivery(status, receipt, answer.get("reason"), seq, str(answer.get("message", "")))


# --- the ship's side --------------------------------------------------------------------


@dataclass
class BundleReport:
    name: str
    first: int
    last: int
    size: int
    status: str
    state: str
    message: str = ""


@dataclass
class OffloadReport:
    target: str
    bundles: list[BundleReport] = field(default_factory=list)
    confirmed_through: int = 0
    head: int = 0
    link_error: LinkDown | None = None

    @property
    def ok(self) -> bool:
        return self.link_error is None and all(b.state != "failed" for b in self.bundles)


@dataclass
class _Row:
    name: str
    first: int
    last: int
    head_hash: bytes
    sha256: str
    state: str


class Offloader:
    def __init__(
        self,
        conn: sqlite3.Connection,
        ship_id: str,
        campaign: str,
        key: SigningKey,
        receipt_keys: dict[str, PublicKey],
        outbox: Path | None,
        now: Callable[[], str],
    ) -> None:
        self.conn = conn
        self.ship_id = ship_id
        self.campaign = campaign
        self.key = key
        self.receipt_keys = receipt_keys
        self.outbox = Path(outbox) if outbox else None
        self.now = now

    def run(self, target: Target, progress: Callable[[BundleReport, int, int, float | None], None] | None = None
            ) -> OffloadReport:
        report = OffloadReport(target=target.label)
        store.ensure_schema(self.conn)
        checked = verify(self.conn, expected_ship=self.ship_id)
        if not checked.ok:
            raise LedgerError("ledger_does_not_verify", problem=checked.problem)
        for receipt in target.receipts():
            self._record_receipt(target.label, receipt)
        resume: int | None = None
        for _round in range(4):
            rows = self._plan(resume)
            replan = False
            for row in rows:
                data = self._bytes(row)
                item = BundleReport(row.name, row.first, row.last, len(data), "", row.state)
                report.bundles.append(item)
                step = (lambda s, t, e, item=item: progress(item, s, t, e)) if progress else None
                try:
                    delivery = target.deliver(row.name, data, step)
                except LinkDown as exc:
                    # Nothing of it reached the receiver: the next run may send one larger
                    # bundle instead. Once bytes are held ashore, the same bundle resumes.
                    fresh = exc.offset == 0 and row.state == "pending"
                    self._touch(row, state="superseded" if fresh else None, error=str(exc))
                    item.status, item.state, item.message = "link_down", row.state, str(exc)
                    report.link_error = exc
                    break
                resume = self._settle(row, delivery, target.label, item)
                if resume is not None:
                    replan = True
                    break
            if report.link_error is not None or not replan:
                break
        report.confirmed_through = self.confirmed_through()
        head = store.head(self.conn)
        report.head = head.seq if head else 0
        return report

    # --- planning ------------------------------------------------------------------------

    def confirmed_through(self) -> int:
        """The last entry a receiver confirmed, by a verified receipt matching this chain."""
        return confirmed_through(self.conn)

    def _plan(self, resume: int | None = None) -> list[_Row]:
        """The bundles to send: those not yet confirmed, then the newer entries.

        Newer entries go in bundles of at most MAX_BUNDLE_ENTRIES, so that building
        one at the ship and opening one at the ministry take memory in proportion
        to the bundle, not to the whole campaign since the last port. With
        `resume` (a receiver said it holds the chain up to resume - 1), bundles
        from there to the head, whatever other receivers confirmed.
        """
        conn = self.conn
        confirmed = self.confirmed_through()
        head = store.head(conn)
        now = self.now()
        if resume is not None:
            if head is None or resume > head.seq:
                return []
            return self._new_rows(resume, head.seq, now)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "UPDATE ledger_offloads SET state = 'confirmed', updated_at = ? "
                "WHERE last_seq <= ? AND state IN ('pending', 'delivered')",
                (now, confirmed),
            )
            rows = [
                _Row(n, f, la, bytes(h), s, st)
                for n, f, la, h, s, st in conn.execute(
                    "SELECT name, first_seq, last_seq, head_hash, sha256, state FROM ledger_offloads "
                    "WHERE state IN ('pending', 'delivered') ORDER BY first_seq, last_seq"
                )
            ]
            covered = conn.execute(
                "SELECT max(last_seq) FROM ledger_offloads WHERE state IN ('pending', 'delivered', 'confirmed')"
            ).fetchone()[0] or 0
            start = max(confirmed, covered) + 1
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if head is not None and start <= head.seq:
            rows.extend(self._new_rows(start, head.seq, now))
        return rows

    def _new_rows(self, first: int, last: int, now: str) -> list[_Row]:
        return [
            self._new_row(start, min(last, start + MAX_BUNDLE_ENTRIES - 1), now)
            for start in range(first, last + 1, MAX_BUNDLE_ENTRIES)
        ]

    def _new_row(self, first: int, last: int, now: str) -> _Row:
        head_hash = store.entry_hash_at(self.conn, last)
        assert head_hash is not None
        name = bundle_mod.bundle_name(self.ship_id, first, last, head_hash)
        self._write(
            "INSERT OR IGNORE INTO ledger_offloads (target, name, first_seq, last_seq, head_hash, state, "
            "created_at, updated_at) VALUES ('', ?, ?, ?, ?, 'pending', ?, ?)",
            (name, first, last, head_hash, now, now),
        )
        sha, state = self.conn.execute(
            "SELECT sha256, state FROM ledger_offloads WHERE name = ?", (name,)
        ).fetchone()
        return _Row(name, first, last, head_hash, sha, state)

    def _bytes(self, row: _Row) -> bytes:
        """The bundle's bytes: the outbox copy when it is intact, else built again (the same bytes)."""
        if self.outbox is not None and row.sha256:
            cached = self.outbox / row.name
            try:
                data = cached.read_bytes()
                if hashlib.sha256(data).hexdigest() == row.sha256:
                    return data
            except OSError:
                pass
        data = bundle_mod.build(self.conn, self.ship_id, self.campaign, row.first, row.last, self.key)
        sha = hashlib.sha256(data).hexdigest()
        if self.outbox is not None:
            self.outbox.mkdir(parents=True, exist_ok=True)
            atomic_write(self.outbox / row.name, data, mode=0o640)
        self._write("UPDATE ledger_offloads SET sha256 = ?, size = ? WHERE name = ?", (sha, len(data), row.name))
        row.sha256 = sha
        return data

    # --- answers -------------------------------------------------------------------------

    def _settle(self, row: _Row, delivery: Delivery, target: str, item: BundleReport) -> int | None:
        """Record what the receiver said; the entry to resume from when the plan must be made again."""
        item.status, item.message = delivery.status, delivery.message
        verified = matches = False
        holds = 0
        if delivery.receipt is not None:
            verified, matches, holds = self._record_receipt(target, delivery.receipt)
        resume = None
        if delivery.status == "delivered":
            state, error = "delivered", None
        elif delivery.status in ("accepted", "already_received"):
            state, error = ("confirmed", None) if verified and matches else ("delivered", "receipt_unverified")
        elif delivery.status == "conflict":
            if verified and matches:
                state, error = ("confirmed", None) if holds >= row.last else ("superseded", None)
                if holds < row.last:
                    resume = holds + 1
            elif verified:
                state, error = "failed", "receiver_holds_other_chain"
            else:
                state, error = "delivered", "receipt_unverified"
        else:
            state, error = "failed", f"{delivery.reason or 'refused'}: {delivery.message}"
        self._touch(row, state=state, error=error, target=target)
        item.state = state
        if error and not item.message:
            item.message = error
        return resume

    def _record_receipt(self, target: str, receipt: dict[str, Any]) -> tuple[bool, bool, int]:
        try:
            receipts.check_shape(receipt)
        except ValueError:
            return False, False, 0
        body = json.dumps(receipt, sort_keys=True)
        verified = receipts.verify(receipt, self.receipt_keys) and receipt["ship"] == self.ship_id
        holds = receipt["holds"]
        ours = store.entry_hash_at(self.conn, holds) if holds > 0 else bytes(32)
        matches = ours is not None and ours.hex() == receipt["head"]
        if self.conn.execute("SELECT 1 FROM ledger_receipts WHERE body = ?", (body,)).fetchone() is None:
            self._write(
                "INSERT INTO ledger_receipts (target, bundle, status, holds, head, receiver_key, verified, matches, "
                "body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (target, receipt["bundle"], receipt["status"], holds, receipt["head"], receipt["receiver"],
                 int(verified), int(matches), body, self.now()),
            )
        return verified, matches, holds

    def _touch(self, row: _Row, *, state: str | None = None, error: str | None = None, target: str | None = None
               ) -> None:
        self._write(
            "UPDATE ledger_offloads SET state = coalesce(?, state), last_error = ?, attempts = attempts + 1, "
            "target = coalesce(?, target), updated_at = ? WHERE name = ?",
            (state, error, target, self.now(), row.name),
        )
        if state is not None:
            row.state = state

    def _write(self, sql: str, params: tuple) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(sql, params)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


def confirmed_through(conn: sqlite3.Connection) -> int:
    if not store.has_ledger(conn):
        return 0
    row = conn.execute(
        "SELECT max(holds) FROM ledger_receipts WHERE verified = 1 AND matches = 1"
    ).fetchone()
    return row[0] or 0
