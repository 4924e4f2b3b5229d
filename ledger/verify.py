"""Verifying the ship's own chain, without decrypting anything.

Every entry's hash is recomputed and must match the stored one and the next
entry's link; the ledger's own entries (genesis, key rotations, data key
announcements) must be well formed and each new signing key endorsed by the
one before; every head must name the signing key in force at that point.
Then the head signature is checked: because the chain links every entry to
the head, a valid head signature vouches for every entry before it. If it
fails, a bisection over the stored head signatures names the first entry
whose signature no longer verifies. `all_signatures` checks each one
(slower: one Ed25519 verification per entry), which also catches a damaged
signature on an old head that the chain itself does not depend on.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ledger import store
from ledger.chain import ChainProblem, ChainWalker, head_fingerprint, head_message, parse_head_fingerprint


@dataclass
class VerifyReport:
    ship_id: str | None
    entries: int = 0
    head_seq: int = 0
    head_hash: bytes = b""
    problem: ChainProblem | None = None
    signatures_checked: int = 0
    signing_keys: list[str] = field(default_factory=list)
    current_key: str | None = None
    head_checked: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def fingerprint(self) -> str | None:
        return head_fingerprint(self.head_seq, self.head_hash) if self.head_seq else None


def verify(
    conn: sqlite3.Connection,
    *,
    expected_ship: str | None = None,
    trusted_key: str | None = None,
    all_signatures: bool = False,
    head: str | None = None,
) -> VerifyReport:
    """Check the chain in conn; report the first problem found, naming its entry."""
    if head is not None:
        wanted_seq, wanted_prefix = parse_head_fingerprint(head)
    if not store.has_ledger(conn):
        report = VerifyReport(ship_id=expected_ship)
        if head is not None:
            report.problem = ChainProblem(wanted_seq, "head_not_found", {"fingerprint": head, "found": "no ledger"})
        return report
    ship_id = store.get_meta(conn, "ship_id") or expected_ship or ""
    report = VerifyReport(ship_id=ship_id)
    walker = ChainWalker(expected_ship or ship_id, known_data_keys=set())
    hashes: list[bytes] = []
    signers: list[str] = []
    sigs: list[bytes] = []
    last_sig = b""
    # Every column is read as bytes: someone editing the file may have changed a column's type
    # or left bytes that are not text, and that must be reported, not crash the check.
    rows = conn.execute(
        "SELECT seq, CAST(at AS BLOB), CAST(kind AS BLOB), CAST(key_id AS BLOB), CAST(amends AS BLOB), "
        "CAST(body AS BLOB), CAST(prev_hash AS BLOB), CAST(hash AS BLOB), CAST(signer AS BLOB), CAST(sig AS BLOB) "
        "FROM ledger_entries ORDER BY seq"
    )
    try:
        for seq, at_b, kind_b, key_b, amends_b, body, prev_hash, stored, signer_b, sig in rows:
            try:
                at, kind, key_id, signer = at_b.decode(), kind_b.decode(), key_b.decode(), signer_b.decode()
                amends = None if amends_b is None else int(amends_b)
            except (UnicodeDecodeError, ValueError):
                _fields(seq, at_b, kind_b, key_b, amends_b, signer_b)
                raise
            if prev_hash != walker.prev_hash and seq == walker.next_seq:
                raise ChainProblem(seq, "broken_link")
            before = walker.current_key
            digest = walker.step(seq, at, kind, key_id, amends, body)
            if digest != stored:
                raise ChainProblem(seq, "altered")
            expected_signer = before if before is not None else walker.current_key
            if signer != expected_signer:
                if signer in walker.signing_keys:
                    raise ChainProblem(seq, "retired_signer", {"key": signer, "current": expected_signer})
                raise ChainProblem(seq, "unknown_signer", {"key": signer})
            hashes.append(digest)
            signers.append(signer)
            last_sig = sig
            if all_signatures:
                sigs.append(last_sig)
    except ChainProblem as problem:
        report.problem = problem
    report.entries = len(hashes)
    report.signing_keys = list(walker.signing_keys)
    report.current_key = walker.current_key
    if hashes:
        report.head_seq, report.head_hash = len(hashes), hashes[-1]
    if report.problem is not None or not hashes:
        return report

    def bad(index: int) -> bool:
        seq = index + 1
        sig = sigs[index] if all_signatures else (
            last_sig if index == len(hashes) - 1 else bytes(
                conn.execute("SELECT CAST(sig AS BLOB) FROM ledger_entries WHERE seq = ?", (seq,)).fetchone()[0] or b""
            )
        )
        report.signatures_checked += 1
        key = walker.signing_keys[signers[index]]
        return not key.verify(sig, head_message(walker.ship_id, seq, hashes[index]))

    if all_signatures:
        for index in range(len(hashes)):
            if bad(index):
                report.problem = ChainProblem(index + 1, "bad_signature", {"key": signers[index]})
                return report
    elif bad(len(hashes) - 1):
        lo, hi = 0, len(hashes) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if bad(mid):
                hi = mid
            else:
                lo = mid + 1
        report.problem = ChainProblem(hi + 1, "bad_signature", {"key": signers[hi]})
        return report
    if trusted_key is not None and walker.current_key != trusted_key:
        report.problem = ChainProblem(
            report.head_seq, "untrusted_key", {"key": walker.current_key, "expected": trusted_key}
        )
        return report
    if head is not None:
        report.head_checked = head
        if wanted_seq > len(hashes) or not hashes[wanted_seq - 1].hex().startswith(wanted_prefix):
            found = (
                f"the chain ends at entry {len(hashes)}" if wanted_seq > len(hashes)
                else f"entry {wanted_seq} is now {head_fingerprint(wanted_seq, hashes[wanted_seq - 1])}"
            )
            report.problem = ChainProblem(wanted_seq, "head_not_found", {"fingerprint": head, "found": found})
    return report


def _fields(seq: int, *values: bytes | None) -> tuple[str, str, str, int | None, str]:
    """(at, kind, key id, amends, signer) from the stored bytes; ChainProblem if one is not what it should be."""
    names = ("time", "kind", "key id", "amends", "signer")
    out: list = []
    for name, value in zip(names, values, strict=True):
        if value is None and name == "amends":
            out.append(None)
            continue
        try:
            text = bytes(value).decode("utf-8")
            out.append(int(text) if name == "amends" else text)
        except (TypeError, UnicodeDecodeError, ValueError):
            raise ChainProblem(seq, "bad_field", {"field": name}) from None
    return tuple(out)  # type: ignore[return-value]
