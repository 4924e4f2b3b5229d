"""Who is called next: the preferential-attention policy as pure functions.

Ley 27408 (amended by Ley 28683) gives pregnant women, children and adults
carrying infants, older adults and people with disabilities preferential
attention. How strongly is a policy choice, so it is explicit and chosen in
the config:

- strict: every priority ticket before any ordinary one; first come, first
  served within each class.
- ageing: priority tickets go first, but an ordinary ticket that has waited
  `wait_bound` joins the priority class; nobody issued after it, of any class,
  is called before it, so no ordinary ticket is passed once it reached the bound.
- alternate: after `run` priority calls in a row, one ordinary call (when an
  ordinary ticket waits).

The functions take plain candidates so the same code runs in the database
transaction and in the property tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Candidate:
    step_id: int
    priority: bool
    enqueued_at: datetime


@dataclass(frozen=True)
class Policy:
    mode: str = "ageing"
    wait_bound: timedelta = timedelta(minutes=90)
    run: int = 3

    def __post_init__(self) -> None:
        if self.mode not in ("strict", "ageing", "alternate"):
            raise ValueError(f"unknown policy {self.mode!r}")


def _fifo(c: Candidate) -> tuple[datetime, int]:
    return (c.enqueued_at, c.step_id)


def choose(
    candidates: Sequence[Candidate], policy: Policy, now: datetime, streak: int = 0
) -> Candidate | None:
    """The candidate to call now; `streak` is the number of priority calls just made in a row."""
    if not candidates:
        return None
    if policy.mode == "strict":
        return min(candidates, key=lambda c: (not c.priority, *_fifo(c)))
    if policy.mode == "ageing":
        def key(c: Candidate) -> tuple[bool, datetime, int]:
            preferred = c.priority or now - c.enqueued_at >= policy.wait_bound
            return (not preferred, *_fifo(c))
        return min(candidates, key=key)
    ordinary = [c for c in candidates if not c.priority]
    preferred = [c for c in candidates if c.priority]
    if preferred and (streak < policy.run or not ordinary):
        return min(preferred, key=_fifo)
    return min(ordinary, key=_fifo)


def next_streak(streak: int, chosen: Candidate) -> int:
    return streak + 1 if chosen.priority else 0


def order(
    candidates: Sequence[Candidate], policy: Policy, now: datetime, streak: int = 0
) -> list[Candidate]:
    """The whole queue in the order it would be called if nobody else arrived."""
    if policy.mode == "alternate":
        ordinary = sorted((c for c in candidates if not c.priority), key=_fifo)
        preferred = sorted((c for c in candidates if c.priority), key=_fifo)
        out: list[Candidate] = []
        i = j = 0
        while i < len(preferred) or j < len(ordinary):
            if i < len(preferred) and (streak < policy.run or j >= len(ordinary)):
                chosen = preferred[i]
                i += 1
            else:
                chosen = ordinary[j]
                j += 1
            out.append(chosen)
            streak = next_streak(streak, chosen)
        return out
    if policy.mode == "strict":
        return sorted(candidates, key=lambda c: (not c.priority, *_fifo(c)))
    return sorted(
        candidates,
        key=lambda c: (not (c.priority or now - c.enqueued_at >= policy.wait_bound), *_fifo(c)),
    )
