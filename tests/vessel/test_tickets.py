"""Tickets and desk actions: every action, and every refusal with its reason."""

from __future__ import annotations

import pytest

from vessel import campaign, citizens, operators, reports, tickets, waits
from vessel.errors import Refused


@pytest.fixture
def registrar(ship):
    return operators.get(ship, "registro")


@pytest.fixture
def health(ship):
    return operators.get(ship, "salud")


@pytest.fixture
def desk(ship, health, at_stop):
    tickets.open_desk(ship, health, "salud-1")
    return "salud-1"


def refused(code, fn, *args, **kw):
    with pytest.raises(Refused) as err:
        fn(*args, **kw)
    assert err.value.code == code, err.value.code
    assert not err.value.message().startswith("refusal."), "every refusal has catalogue text"
    return err.value


def test_no_ticket_without_a_stop(ship, registrar):
    refused("no_current_stop", tickets.issue, ship, registrar, ["salud"])


def test_numbers_are_per_stop_and_shared_across_stations(ship, registrar, coordinator, at_stop):
    a = tickets.issue(ship, registrar, ["salud", "banco"])
    b = tickets.issue(ship, registrar, ["reniec"])
    assert (a.number, b.number) == (1, 2)
    assert [s.label for s in a.steps] == ["S-001", "B-001"]
    assert [s.state for s in a.steps] == ["waiting", "pending"]
    campaign.depart(ship, coordinator)
    campaign.arrive(ship, coordinator, campaign.stops(ship)[1].id)
    c = tickets.issue(ship, registrar, ["salud"])
    assert c.number == 1 and c.stop_id != a.stop_id


def test_issue_refusals(ship, registrar, at_stop, coordinator):
    refused("no_stations", tickets.issue, ship, registrar, [])
    refused("station_twice", tickets.issue, ship, registrar, ["salud", "salud"])
    refused("unknown_station", tickets.issue, ship, registrar, ["dentista"])
    refused("unknown_condition", tickets.issue, ship, registrar, ["salud"], priority_class="vip")
    refused("not_allowed", tickets.issue, ship, operators.get(ship, "puente"), ["salud"])
    campaign.depart(ship, coordinator)
    campaign.arrive(ship, coordinator, campaign.stops(ship)[1].id)  # Negro Urco: no bank
    refused("station_not_at_stop", tickets.issue, ship, registrar, ["banco"])


def test_full_route(ship, registrar, health, desk, clock):
    bank = operators.get(ship, "banco")
    tickets.open_desk(ship, bank, "banco-1")
    t = tickets.issue(ship, registrar, ["salud", "banco"])
    assert tickets.waiting(ship, "banco") == []
    clock.advance(minutes=5)
    called = tickets.call_next(ship, health, desk)
    assert (called.state, called.desk, called.call_count) == ("called", desk, 1)
    clock.advance(minutes=1)
    assert tickets.start(ship, health, desk).state == "serving"
    clock.advance(minutes=10)
    done = tickets.finish(ship, health, desk, "served", "Control prenatal")
    assert (done.state, done.outcome, done.notes) == ("done", "served", "Control prenatal")
    # The next station's step joined its queue.
    assert [s.ticket_id for s in tickets.waiting(ship, "banco")] == [t.id]
    step = tickets.call_next(ship, bank, "banco-1")
    tickets.start(ship, bank, "banco-1")
    tickets.finish(ship, bank, "banco-1")
    assert tickets.get_step(ship, step.id).state == "done"
    history = ship.conn.execute(
        "SELECT to_state FROM step_history h JOIN steps s ON s.id = h.step_id WHERE s.ticket_id = ? "
        "ORDER BY h.id", (t.id,)
    ).fetchall()
    assert [h[0] for h in history] == [
        "waiting", "pending", "called", "serving", "done", "waiting", "called", "serving", "done"
    ]
    kinds = [r[0] for r in ship.conn.execute("SELECT kind FROM events WHERE kind LIKE 'step.%' ORDER BY id")]
    assert kinds == ["step.called", "step.started", "step.finished", "step.queued",
                     "step.called", "step.started", "step.finished"]


def test_desk_refusals(ship, registrar, health, desk, clock):
    refused("queue_empty", tickets.call_next, ship, health, desk)
    refused("desk_not_open", tickets.call_next, ship, health, "salud-2")
    refused("desk_idle", tickets.start, ship, health, desk)
    refused("desk_idle", tickets.finish, ship, health, desk)
    refused("unknown_desk", tickets.call_next, ship, health, "salud-9")
    tickets.issue(ship, registrar, ["salud"])
    tickets.issue(ship, registrar, ["salud"])
    tickets.call_next(ship, health, desk)
    refused("desk_has_ticket", tickets.call_next, ship, health, desk)
    refused("step_wrong_state", tickets.finish, ship, health, desk)
    refused("desk_busy", tickets.pause_desk, ship, health, desk, "almuerzo")
    refused("bad_outcome", tickets.finish, ship, health, desk, "happy")
    refused("not_allowed", tickets.call_next, ship, operators.get(ship, "banco"), desk)


def test_recall_limits_and_missed(ship, registrar, health, desk, clock):
    rules = ship.config.queue
    t = tickets.issue(ship, registrar, ["salud", "reniec"])
    tickets.call_next(ship, health, desk)
    refused("recall_too_soon", tickets.recall, ship, health, desk)
    refused("call_more_first", tickets.missed, ship, health, desk)
    for n in range(2, rules.max_recalls + 2):
        clock.advance(seconds=rules.recall_gap_seconds)
        assert tickets.recall(ship, health, desk).call_count == n
    clock.advance(seconds=rules.recall_gap_seconds)
    refused("too_many_recalls", tickets.recall, ship, health, desk)
    gone = tickets.missed(ship, health, desk)
    assert gone.state == "missed"
    assert tickets.route(ship, t.id)[1].state == "waiting"  # the rest of the visit goes on
    assert [s.id for s in tickets.missed_list(ship, "salud")] == [gone.id]
    # The desk is free again; the citizen turns up and goes back where they were.
    refused("ticket_not_missed", tickets.reactivate, ship, registrar, "banco", t.number)
    refused("not_allowed", tickets.reactivate, ship, operators.get(ship, "banco"), "salud", t.number)
    back = tickets.reactivate(ship, health, "salud", t.number)
    assert (back.state, back.call_count, back.desk) == ("waiting", 0, None)
    assert tickets.call_next(ship, health, desk).id == back.id


def test_call_specific_ticket(ship, registrar, health, desk):
    tickets.issue(ship, registrar, ["salud"])
    second = tickets.issue(ship, registrar, ["salud"])
    banco_only = tickets.issue(ship, registrar, ["banco"])
    refused("ticket_not_for_station", tickets.call_ticket, ship, health, desk, banco_only.number)
    refused("unknown_ticket", tickets.call_ticket, ship, health, desk, 99)
    assert tickets.call_ticket(ship, health, desk, second.number).ticket_id == second.id
    tickets.open_desk(ship, health, "salud-2")
    refused("step_not_waiting", tickets.call_ticket, ship, health, "salud-2", second.number)


def test_transfer_and_add_step(ship, registrar, health, desk):
    t = tickets.issue(ship, registrar, ["salud", "banco"])
    tickets.call_next(ship, health, desk)
    tickets.start(ship, health, desk)
    refused("transfer_same_station", tickets.transfer, ship, health, desk, "salud")
    refused("already_in_route", tickets.transfer, ship, health, desk, "banco")
    refused("unknown_station", tickets.transfer, ship, health, desk, "dentista")
    new = tickets.transfer(ship, health, desk, "programas", "Juntos: afiliación")
    assert new.state == "waiting" and new.station == "programas"
    route = tickets.route(ship, t.id)
    assert [(s.station, s.state) for s in route] == [
        ("salud", "transferred"), ("banco", "pending"), ("programas", "waiting")
    ]
    assert route[0].outcome == "referred"
    # After programas, the bank is still on the route.
    progs = operators.get(ship, "programas")
    tickets.open_desk(ship, progs, "programas-1")
    tickets.call_next(ship, progs, "programas-1")
    added = tickets.add_step(ship, progs, "programas-1", "reniec")
    assert added.state == "pending"
    refused("already_in_route", tickets.add_step, ship, progs, "programas-1", "reniec")
    tickets.start(ship, progs, "programas-1")
    tickets.finish(ship, progs, "programas-1")
    assert [(s.station, s.state) for s in tickets.route(ship, t.id)][1:] == [
        ("banco", "waiting"), ("programas", "done"), ("reniec", "pending")
    ]


def test_cancel_moves_the_route_on(ship, registrar, health, desk):
    t = tickets.issue(ship, registrar, ["salud", "reniec"])
    first = t.steps[0]
    gone = tickets.cancel(ship, health, first.id, "Se retiró")
    assert gone.state == "cancelled"
    assert tickets.route(ship, t.id)[1].state == "waiting"
    refused("step_final", tickets.cancel, ship, health, first.id)


def test_pause_and_resume(ship, registrar, health, desk):
    refused("required", tickets.pause_desk, ship, health, desk, "  ")
    paused = tickets.pause_desk(ship, health, desk, "Almuerzo")
    assert (paused.state, paused.pause_reason) == ("paused", "Almuerzo")
    tickets.issue(ship, registrar, ["salud"])
    err = refused("desk_paused", tickets.call_next, ship, health, desk)
    assert "Almuerzo" in err.message()
    refused("desk_not_open", tickets.pause_desk, ship, health, desk, "otra")
    assert tickets.resume_desk(ship, health, desk).state == "open"
    refused("desk_not_paused", tickets.resume_desk, ship, health, desk)
    assert tickets.call_next(ship, health, desk)


def test_undo(ship, registrar, health, desk, clock):
    t = tickets.issue(ship, registrar, ["salud", "banco"])
    refused("nothing_to_undo", tickets.undo, ship, health, desk)
    tickets.call_next(ship, health, desk)
    back = tickets.undo(ship, health, desk)
    assert (back.state, back.desk, back.call_count) == ("waiting", None, 0)
    tickets.call_next(ship, health, desk)
    tickets.start(ship, health, desk)
    tickets.finish(ship, health, desk)
    assert tickets.route(ship, t.id)[1].state == "waiting"
    reverted = tickets.undo(ship, health, desk)
    assert reverted.state == "serving" and reverted.outcome is None
    assert tickets.route(ship, t.id)[1].state == "pending"
    tickets.finish(ship, health, desk)
    clock.advance(minutes=20)
    refused("undo_too_late", tickets.undo, ship, health, desk)


def test_concurrent_change_is_detected(ship, registrar, health, desk, demo_home, clock):
    """A second connection (another terminal) changes a step between our read and write."""
    from vessel import home as home_mod

    t = tickets.issue(ship, registrar, ["salud"])
    other = home_mod.open_ship(demo_home, clock=clock)
    try:
        tickets.cancel(other, registrar, t.steps[0].id, "duplicado")
    finally:
        other.close()
    refused("queue_empty", tickets.call_next, ship, health, desk)


def test_wait_estimates_and_reports(ship, registrar, health, desk, clock):
    for _ in range(6):
        tickets.issue(ship, registrar, ["salud"])
    load = waits.load(ship, "salud")
    assert (load.waiting, load.open_desks) == (6, 1)
    low, high = load.wait_low_min, load.wait_high_min
    assert 0 < low < high
    tickets.open_desk(ship, health, "salud-2")
    assert waits.load(ship, "salud").wait_high_min < high  # two desks: shorter wait
    for minutes in (5, 10, 15, 20):
        clock.advance(minutes=2)
        tickets.call_next(ship, health, desk)
        tickets.start(ship, health, desk)
        clock.advance(minutes=minutes)
        tickets.finish(ship, health, desk)
    rows = {(r.stop, r.station): r for r in reports.figures(ship)}
    salud = rows[("Mazán", "salud")]
    assert (salud.issued, salud.served, salud.waiting_now) == (6, 4, 2)
    assert salud.service_mean_min == 12.5
    assert salud.wait_mean_min is not None
    assert rows[(reports.ALL, reports.ALL)].issued == 6
    csv_text = reports.to_csv(reports.figures(ship))
    assert csv_text.splitlines()[0].startswith("stop,station,issued,served")
    assert "Mazán,salud,6,4" in csv_text


def test_priority_comes_from_the_citizen(ship, registrar, health, desk, clock):
    plain = tickets.issue(ship, registrar, ["salud"])
    elder = citizens.register(ship, registrar, given_names="Zoila", surnames="Tangoa", birth_date="1948-01-01")
    old = tickets.issue(ship, registrar, ["salud"], citizen_id=elder.id)
    assert old.priority_class == "adulto_mayor" and old.steps[0].priority
    assert plain.priority_class is None
    assert tickets.call_next(ship, health, desk).ticket_id == old.id
