"""The preferential-attention policies, unit-tested and property-tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from vessel.priority import Candidate, Policy, choose, next_streak, order

T0 = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
BOUND = timedelta(minutes=30)


def c(i: int, minutes: float, prio: bool = False) -> Candidate:
    return Candidate(i, prio, T0 + timedelta(minutes=minutes))


def test_strict():
    q = [c(1, 0), c(2, 1, True), c(3, 2), c(4, 3, True)]
    assert [x.step_id for x in order(q, Policy("strict"), T0)] == [2, 4, 1, 3]


def test_ageing_promotes_an_ordinary_ticket_at_the_bound():
    q = [c(1, 0), c(2, 10, True), c(3, 20, True)]
    policy = Policy("ageing", wait_bound=BOUND)
    assert choose(q, policy, T0 + timedelta(minutes=29)).step_id == 2
    # At 30 minutes ticket 1 has waited the bound: nobody who came after it goes first.
    assert choose(q, policy, T0 + timedelta(minutes=30)).step_id == 1


def test_alternate():
    q = [c(1, 0), c(2, 1), c(10, 2, True), c(11, 3, True), c(12, 4, True), c(13, 5, True)]
    policy = Policy("alternate", run=2)
    assert [x.step_id for x in order(q, policy, T0)] == [10, 11, 1, 12, 13, 2]
    assert choose(q, policy, T0, streak=2).step_id == 1
    assert choose([c(10, 0, True)], policy, T0, streak=5).step_id == 10  # no ordinary waiting


arrivals = st.lists(
    st.tuples(st.floats(min_value=0, max_value=240, allow_nan=False), st.booleans()), min_size=1, max_size=60
)


def simulate(policy: Policy, items, service_min: float):
    """One desk calling every `service_min` minutes; returns (call time, chosen, waiting) per call."""
    pending = sorted(
        (Candidate(i, prio, T0 + timedelta(minutes=m)) for i, (m, prio) in enumerate(items)),
        key=lambda x: (x.enqueued_at, x.step_id),
    )
    waiting: list[Candidate] = []
    now = T0
    streak = 0
    calls = []
    while pending or waiting:
        while pending and pending[0].enqueued_at <= now:
            waiting.append(pending.pop(0))
        if not waiting:
            now = pending[0].enqueued_at
            continue
        chosen = choose(waiting, policy, now, streak)
        assert chosen == order(waiting, policy, now, streak)[0]
        calls.append((now, chosen, list(waiting)))
        waiting.remove(chosen)
        streak = next_streak(streak, chosen)
        now += timedelta(minutes=service_min)
    return calls


@given(arrivals, st.floats(min_value=0.5, max_value=10))
@settings(max_examples=200, deadline=None)
def test_strict_property(items, service):
    for _now, chosen, waiting in simulate(Policy("strict"), items, service):
        same_class = [w for w in waiting if w.priority == chosen.priority]
        assert chosen.enqueued_at == min(w.enqueued_at for w in same_class)  # FIFO within a class
        if not chosen.priority:
            assert not any(w.priority for w in waiting)  # never an ordinary one while a priority waits


@given(arrivals, st.floats(min_value=0.5, max_value=10), st.integers(min_value=1, max_value=90))
@settings(max_examples=200, deadline=None)
def test_ageing_property(items, service, bound_min):
    policy = Policy("ageing", wait_bound=timedelta(minutes=bound_min))
    for now, chosen, waiting in simulate(policy, items, service):
        aged = [w for w in waiting if not w.priority and now - w.enqueued_at >= policy.wait_bound]
        if aged:
            # Once an ordinary ticket reached the bound, nobody who came after it is called first.
            assert chosen.enqueued_at <= min(a.enqueued_at for a in aged)
        if not any(w.priority for w in waiting):
            assert chosen.enqueued_at == min(w.enqueued_at for w in waiting)  # plain FIFO
        if chosen.priority:
            assert chosen.enqueued_at == min(w.enqueued_at for w in waiting if w.priority)


@given(arrivals, st.floats(min_value=0.5, max_value=10), st.integers(min_value=1, max_value=5))
@settings(max_examples=200, deadline=None)
def test_alternate_property(items, service, run):
    policy = Policy("alternate", run=run)
    streak = 0
    for _now, chosen, waiting in simulate(policy, items, service):
        has_ordinary = any(not w.priority for w in waiting)
        has_priority = any(w.priority for w in waiting)
        if chosen.priority and has_ordinary:
            assert streak < run  # at most `run` priority calls in a row while an ordinary one waits
        if not chosen.priority and has_priority:
            assert streak >= run
        same_class = [w for w in waiting if w.priority == chosen.priority]
        assert chosen.enqueued_at == min(w.enqueued_at for w in same_class)
        streak = next_streak(streak, chosen)


@given(arrivals)
@settings(max_examples=100, deadline=None)
def test_every_ticket_is_called_exactly_once(items):
    for mode in ("strict", "ageing", "alternate"):
        calls = simulate(Policy(mode), items, 3)
        assert sorted(chosen.step_id for _, chosen, _ in calls) == list(range(len(items)))
