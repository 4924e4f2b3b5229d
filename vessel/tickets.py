"""Tickets and their steps: the queues at every station.

A ticket is one visit: one printed number (per stop) and a route of steps, one
per station. Only one step of a ticket is active at a time; when it finishes,
the next pending step joins its station's queue. Every change of a step's state
is kept in step_history with its time, desk and operator, and recorded as an
event in the same transaction, so any statistic can be computed afterwards.

Step states: pending (later in the route), waiting (in the queue), called (at a
desk, not yet started), serving, and the final ones: done, missed (no-show;
may be reactivated), cancelled, transferred (moved to another station).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from vessel import campaign, citizens, events, priority
from vessel.clock import iso, parse
from vessel.errors import NotFound, Refused
from vessel.operators import Actor, require
from vessel.ship import Ship
from vessel.store import transaction

ACTIVE = ("waiting", "called", "serving")
FINAL = ("done", "missed", "cancelled", "transferred")
OUTCOMES = ("served", "not_served", "referred")
UNDO_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Step:
    id: int
    ticket_id: int
    number: int
    stop_id: int
    position: int
    station: str
    letter: str
    state: str
    priority: bool
    priority_class: str | None
    citizen_id: int | None
    created_at: datetime
    enqueued_at: datetime | None
    called_at: datetime | None
    first_called_at: datetime | None
    call_count: int
    desk: str | None
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    notes: str | None
    from_step: int | None = None

    @property
    def label(self) -> str:
        """The ticket as shown at this station: the station's letter and the ticket's number."""
        return f"{self.letter}-{self.number:03d}"


@dataclass(frozen=True)
class Ticket:
    id: int
    stop_id: int
    number: int
    citizen_id: int | None
    priority_class: str | None
    issued_at: datetime
    steps: tuple[Step, ...]

    @property
    def label(self) -> str:
        return f"{self.number:03d}"

    def active_step(self) -> Step | None:
        return next((s for s in self.steps if s.state in ACTIVE), None)


STEP_SQL = """
SELECT s.*, t.number, t.stop_id, t.citizen_id, t.priority_class, st.letter
FROM steps s JOIN tickets t ON t.id = s.ticket_id JOIN stations st ON st.code = s.station
"""


def _step(row: dict[str, Any]) -> Step:
    return Step(
        id=row["id"], ticket_id=row["ticket_id"], number=row["number"], stop_id=row["stop_id"],
        position=row["position"], station=row["station"], letter=row["letter"], state=row["state"],
        priority=bool(row["priority"]), priority_class=row["priority_class"], citizen_id=row["citizen_id"],
        created_at=parse(row["created_at"]), enqueued_at=parse(row["enqueued_at"]),
        called_at=parse(row["called_at"]), first_called_at=parse(row["first_called_at"]),
        call_count=row["call_count"], desk=row["desk"], started_at=parse(row["started_at"]),
        finished_at=parse(row["finished_at"]), outcome=row["outcome"], notes=row["notes"],
        from_step=row["from_step"],
    )


def get_step(ship: Ship, step_id: int) -> Step:
    rows = list(ship.rows(STEP_SQL + " WHERE s.id = ?", [step_id]))
    if not rows:
        raise NotFound("unknown_step", step=step_id)
    return _step(rows[0])


def get_ticket(ship: Ship, ticket_id: int) -> Ticket:
    rows = list(ship.rows("SELECT * FROM tickets WHERE id = ?", [ticket_id]))
    if not rows:
        raise NotFound("unknown_ticket", ticket=ticket_id)
    t = rows[0]
    steps = [_step(r) for r in ship.rows(STEP_SQL + " WHERE s.ticket_id = ? ORDER BY s.position", [ticket_id])]
    return Ticket(
        id=t["id"], stop_id=t["stop_id"], number=t["number"], citizen_id=t["citizen_id"],
        priority_class=t["priority_class"], issued_at=parse(t["issued_at"]), steps=tuple(steps),
    )


def ticket_by_number(ship: Ship, number: int, stop_id: int | None = None) -> Ticket:
    if stop_id is None:
        stop_id = campaign.require_current(ship).id
    rows = list(ship.rows("SELECT id FROM tickets WHERE stop_id = ? AND number = ?", [stop_id, number]))
    if not rows:
        raise NotFound("unknown_ticket", ticket=f"{number:03d}")
    return get_ticket(ship, rows[0]["id"])


def _history(
    ship: Ship, step_id: int, from_state: str | None, to_state: str, desk: str | None, actor: Actor,
    note: str | None = None,
) -> None:
    ship.conn.execute(
        "INSERT INTO step_history (step_id, at, from_state, to_state, desk, operator_id, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (step_id, iso(ship.now()), from_state, to_state, desk, actor.id, note),
    )


def _event(ship: Ship, kind: str, step: Step, actor: Actor, **extra: Any) -> None:
    payload = {"ticket": step.ticket_id, "number": step.number, "step": step.id, "station": step.station}
    payload.update(extra)
    events.record(ship, kind, payload, operator_id=actor.id, stop_id=step.stop_id)


# --- registration desk -------------------------------------------------------------


def issue(
    ship: Ship,
    actor: Actor,
    stations: list[str] | tuple[str, ...],
    citizen_id: int | None = None,
    priority_class: str | None = None,
) -> Ticket:
    """Issue one ticket for a visit, for one or several stations, in the order given."""
    require(actor, "issue")
    if not stations:
        raise Refused("no_stations")
    if len(set(stations)) != len(stations):
        raise Refused("station_twice")
    known = {s.code for s in ship.config.stations}
    for code in stations:
        if code not in known:
            raise Refused("unknown_station", station=code)
    if priority_class is not None and priority_class not in {p.code for p in ship.config.priority_classes}:
        raise Refused("unknown_condition", condition=priority_class)
    now = ship.now()
    with transaction(ship.db) as conn:
        stop = campaign.require_current(ship)
        for code in stations:
            if code not in stop.stations:
                raise Refused("station_not_at_stop", station=code, community=stop.community)
        citizen = citizens.get(ship, citizen_id) if citizen_id is not None else None
        if priority_class is None:
            priority_class = citizens.priority_class_for(ship, citizen, now.date())
        number = conn.execute(
            "INSERT INTO counters (stop_id, name, value) VALUES (?, 'ticket', 1) "
            "ON CONFLICT (stop_id, name) DO UPDATE SET value = value + 1 RETURNING value",
            (stop.id,),
        ).fetchone()[0]
        cur = conn.execute(
            "INSERT INTO tickets (stop_id, number, citizen_id, priority_class, issued_at, issued_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (stop.id, number, citizen_id, priority_class, iso(now), actor.id),
        )
        ticket_id = cur.lastrowid
        for position, code in enumerate(stations, start=1):
            state = "waiting" if position == 1 else "pending"
            step_cur = conn.execute(
                "INSERT INTO steps (ticket_id, position, station, state, priority, created_at, enqueued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ticket_id, position, code, state, int(priority_class is not None), iso(now),
                 iso(now) if state == "waiting" else None),
            )
            _history(ship, step_cur.lastrowid, None, state, None, actor)
        events.record(
            ship, "ticket.issued",
            {
                "ticket": ticket_id, "number": number, "stations": list(stations),
                "citizen": citizen_id, "priority_class": priority_class,
                "dni": citizen.dni if citizen else None,
                "name": citizen.full_name if citizen else None,
            },
            operator_id=actor.id, stop_id=stop.id,
        )
    return get_ticket(ship, ticket_id)


# --- desks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    code: str
    station: str
    number: int
    state: str
    pause_reason: str | None
    operator_id: int | None
    changed_at: datetime | None


def _desk_row(ship: Ship, code: str) -> Desk:
    rows = list(ship.rows("SELECT * FROM desks WHERE code = ?", [code]))
    if not rows:
        raise NotFound("unknown_desk", desk=code)
    r = rows[0]
    return Desk(
        code=r["code"], station=r["station"], number=r["number"], state=r["state"],
        pause_reason=r["pause_reason"], operator_id=r["operator_id"], changed_at=parse(r["changed_at"]),
    )


def get_desk(ship: Ship, code: str) -> Desk:
    return _desk_row(ship, code)


def desks(ship: Ship, station: str | None = None) -> list[Desk]:
    sql = "SELECT code FROM desks" + (" WHERE station = ?" if station else "") + " ORDER BY station, number"
    return [_desk_row(ship, r["code"]) for r in ship.rows(sql, [station] if station else [])]


def _set_desk(ship: Ship, actor: Actor, desk: Desk, state: str, reason: str | None) -> Desk:
    now = iso(ship.now())
    ship.conn.execute(
        "UPDATE desks SET state = ?, pause_reason = ?, operator_id = ?, changed_at = ? WHERE code = ?",
        (state, reason, actor.id if state != "closed" else None, now, desk.code),
    )
    ship.conn.execute(
        "INSERT INTO desk_history (desk, at, state, reason, operator_id) VALUES (?, ?, ?, ?, ?)",
        (desk.code, now, state, reason, actor.id),
    )
    stop = campaign.current(ship)
    events.record(
        ship, f"desk.{state}", {"desk": desk.code, "station": desk.station, "reason": reason},
        operator_id=actor.id, stop_id=stop.id if stop else None,
    )
    return _desk_row(ship, desk.code)


def open_desk(ship: Ship, actor: Actor, code: str) -> Desk:
    with transaction(ship.db):
        desk = _desk_row(ship, code)
        require(actor, "desk", desk.station)
        if desk.state == "open" and desk.operator_id == actor.id:
            return desk
        return _set_desk(ship, actor, desk, "open", None)


def pause_desk(ship: Ship, actor: Actor, code: str, reason: str) -> Desk:
    if not reason.strip():
        raise Refused("required", field="reason")
    with transaction(ship.db):
        desk = _desk_row(ship, code)
        require(actor, "desk", desk.station)
        if desk.state != "open":
            raise Refused("desk_not_open", desk=code)
        if _current_at_desk(ship, code) is not None:
            raise Refused("desk_busy", desk=code)
        return _set_desk(ship, actor, desk, "paused", reason.strip())


def resume_desk(ship: Ship, actor: Actor, code: str) -> Desk:
    with transaction(ship.db):
        desk = _desk_row(ship, code)
        require(actor, "desk", desk.station)
        if desk.state != "paused":
            raise Refused("desk_not_paused", desk=code)
        return _set_desk(ship, actor, desk, "open", None)


def close_desk(ship: Ship, actor: Actor, code: str) -> Desk:
    with transaction(ship.db):
        desk = _desk_row(ship, code)
        require(actor, "desk", desk.station)
        if _current_at_desk(ship, code) is not None:
            raise Refused("desk_busy", desk=code)
        if desk.state == "closed":
            return desk
        return _set_desk(ship, actor, desk, "closed", None)


def _open_desk_for(ship: Ship, actor: Actor, code: str) -> Desk:
    desk = _desk_row(ship, code)
    require(actor, "desk", desk.station)
    if desk.state == "paused":
        raise Refused("desk_paused", desk=code, reason=desk.pause_reason or "")
    if desk.state != "open":
        raise Refused("desk_not_open", desk=code)
    return desk


def _current_at_desk(ship: Ship, code: str) -> Step | None:
    rows = list(ship.rows(STEP_SQL + " WHERE s.desk = ? AND s.state IN ('called', 'serving')", [code]))
    return _step(rows[0]) if rows else None


def current_at_desk(ship: Ship, code: str) -> Step | None:
    """The ticket being called or served at a desk, if any."""
    return _current_at_desk(ship, code)


# --- the queue ---------------------------------------------------------------------


def policy_of(ship: Ship) -> priority.Policy:
    q = ship.config.queue
    return priority.Policy(mode=q.policy, wait_bound=timedelta(minutes=q.wait_bound_minutes), run=q.priority_run)


def waiting(ship: Ship, station: str, stop_id: int | None = None) -> list[Step]:
    """The station's queue at a stop, in the order the policy would call it now."""
    if stop_id is None:
        stop = campaign.current(ship)
        if stop is None:
            return []
        stop_id = stop.id
    rows = ship.rows(
        STEP_SQL + " WHERE s.station = ? AND s.state = 'waiting' AND t.stop_id = ?", [station, stop_id]
    )
    steps = {s.id: s for s in map(_step, rows)}
    streak = ship.conn.execute("SELECT priority_streak FROM stations WHERE code = ?", (station,)).fetchone()
    cands = [priority.Candidate(s.id, s.priority, s.enqueued_at) for s in steps.values()]
    ordered = priority.order(cands, policy_of(ship), ship.now(), streak[0] if streak else 0)
    return [steps[c.step_id] for c in ordered]


def missed_list(ship: Ship, station: str | None = None, stop_id: int | None = None) -> list[Step]:
    if stop_id is None:
        stop = campaign.current(ship)
        if stop is None:
            return []
        stop_id = stop.id
    sql = STEP_SQL + " WHERE s.state = 'missed' AND t.stop_id = ?"
    params: list[Any] = [stop_id]
    if station:
        sql += " AND s.station = ?"
        params.append(station)
    return [_step(r) for r in ship.rows(sql + " ORDER BY s.finished_at DESC", params)]


def _transition(
    ship: Ship, step: Step, to_state: str, actor: Actor, at_desk: str | None, note: str | None = None,
    **columns: Any,
) -> Step:
    sets = ", ".join(f"{k} = ?" for k in ("state", *columns))
    cur = ship.conn.execute(
        f"UPDATE steps SET {sets} WHERE id = ? AND state = ?",
        (to_state, *columns.values(), step.id, step.state),
    )
    if cur.rowcount != 1:
        # Someone else changed it since we read it: say so rather than guess.
        raise Refused("step_changed", ticket=step.label)
    _history(ship, step.id, step.state, to_state, at_desk, actor, note)
    # The row is now what we wrote: build it here rather than read it back.
    changed = {k: parse(v) if k.endswith("_at") and isinstance(v, str) else v for k, v in columns.items()}
    return replace(step, state=to_state, **changed)


def _claim(ship: Ship, actor: Actor, desk: Desk, step: Step) -> Step:
    now = iso(ship.now())
    called = _transition(
        ship, step, "called", actor, desk.code, desk=desk.code, called_at=now,
        first_called_at=now, call_count=1,
    )
    # The run of priority calls, for the "N priority, then one ordinary" policy.
    ship.conn.execute(
        "UPDATE stations SET priority_streak = CASE WHEN ? THEN priority_streak + 1 ELSE 0 END WHERE code = ?",
        (step.priority, desk.station),
    )
    _event(ship, "step.called", called, actor, desk=desk.code, call=1)
    return called


def call_next(ship: Ship, actor: Actor, desk_code: str) -> Step:
    """Call the next ticket to this desk. Exactly one desk gets each ticket.

    The whole choice runs under the write lock (BEGIN IMMEDIATE), so desks in
    other processes pressing at the same instant each get a different ticket.
    """
    with transaction(ship.db):
        desk = _open_desk_for(ship, actor, desk_code)
        busy = _current_at_desk(ship, desk_code)
        if busy is not None:
            raise Refused("desk_has_ticket", desk=desk_code, ticket=busy.label)
        stop = campaign.require_current(ship)
        rows = ship.rows(
            "SELECT s.id, s.priority, s.enqueued_at FROM steps s JOIN tickets t ON t.id = s.ticket_id "
            "WHERE s.station = ? AND s.state = 'waiting' AND t.stop_id = ?",
            [desk.station, stop.id],
        )
        cands = [priority.Candidate(r["id"], bool(r["priority"]), parse(r["enqueued_at"])) for r in rows]
        streak = ship.conn.execute(
            "SELECT priority_streak FROM stations WHERE code = ?", (desk.station,)
        ).fetchone()[0]
        chosen = priority.choose(cands, policy_of(ship), ship.now(), streak)
        if chosen is None:
            raise Refused("queue_empty", station=desk.station)
        return _claim(ship, actor, desk, get_step(ship, chosen.step_id))


def call_ticket(ship: Ship, actor: Actor, desk_code: str, number: int) -> Step:
    """Call a chosen ticket out of order (e.g. a citizen who cannot wait)."""
    with transaction(ship.db):
        desk = _open_desk_for(ship, actor, desk_code)
        busy = _current_at_desk(ship, desk_code)
        if busy is not None:
            raise Refused("desk_has_ticket", desk=desk_code, ticket=busy.label)
        ticket = ticket_by_number(ship, number)
        step = next((s for s in ticket.steps if s.station == desk.station and s.state in ACTIVE), None)
        if step is None:
            raise Refused("ticket_not_for_station", ticket=ticket.label, station=desk.station)
        if step.state != "waiting":
            raise Refused("step_not_waiting", ticket=step.label, state=step.state)
        return _claim(ship, actor, desk, step)


def _at_desk(ship: Ship, actor: Actor, desk_code: str, states: tuple[str, ...]) -> tuple[Desk, Step]:
    desk = _desk_row(ship, desk_code)
    require(actor, "desk", desk.station)
    step = _current_at_desk(ship, desk_code)
    if step is None:
        raise Refused("desk_idle", desk=desk_code)
    if step.state not in states:
        raise Refused("step_wrong_state", ticket=step.label, state=step.state)
    return desk, step


def recall(ship: Ship, actor: Actor, desk_code: str) -> Step:
    """Call the same ticket again: at most max_recalls times, and not too quickly."""
    rules = ship.config.queue
    with transaction(ship.db):
        desk, step = _at_desk(ship, actor, desk_code, ("called",))
        if step.call_count > rules.max_recalls:
            raise Refused("too_many_recalls", ticket=step.label, max=rules.max_recalls)
        gap = (ship.now() - step.called_at).total_seconds()
        if gap < rules.recall_gap_seconds:
            raise Refused("recall_too_soon", seconds=int(rules.recall_gap_seconds - gap) + 1)
        now = iso(ship.now())
        ship.conn.execute(
            "UPDATE steps SET call_count = call_count + 1, called_at = ? WHERE id = ?", (now, step.id)
        )
        _history(ship, step.id, "called", "called", desk.code, actor, f"recall {step.call_count + 1}")
        called = get_step(ship, step.id)
        _event(ship, "step.recalled", called, actor, desk=desk.code, call=called.call_count)
        return called


def start(ship: Ship, actor: Actor, desk_code: str) -> Step:
    with transaction(ship.db):
        desk, step = _at_desk(ship, actor, desk_code, ("called",))
        serving = _transition(ship, step, "serving", actor, desk.code, started_at=iso(ship.now()))
        _event(ship, "step.started", serving, actor, desk=desk.code)
        return serving


def _advance_route(ship: Ship, ticket_id: int, actor: Actor) -> Step | None:
    """After a step ends, the next pending step of the route joins its queue."""
    ticket = get_ticket(ship, ticket_id)
    if ticket.active_step() is not None:
        return None
    nxt = next((s for s in ticket.steps if s.state == "pending"), None)
    if nxt is None:
        return None
    waiting_step = _transition(ship, nxt, "waiting", actor, None, enqueued_at=iso(ship.now()))
    _event(ship, "step.queued", waiting_step, actor)
    return waiting_step


def finish(ship: Ship, actor: Actor, desk_code: str, outcome: str = "served", notes: str = "") -> Step:
    """End the attention with its outcome; the ticket's next station takes it from here."""
    if outcome not in OUTCOMES:
        raise Refused("bad_outcome", outcome=outcome)
    with transaction(ship.db):
        desk, step = _at_desk(ship, actor, desk_code, ("serving",))
        done = _transition(
            ship, step, "done", actor, desk.code, note=outcome,
            finished_at=iso(ship.now()), outcome=outcome, notes=notes.strip() or None,
        )
        _event(ship, "step.finished", done, actor, desk=desk.code, outcome=outcome, notes=notes.strip() or None)
        _advance_route(ship, step.ticket_id, actor)
        return done


def missed(ship: Ship, actor: Actor, desk_code: str) -> Step:
    """Mark a called ticket as not present, after it was called enough times; the route moves on."""
    rules = ship.config.queue
    with transaction(ship.db):
        desk, step = _at_desk(ship, actor, desk_code, ("called",))
        if step.call_count < rules.missed_after_calls:
            raise Refused(
                "call_more_first", ticket=step.label, calls=step.call_count, needed=rules.missed_after_calls
            )
        gone = _transition(ship, step, "missed", actor, desk.code, finished_at=iso(ship.now()))
        _event(ship, "step.missed", gone, actor, desk=desk.code)
        # Missing one call must not cost the citizen the other services of the visit.
        _advance_route(ship, step.ticket_id, actor)
        return gone


def reactivate(ship: Ship, actor: Actor, station: str, number: int) -> Step:
    """A citizen who missed the call turned up: back in the queue where they were."""
    with transaction(ship.db):
        # The citizen may come back to the station's desk or to the registration desk.
        if not (actor.may("desk", station) or actor.may("issue")):
            raise Refused("not_allowed", login=actor.login, action="reactivate")
        ticket = ticket_by_number(ship, number)
        step = next((s for s in ticket.steps if s.station == station and s.state == "missed"), None)
        if step is None:
            raise Refused("ticket_not_missed", ticket=f"{number:03d}", station=station)
        back = _transition(
            ship, step, "waiting", actor, None, desk=None, called_at=None, call_count=0, finished_at=None
        )
        _event(ship, "step.reactivated", back, actor)
        return back


def transfer(ship: Ship, actor: Actor, desk_code: str, to_station: str, note: str = "") -> Step:
    """Send the ticket at this desk to another station (referral); it joins that queue now."""
    if to_station not in {s.code for s in ship.config.stations}:
        raise Refused("unknown_station", station=to_station)
    with transaction(ship.db):
        desk, step = _at_desk(ship, actor, desk_code, ("called", "serving"))
        if to_station == step.station:
            raise Refused("transfer_same_station", station=to_station)
        stop = campaign.require_current(ship)
        if to_station not in stop.stations:
            raise Refused("station_not_at_stop", station=to_station, community=stop.community)
        ticket = get_ticket(ship, step.ticket_id)
        if any(s.station == to_station and s.state in ("pending", *ACTIVE) for s in ticket.steps):
            raise Refused("already_in_route", ticket=ticket.label, station=to_station)
        now = iso(ship.now())
        moved = _transition(
            ship, step, "transferred", actor, desk.code, note=note or None, finished_at=now,
            outcome="referred" if step.state == "serving" else None, notes=note.strip() or None,
        )
        position = max(s.position for s in ticket.steps) + 1
        cur = ship.conn.execute(
            "INSERT INTO steps (ticket_id, position, station, state, priority, created_at, enqueued_at, "
            "from_step) VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?)",
            (step.ticket_id, position, to_station, int(step.priority), now, now, step.id),
        )
        _history(ship, cur.lastrowid, None, "waiting", desk.code, actor, f"from {step.station}")
        new_step = get_step(ship, cur.lastrowid)
        _event(ship, "step.transferred", moved, actor, desk=desk.code, to_station=to_station,
               new_step=new_step.id, note=note.strip() or None)
        return new_step


def add_step(ship: Ship, actor: Actor, desk_code: str, station: str) -> Step:
    """Add a station to the route of the ticket at this desk, after the ones it already has."""
    if station not in {s.code for s in ship.config.stations}:
        raise Refused("unknown_station", station=station)
    with transaction(ship.db):
        desk, step = _at_desk(ship, actor, desk_code, ("called", "serving"))
        stop = campaign.require_current(ship)
        if station not in stop.stations:
            raise Refused("station_not_at_stop", station=station, community=stop.community)
        ticket = get_ticket(ship, step.ticket_id)
        if any(s.station == station and s.state in ("pending", *ACTIVE) for s in ticket.steps):
            raise Refused("already_in_route", ticket=ticket.label, station=station)
        position = max(s.position for s in ticket.steps) + 1
        cur = ship.conn.execute(
            "INSERT INTO steps (ticket_id, position, station, state, priority, created_at, from_step) "
            "VALUES (?, ?, ?, 'pending', ?, ?, ?)",
            (step.ticket_id, position, station, int(step.priority), iso(ship.now()), step.id),
        )
        _history(ship, cur.lastrowid, None, "pending", desk.code, actor, f"added at {desk.code}")
        added = get_step(ship, cur.lastrowid)
        _event(ship, "step.added", added, actor, desk=desk.code)
        return added


def cancel(ship: Ship, actor: Actor, step_id: int, reason: str = "") -> Step:
    """Cancel a step that is not finished (the citizen left or no longer needs it)."""
    with transaction(ship.db):
        step = get_step(ship, step_id)
        if not (actor.may("desk", step.station) or actor.may("issue")):
            raise Refused("not_allowed", login=actor.login, action="cancel")
        if step.state in FINAL:
            raise Refused("step_final", ticket=step.label, state=step.state)
        gone = _transition(ship, step, "cancelled", actor, step.desk, note=reason or None,
                           finished_at=iso(ship.now()))
        _event(ship, "step.cancelled", gone, actor, reason=reason.strip() or None)
        _advance_route(ship, step.ticket_id, actor)
        return gone


# Which state an undo goes back to, and which columns it clears.
_UNDO = {
    "called": ("waiting", {"desk": None, "called_at": None, "first_called_at": None, "call_count": 0}),
    "serving": ("called", {"started_at": None}),
    "done": ("serving", {"finished_at": None, "outcome": None, "notes": None}),
    "missed": ("called", {"finished_at": None}),
}


def undo(ship: Ship, actor: Actor, desk_code: str) -> Step:
    """Take back this desk's last action on a step (a key pressed by mistake), within a few minutes."""
    with transaction(ship.db):
        desk = _desk_row(ship, desk_code)
        require(actor, "desk", desk.station)
        row = ship.conn.execute(
            "SELECT step_id, at, to_state FROM step_history WHERE desk = ? AND to_state IN "
            "('called', 'serving', 'done', 'missed') AND (note IS NULL OR note NOT LIKE 'undo%') "
            "ORDER BY id DESC LIMIT 1",
            (desk_code,),
        ).fetchone()
        if row is None:
            raise Refused("nothing_to_undo", desk=desk_code)
        step = get_step(ship, row[0])
        if step.state != row[2] or step.desk != desk_code:
            raise Refused("nothing_to_undo", desk=desk_code)
        if ship.now() - parse(row[1]) > UNDO_WINDOW:
            raise Refused("undo_too_late", minutes=int(UNDO_WINDOW.total_seconds() // 60))
        if step.state in ("done", "missed"):
            busy = _current_at_desk(ship, desk_code)
            if busy is not None:
                raise Refused("desk_has_ticket", desk=desk_code, ticket=busy.label)
        if step.state == "done":
            # The next station may already have the ticket in its queue: take it back if untouched.
            ticket = get_ticket(ship, step.ticket_id)
            for later in ticket.steps:
                if later.position > step.position and later.state == "waiting" and later.from_step is None:
                    _transition(ship, later, "pending", actor, desk_code, note="undo", enqueued_at=None)
                elif later.position > step.position and later.state in ("called", "serving"):
                    raise Refused("undo_next_started", ticket=ticket.label, station=later.station)
        back_to, clear = _UNDO[step.state]
        if step.state == "called":
            clear = {**clear, "desk": None}
        reverted = _transition(ship, step, back_to, actor, desk_code, note=f"undo {step.state}", **clear)
        _event(ship, "step.undone", reverted, actor, desk=desk_code, undone=step.state)
        return reverted


def route(ship: Ship, ticket_id: int) -> list[Step]:
    return list(get_ticket(ship, ticket_id).steps)
