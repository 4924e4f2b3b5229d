"""The one function through which every state change records what happened.

It runs inside the caller's transaction, so the change and its record are
durable together or not at all. The plain `events` table is the ship's own
index of what happened; the ledger sink (when the ship has keys) seals the same
event, signed and encrypted, for the ministry.
"""

from __future__ import annotations

import json
from typing import Any

from vessel.clock import iso
from vessel.ship import Ship


def record(
    ship: Ship,
    kind: str,
    payload: dict[str, Any],
    *,
    operator_id: int | None = None,
    stop_id: int | None = None,
) -> int:
    conn = ship.conn
    if not conn.in_transaction:
        raise RuntimeError("events.record must run inside the transaction of the change it records")
    at = ship.now()
    body = {"kind": kind, "at": iso(at), "operator": operator_id, "stop": stop_id, **payload}
    cur = conn.execute(
        "INSERT INTO events (at, kind, operator_id, stop_id, payload) VALUES (?, ?, ?, ?, ?)",
        (iso(at), kind, operator_id, stop_id, json.dumps(payload, ensure_ascii=False, sort_keys=True)),
    )
    if ship.ledger is not None:
        ship.ledger.append(conn, kind, at, body)
    return cur.lastrowid
