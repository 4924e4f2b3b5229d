"""Receipts: what a receiver signs back, so the ship knows what is safely ashore.

A receipt says which bundle it answers, what became of it, and how far the
receiver holds the ship's chain (`holds`, with the hash of that entry): the
ship checks that hash against its own chain, so a receipt confirms entries
1..holds exactly as the ship has them, and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ledger.chain import canonical_json
from ledger.keys import PublicKey, SigningKey

FORMAT = "pias-receipt-1"
STATUSES = ("accepted", "already_received", "conflict", "refused")


def _message(body: dict[str, Any]) -> bytes:
    return b"PIAS-RECEIPT-1\n" + canonical_json(body)


def make(
    key: SigningKey,
    *,
    ship: str,
    bundle: str,
    sha256: str,
    status: str,
    holds: int,
    head: bytes,
    at: str,
    reason: str | None = None,
    seq: int | None = None,
) -> dict[str, Any]:
    if status not in STATUSES:
        raise ValueError(status)
    body: dict[str, Any] = {
        "format": FORMAT, "ship": ship, "bundle": bundle, "sha256": sha256, "status": status,
        "holds": holds, "head": head.hex(), "receiver": key.key_id, "at": at,
    }
    if reason is not None:
        body["reason"] = reason
    if seq is not None:
        body["seq"] = seq
    body["signature"] = base64.b64encode(key.sign(_message(body))).decode()
    return body


def check_shape(receipt: Any) -> dict[str, Any]:
    """The receipt if it has the fields a receipt must have; ValueError otherwise."""
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise ValueError("not a PIAS receipt")
    for name, kind in (("ship", str), ("bundle", str), ("status", str), ("head", str), ("receiver", str),
                       ("signature", str), ("holds", int)):
        if not isinstance(receipt.get(name), kind):
            raise ValueError(f"receipt field {name}")
    if receipt["status"] not in STATUSES:
        raise ValueError("receipt status")
    return receipt


def verify(receipt: dict[str, Any], keys: dict[str, PublicKey]) -> bool:
    """True when a known receipt key signed exactly this receipt."""
    key = keys.get(receipt.get("receiver", ""))
    if key is None:
        return False
    body = {k: v for k, v in receipt.items() if k != "signature"}
    try:
        signature = base64.b64decode(receipt.get("signature", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return key.verify(signature, _message(body))


def parse(text: str | bytes) -> dict[str, Any]:
    try:
        return check_shape(json.loads(text))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not a PIAS receipt") from exc
