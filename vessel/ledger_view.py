"""The ledger as the terminal screens see it, through vessel.ledger_link.

The screens ask three things: how the ledger stands (entries, head
fingerprint, last offload, what waits), whether the chain verifies, and to
offload what is new. A ship whose ledger was never written answers None, and
the screens say so plainly instead of failing. Verifying and offloading are
long and run in worker threads, so they work on a connection of their own,
never the one the screen reads through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from vessel import ledger_link, purge, store
from vessel.errors import Refused
from vessel.operators import Actor, require
from vessel.ship import Ship

# progress(first entry, last entry of the bundle being sent, bytes sent, bytes in the bundle)
Progress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class LedgerStatus:
    entries: int
    head_fingerprint: str | None
    last_offload_at: datetime | None
    last_offload_target: str | None
    pending: int  # entries not yet confirmed ashore
    failed_bundles: int


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    fingerprint: str | None
    problem: str | None  # what is wrong, naming the first bad entry, in the operator's language


@dataclass(frozen=True)
class OffloadResult:
    target: str
    bundles: int
    entries: int  # entries in the bundles that reached the target
    confirmed_through: int
    head: int
    failed: int
    link_error: str | None
    purged_stops: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.link_error is None and self.failed == 0


def _allowed(actor: Actor | None) -> None:
    if actor is None:
        raise Refused("not_allowed", login="-", action="ledger")
    require(actor, "ledger")


def status(ship: Ship) -> LedgerStatus | None:
    """How the ledger stands, or None when this ship has no ledger keys (events are not sealed)."""
    state = ledger_link.status(ship)
    if state is None:
        if ledger_link.has_keys(ship.config):
            return LedgerStatus(0, None, None, None, 0, 0)
        return None
    return LedgerStatus(
        entries=state.entries, head_fingerprint=state.head_fingerprint, last_offload_at=state.last_offload_at,
        last_offload_target=state.last_offload_target, pending=state.pending, failed_bundles=state.failed_bundles,
    )


def database_path(ship: Ship) -> str:
    return ship.conn.execute("PRAGMA database_list").fetchone()[2]


@contextmanager
def own_connection(ship: Ship, sealed: bool = False) -> Iterator[Ship]:
    """The same ship on a connection of its own, for a worker thread; `sealed` attaches the ledger."""
    other = Ship(db=store.connect(database_path(ship), migrate=False), config=ship.config, clock=ship.clock)
    try:
        if sealed:
            ledger_link.attach(other)
        yield other
    finally:
        other.close()


def verify(ship: Ship, actor: Actor | None) -> VerifyResult:
    _allowed(actor)
    with own_connection(ship) as mine:
        if ledger_link.status(mine) is None:
            raise Refused("ledger.not_set_up")
        outcome = ledger_link.verify(mine)
    return VerifyResult(outcome.ok, outcome.entries, outcome.fingerprint, outcome.problem)


def offload(ship: Ship, actor: Actor | None, progress: Progress | None = None) -> OffloadResult:
    """Send what is not yet confirmed ashore to the ship's offload target, then purge what may be."""
    _allowed(actor)
    if not ledger_link.has_keys(ship.config):
        raise Refused("ledger.not_set_up")

    def step(item, sent: int, total: int, _eta) -> None:
        if progress is not None:
            progress(item.first, item.last, sent, total)

    with own_connection(ship, sealed=True) as mine:
        report = ledger_link.offload(mine, progress=step)
        purged = tuple(p.community for p in purge.run(mine)) if report.ok else ()
    reached = [b for b in report.bundles if b.state in ("confirmed", "delivered")]
    return OffloadResult(
        target=report.target,
        bundles=len(report.bundles),
        entries=sum(b.last - b.first + 1 for b in reached),
        confirmed_through=report.confirmed_through,
        head=report.head,
        failed=sum(1 for b in report.bundles if b.state == "failed"),
        link_error=str(report.link_error) if report.link_error is not None else None,
        purged_stops=purged,
    )
