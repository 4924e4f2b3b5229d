"""The context every domain function works in: one ship's database, config and clock.

It is built once by the composition root (the `pias` command, the tests) and
passed to plain functions, so the UI, scripts and tests share one path to the
data. `ledger` is where events go beyond the plain table once keys exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlite_utils

from vessel.clock import utcnow
from vessel.config import ShipConfig


class EventSink(Protocol):
    """Receives each event inside the transaction that caused it."""

    def append(self, conn: Any, kind: str, at: datetime, payload: dict[str, Any]) -> None: ...


@dataclass
class Ship:
    db: sqlite_utils.Database
    config: ShipConfig
    clock: Callable[[], datetime] = utcnow
    ledger: EventSink | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Rows as dicts. Unlike sqlite-utils' query(), no savepoint around each read."""
        cur = self.db.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @property
    def conn(self):
        return self.db.conn

    def close(self) -> None:
        close = getattr(self.ledger, "close", None)
        if close is not None:
            close()
        from vessel.store import close

        close(self.db)
