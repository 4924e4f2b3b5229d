"""A small HTTP receiver for bundles: resumable uploads, checked before anything is stored.

Protocol (all answers are JSON; those about a bundle carry a receipt signed
with the receiver's key):

    GET   /v1/bundles/NAME    where an upload stands: {"state": "unknown"|"partial"|"received", "offset": n}
    PATCH /v1/bundles/NAME    Upload-Offset, Upload-Length headers; the body is the next chunk

The first chunk must hold the bundle's whole header: the receiver checks the
ship is known and the header signature before it writes a single byte. Chunks
are appended to a staging file and flushed, so an upload cut at 90% resumes
at the last whole chunk. When the last chunk arrives the whole bundle is
checked (body against the signed header, the chain against its signed head)
and compared with what this receiver already holds of that ship's chain:

    200 accepted           it continues the chain exactly; it is stored in INBOX/SHIP/
    200 already_received   the same bytes again: nothing changes
    409 conflict           it does not start where the held chain ends; `holds` names the
                           last entry held, so the ship resumes from there
    422 refused (fork)     same sequence numbers, different bytes: kept aside as evidence
    403 refused            unknown ship or bad signature
    400                    not a bundle, or a malformed request
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ledger import bundle as bundle_mod
from ledger import receipts
from ledger.bundle import BundleProblem
from ledger.chain import ZERO_HASH, ChainWalker
from ledger.files import fsync_dir
from ledger.keys import ED25519, PublicKey, SigningKey

NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}_\d{9}-\d{9}_[0-9a-f]{8}\.pias$")
MAX_CHUNK = 16 * 2**20
MAX_BUNDLE = 2**31

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS ship_keys (
        ship_id TEXT NOT NULL, key_id TEXT NOT NULL, public BLOB NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (ship_id, key_id))""",
    """CREATE TABLE IF NOT EXISTS chains (ship_id TEXT PRIMARY KEY, holds INTEGER NOT NULL, head BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS hashes (
        ship_id TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (ship_id, seq))""",
    """CREATE TABLE IF NOT EXISTS bundles (
        name TEXT NOT NULL, sha256 TEXT NOT NULL, ship_id TEXT NOT NULL, first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL, path TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (sha256))""",
    """CREATE TABLE IF NOT EXISTS evidence (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, ship_id TEXT NOT NULL,
        seq INTEGER, reason TEXT NOT NULL, path TEXT NOT NULL, at TEXT NOT NULL)""",
]


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


class Inbox:
    """The receiver's state: its own small database, staged uploads, accepted bundles, evidence."""

    def __init__(
        self,
        folder: Path,
        receipt_key: SigningKey,
        registry: list[PublicKey],
        now: Callable[[], str] = _utc_now,
    ) -> None:
        self.folder = Path(folder)
        self.staging = self.folder / ".partial"
        self.evidence = self.folder / "evidence"
        for f in (self.folder, self.staging, self.evidence):
            f.mkdir(parents=True, exist_ok=True)
        self.key = receipt_key
        self.now = now
        self.lock = threading.Lock()
        self.db = sqlite3.connect(str(self.folder / "receiver.db"), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("PRAGMA busy_timeout = 15000")
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                self.db.execute(statement)
            for key in registry:
                self.db.execute(
                    "INSERT OR IGNORE INTO ship_keys (ship_id, key_id, public, source) VALUES (?, ?, ?, 'registry')",
                    (key.name, key.key_id, key.raw),
                )
            self.db.execute("COMMIT")

    # --- state -----------------------------------------------------------------------

    def known_keys(self, ship: str) -> dict[str, PublicKey]:
        rows = self.db.execute("SELECT key_id, public FROM ship_keys WHERE ship_id = ?", (ship,)).fetchall()
        return {k: PublicKey("ship", ship, ED25519, bytes(raw)) for k, raw in rows}

    def chain(self, ship: str) -> tuple[int, bytes]:
        row = self.db.execute("SELECT holds, head FROM chains WHERE ship_id = ?", (ship,)).fetchone()
        return (0, ZERO_HASH) if row is None else (row[0], bytes(row[1]))

    def _answer(
        self, status: str, ship: str, name: str, sha: str, *, reason: str | None = None, seq: int | None = None,
        message: str = "",
    ) -> dict[str, Any]:
        holds, head = self.chain(ship)
        receipt = receipts.make(self.key, ship=ship, bundle=name, sha256=sha, status=status, holds=holds,
                                head=head, at=self.now(), reason=reason, seq=seq)
        answer: dict[str, Any] = {"status": status, "holds": holds, "receipt": receipt}
        if reason is not None:
            answer["reason"] = reason
        if seq is not None:
            answer["seq"] = seq
        if message:
            answer["message"] = message
        return answer

    # --- requests --------------------------------------------------------------------

    def status(self, name: str) -> tuple[int, dict[str, Any]]:
        if not NAME_RE.match(name):
            return 400, {"status": "bad_request", "message": "not a bundle name"}
        with self.lock:
            row = self.db.execute("SELECT ship_id, sha256 FROM bundles WHERE name = ?", (name,)).fetchone()
            if row is not None:
                answer = self._answer("already_received", row[0], name, row[1])
                answer["state"] = "received"
                return 200, answer
            part = self.staging / (name + ".part")
            if part.exists():
                return 200, {"state": "partial", "offset": part.stat().st_size}
            return 404, {"state": "unknown", "offset": 0}

    def receive(self, name: str, offset: int, length: int, chunk: bytes) -> tuple[int, dict[str, Any], int | None]:
        """Take one chunk; (HTTP status, answer, new offset when more is expected)."""
        if not NAME_RE.match(name):
            return 400, {"status": "bad_request", "message": "not a bundle name"}, None
        if not 0 < length <= MAX_BUNDLE or offset < 0 or offset + len(chunk) > length:
            return 400, {"status": "bad_request", "message": "bad Upload-Offset or Upload-Length"}, None
        with self.lock:
            part = self.staging / (name + ".part")
            current = part.stat().st_size if part.exists() else 0
            if offset != current:
                return 409, {"status": "offset_mismatch", "offset": current}, None
            if offset == 0:
                refusal = self._check_first_chunk(name, length, chunk)
                if refusal is not None:
                    return refusal[0], refusal[1], None
            with open(part, "ab") as f:
                f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            if current + len(chunk) < length:
                return 204, {}, current + len(chunk)
            status, answer = self._finalize(name, part)
            return status, answer, None

    def _check_first_chunk(self, name: str, length: int, chunk: bytes) -> tuple[int, dict[str, Any]] | None:
        try:
            found = bundle_mod.split_header(chunk)
            if found is None:
                return 400, {"status": "bad_request", "message": "the first chunk must hold the whole header"}
            header, signature, header_bytes, body_at = found
            b = bundle_mod.Bundle(header, signature, header_bytes, b"", chunk)
            if b.name != name:
                raise BundleProblem("wrong_name", expected=b.name)
            if body_at + header["body_size"] != length:
                raise BundleProblem("malformed", reason="Upload-Length differs from the header")
            known = self.known_keys(b.ship)
            if not known:
                raise BundleProblem("unknown_ship", ship=b.ship)
            bundle_mod.check_signature(b, known)
        except BundleProblem as problem:
            code = 403 if problem.code in ("unknown_ship", "unknown_signer", "bad_signature") else 400
            return code, {"status": "refused", "reason": problem.code, "message": str(problem)}
        return None

    def _finalize(self, name: str, part: Path) -> tuple[int, dict[str, Any]]:
        data = part.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        try:
            b = bundle_mod.parse(data)
            known = self.known_keys(b.ship)
            bundle_mod.check_signature(b, known)
            items = bundle_mod.entries(b)
        except BundleProblem as problem:
            part.unlink()
            return 422, {"status": "refused", "reason": problem.code, "message": str(problem)}
        if self.db.execute("SELECT 1 FROM bundles WHERE sha256 = ?", (sha,)).fetchone():
            part.unlink()
            return 200, self._answer("already_received", b.ship, name, sha)
        holds, head = self.chain(b.ship)
        if b.first > holds + 1:
            part.unlink()
            problem = BundleProblem("gap", first=b.first, holds=holds, missing_from=holds + 1, missing_to=b.first - 1)
            return 409, self._answer("conflict", b.ship, name, sha, reason="gap", message=str(problem))
        try:
            walker = ChainWalker(b.ship, prev_hash=b.prev_hash, next_seq=b.first,
                                 signing_keys=bundle_mod.header_keys(b.header, b.ship, known))
            hashes = bundle_mod.walk(b, items, walker)
        except BundleProblem as problem:
            return 422, self._evidence(part, b, sha, problem)
        if b.first <= holds:
            held = self.db.execute(
                "SELECT seq, hash FROM hashes WHERE ship_id = ? AND seq BETWEEN ? AND ?",
                (b.ship, b.first - 1, min(b.last, holds)),
            ).fetchall()
            held_map = {seq: bytes(h) for seq, h in held}
            if b.first > 1 and held_map.get(b.first - 1) != b.prev_hash:
                return 422, self._evidence(part, b, sha, BundleProblem("fork", seq=b.first - 1))
            for e, h in zip(items, hashes, strict=True):
                if e.seq > holds:
                    break
                if held_map.get(e.seq) != h:
                    return 422, self._evidence(part, b, sha, BundleProblem("fork", seq=e.seq))
            part.unlink()
            problem = BundleProblem("replay", holds=holds) if b.last <= holds else None
            message = str(problem) if problem else f"entries up to {holds} are already held; send from {holds + 1}"
            return 409, self._answer("conflict", b.ship, name, sha, reason="overlap", message=message)
        if b.prev_hash != head:
            return 422, self._evidence(part, b, sha, BundleProblem("fork", seq=holds))
        return 200, self._accept(part, b, sha, hashes, walker)

    def _accept(self, part: Path, b: bundle_mod.Bundle, sha: str, hashes: list[bytes], walker: ChainWalker) -> dict:
        ship_dir = self.folder / b.ship
        ship_dir.mkdir(exist_ok=True)
        target = ship_dir / b.name
        os.replace(part, target)
        fsync_dir(ship_dir)
        fsync_dir(self.staging)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT OR REPLACE INTO hashes (ship_id, seq, hash) VALUES (?, ?, ?)",
                [(b.ship, b.first + i, h) for i, h in enumerate(hashes)],
            )
            self.db.execute(
                "INSERT INTO chains (ship_id, holds, head) VALUES (?, ?, ?) ON CONFLICT(ship_id) DO UPDATE "
                "SET holds = excluded.holds, head = excluded.head",
                (b.ship, b.last, b.head_hash),
            )
            for _, _, new_id in walker.rotations:
                key = walker.signing_keys[new_id]
                self.db.execute(
                    "INSERT OR IGNORE INTO ship_keys (ship_id, key_id, public, source) VALUES (?, ?, ?, 'chain')",
                    (b.ship, key.key_id, key.raw),
                )
            self.db.execute(
                "INSERT INTO bundles (name, sha256, ship_id, first_seq, last_seq, path, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (b.name, sha, b.ship, b.first, b.last, str(target.relative_to(self.folder)), self.now()),
            )
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return self._answer("accepted", b.ship, b.name, sha)

    def _evidence(self, part: Path, b: bundle_mod.Bundle, sha: str, problem: BundleProblem) -> dict[str, Any]:
        """Keep a bundle that contradicts the held chain, signed by the ship, as evidence; never as data."""
        target = self.evidence / f"{b.name}.{sha[:12]}"
        os.replace(part, target)
        fsync_dir(self.evidence)
        self.db.execute(
            "INSERT INTO evidence (name, sha256, ship_id, seq, reason, path, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (b.name, sha, b.ship, problem.seq, problem.code, str(target.relative_to(self.folder)), self.now()),
        )
        return self._answer("refused", b.ship, b.name, sha, reason=problem.code, seq=problem.seq,
                            message=str(problem))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pias-receiver/1"
    timeout = 60
    inbox: Inbox
    quiet = True

    def _send(self, status: int, answer: dict[str, Any], offset: int | None = None) -> None:
        body = b"" if status == 204 else json.dumps(answer).encode()
        self.send_response(status)
        if offset is not None:
            self.send_header("Upload-Offset", str(offset))
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _name(self) -> str | None:
        prefix = "/v1/bundles/"
        return self.path[len(prefix):] if self.path.startswith(prefix) else None

    def do_GET(self) -> None:
        name = self._name()
        if name is None:
            self._send(404, {"status": "not_found"})
            return
        status, answer = self.inbox.status(name)
        self._send(status, answer)

    def do_PATCH(self) -> None:
        name = self._name()
        try:
            offset = int(self.headers.get("Upload-Offset", ""))
            length = int(self.headers.get("Upload-Length", ""))
            size = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._send(400, {"status": "bad_request", "message": "Upload-Offset, Upload-Length and Content-Length"})
            return
        if name is None or not 0 <= size <= MAX_CHUNK:
            self.close_connection = True
            self._send(400, {"status": "bad_request", "message": "bad path or chunk size"})
            return
        chunk = self.rfile.read(size)
        if len(chunk) != size:
            # The link dropped inside this chunk: keep nothing of it; the sender resumes from the last whole chunk.
            self.close_connection = True
            return
        status, answer, new_offset = self.inbox.receive(name, offset, length, chunk)
        self._send(status, answer, new_offset)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(inbox: Inbox, host: str, port: int, quiet: bool = True) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"inbox": inbox, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
