"""The public display's data: calls in order, recalls marked, undo and reactivation never announced."""

from __future__ import annotations

from vessel import board, operators, tickets


def test_calls_since_finds_each_new_call_once(ship, at_stop, coordinator, clock):
    clerk = operators.get(ship, "registro")
    for _ in range(3):
        tickets.issue(ship, clerk, ["salud"])
    tickets.open_desk(ship, coordinator, "salud-1")
    tickets.open_desk(ship, coordinator, "salud-2")
    seen = board.last_call_id(ship)
    first = tickets.call_next(ship, coordinator, "salud-1")
    second = tickets.call_next(ship, coordinator, "salud-2")
    calls = board.calls_since(ship, seen)
    assert [(c.label, c.desk, c.desk_number, c.recall) for c in calls] == [
        (first.label, "salud-1", 1, False), (second.label, "salud-2", 2, False),
    ]
    assert board.calls_since(ship, calls[-1].history_id) == []
    clock.advance(seconds=ship.config.queue.recall_gap_seconds + 1)
    tickets.recall(ship, coordinator, "salud-1")
    [again] = board.calls_since(ship, calls[-1].history_id)
    assert again.label == first.label and again.recall


def test_undo_and_reactivation_are_not_calls(ship, at_stop, coordinator, clock):
    tickets.issue(ship, coordinator, ["banco"])
    tickets.open_desk(ship, coordinator, "banco-1")
    tickets.call_next(ship, coordinator, "banco-1")
    tickets.start(ship, coordinator, "banco-1")
    seen = board.last_call_id(ship)
    tickets.undo(ship, coordinator, "banco-1")  # serving -> called again: nobody is called
    assert board.calls_since(ship, seen) == []
    rules = ship.config.queue
    for _ in range(rules.missed_after_calls - 1):
        clock.advance(seconds=rules.recall_gap_seconds + 1)
        tickets.recall(ship, coordinator, "banco-1")
    step = tickets.missed(ship, coordinator, "banco-1")
    seen = board.last_call_id(ship)
    tickets.reactivate(ship, coordinator, "banco", step.number)
    assert board.calls_since(ship, seen) == []


def test_board_per_station_of_the_current_stop(ship, at_stop, coordinator, clock):
    tickets.issue(ship, coordinator, ["reniec"])
    tickets.issue(ship, coordinator, ["reniec"])
    tickets.issue(ship, coordinator, ["mujer"])
    tickets.open_desk(ship, coordinator, "reniec-1")
    tickets.open_desk(ship, coordinator, "reniec-2")
    a = tickets.call_next(ship, coordinator, "reniec-1")
    clock.advance(seconds=30)
    b = tickets.call_next(ship, coordinator, "reniec-2")
    tickets.start(ship, coordinator, "reniec-2")
    view = board.board(ship)
    by_code = {s.station.code: s for s in view.stations}
    assert list(by_code) == [s.code for s in ship.config.stations]  # Mazán has every station
    reniec = by_code["reniec"]
    assert [(x.label, x.desk_number, x.state) for x in reniec.at_desks] == [
        (b.label, 2, "serving"), (a.label, 1, "called"),
    ]
    assert reniec.latest.label == b.label and reniec.waiting == 0
    assert by_code["mujer"].latest is None and by_code["mujer"].waiting == 1
    assert [c.label for c in view.recent] == [b.label, a.label]
    assert view.missed == ()


def test_no_stop_no_board(ship, coordinator):
    view = board.board(ship)
    assert view.stop is None and view.stations == () and view.recent == ()
    assert board.calls_since(ship, 0) == []
