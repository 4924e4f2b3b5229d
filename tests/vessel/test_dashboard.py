"""The coordinator's figures: counts per station, mean wait, overdue tickets, desks."""

from __future__ import annotations

from vessel import dashboard, operators, tickets, waits


def test_counts_waits_and_desks(ship, at_stop, coordinator, clock):
    clerk = operators.get(ship, "registro")
    for _ in range(3):
        tickets.issue(ship, clerk, ["salud"])
    tickets.open_desk(ship, coordinator, "salud-1")
    tickets.open_desk(ship, coordinator, "salud-2")
    tickets.pause_desk(ship, coordinator, "salud-2", "almuerzo")
    clock.advance(minutes=10)
    tickets.call_next(ship, coordinator, "salud-1")
    tickets.start(ship, coordinator, "salud-1")
    clock.advance(minutes=5)
    tickets.finish(ship, coordinator, "salud-1")
    clock.advance(minutes=2)
    tickets.call_next(ship, coordinator, "salud-1")
    d = dashboard.summary(ship)
    salud = next(r for r in d.rows if r.station.code == "salud")
    assert (salud.waiting, salud.in_service, salud.served, salud.missed) == (1, 1, 1, 0)
    assert salud.wait_mean_min == 13.5  # called after 10 and after 17 minutes
    assert (salud.open_desks, salud.paused_desks, salud.desks) == (1, 1, 3)
    # The same estimate the registration desk gives a citizen joining the queue now.
    load = waits.load(ship, "salud")
    assert (salud.wait_low_min, salud.wait_high_min) == (load.wait_low_min, load.wait_high_min)
    assert d.waiting == 1 and d.served == 1 and d.overdue_total == 0


def test_overdue_tickets_longest_wait_first(ship, at_stop, coordinator, clock):
    early = tickets.issue(ship, coordinator, ["banco"], priority_class="gestante")
    clock.advance(minutes=20)
    late = tickets.issue(ship, coordinator, ["mujer"])
    clock.advance(minutes=ship.config.queue.wait_bound_minutes - 10)
    assert [o.label for o in dashboard.summary(ship).overdue] == [early.steps[0].label]
    clock.advance(minutes=15)
    d = dashboard.summary(ship)
    assert [(o.label, o.waited_min, o.priority) for o in d.overdue] == [
        (early.steps[0].label, 115.0, True), (late.steps[0].label, 95.0, False),
    ]
    assert d.overdue_total == 2
    assert {r.station.code: r.overdue for r in d.rows}["banco"] == 1


def test_no_current_stop(ship):
    d = dashboard.summary(ship)
    assert d.stop is None and d.rows == () and d.waiting == 0


def test_mean_waits_are_kept_for_a_while_and_read_again_on_request(ship, at_stop, coordinator, clock):
    tickets.issue(ship, coordinator, ["banco"])
    tickets.issue(ship, coordinator, ["banco"])
    tickets.open_desk(ship, coordinator, "banco-1")
    clock.advance(minutes=4)
    tickets.call_next(ship, coordinator, "banco-1")
    first = {r.station.code: r for r in dashboard.summary(ship).rows}["banco"]
    assert first.wait_mean_min == 4.0
    tickets.start(ship, coordinator, "banco-1")
    tickets.finish(ship, coordinator, "banco-1")
    clock.advance(minutes=8)
    tickets.call_next(ship, coordinator, "banco-1")
    cached = {r.station.code: r for r in dashboard.summary(ship).rows}["banco"]
    assert cached.wait_mean_min == 4.0 and cached.in_service == 1 and cached.served == 1
    fresh = {r.station.code: r for r in dashboard.summary(ship, fresh=True).rows}["banco"]
    assert fresh.wait_mean_min == 8.0  # (4 + 12) / 2
