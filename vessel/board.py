"""What the public display in the waiting area shows: who is called where, and who missed a call.

Read-only. A "call" is a ticket called to a desk, or called again (recall);
each one is a row of step_history, so its id orders calls across every
terminal and lets the display find the calls it has not announced yet
without re-reading the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass

from vessel import campaign
from vessel.campaign import Stop
from vessel.clock import parse
from vessel.config import Station
from vessel.dashboard import ticket_range
from vessel.ship import Ship

# CROSS JOIN keeps step_history as the outer loop, read newest first by id, so the last few calls
# cost a few rows whatever the size of the day; h.id > ? starts at the current stop's first step.
CALL_SQL = """
SELECT h.id AS history_id, h.at, h.desk, h.from_state, s.id AS step_id, s.station, s.state,
       t.number, st.letter, d.number AS desk_number
FROM step_history h
CROSS JOIN steps s ON s.id = h.step_id
CROSS JOIN tickets t ON t.id = s.ticket_id
JOIN stations st ON st.code = s.station
JOIN desks d ON d.code = h.desk
WHERE h.to_state = 'called' AND t.stop_id = ? AND h.id > ?
  AND (h.from_state = 'waiting' OR (h.from_state = 'called' AND h.note LIKE 'recall%'))
"""


@dataclass(frozen=True)
class Call:
    """One call of a ticket to a desk (the first one or a recall)."""

    history_id: int
    step_id: int
    letter: str
    number: int
    station: str
    desk: str
    desk_number: int
    at: object
    recall: bool

    @property
    def label(self) -> str:
        return f"{self.letter}-{self.number:03d}"


@dataclass(frozen=True)
class AtDesk:
    """A ticket being called or served at a desk right now."""

    label: str
    number: int
    letter: str
    desk: str
    desk_number: int
    state: str
    called_at: object


@dataclass(frozen=True)
class StationBoard:
    station: Station
    at_desks: tuple[AtDesk, ...]  # most recently called first
    waiting: int

    @property
    def latest(self) -> AtDesk | None:
        return self.at_desks[0] if self.at_desks else None


@dataclass(frozen=True)
class Board:
    stop: Stop | None
    stations: tuple[StationBoard, ...]
    recent: tuple[Call, ...]  # newest first
    missed: tuple[str, ...]  # labels, most recently missed first
    last_call_id: int


def _call(row: dict) -> Call:
    return Call(
        history_id=row["history_id"], step_id=row["step_id"], letter=row["letter"], number=row["number"],
        station=row["station"], desk=row["desk"], desk_number=row["desk_number"], at=parse(row["at"]),
        recall=row["from_state"] == "called",
    )


def last_call_id(ship: Ship) -> int:
    row = ship.conn.execute("SELECT max(id) FROM step_history WHERE to_state = 'called'").fetchone()
    return row[0] or 0


def _first_history_id(ship: Ship, stop_id: int) -> int | None:
    """The history row just before the stop's first ticket was issued (None: no tickets there yet)."""
    lo, _hi = ticket_range(ship, stop_id)
    if lo == 0:
        return None
    row = ship.conn.execute(
        "SELECT min(h.id) FROM step_history h WHERE h.step_id = (SELECT min(id) FROM steps WHERE ticket_id = ?)",
        (lo,),
    ).fetchone()
    return (row[0] or 1) - 1


def calls_since(ship: Ship, after_id: int, stop_id: int | None = None) -> list[Call]:
    """Calls made after history row `after_id`, oldest first: the ones still to announce."""
    if stop_id is None:
        stop = campaign.current(ship)
        if stop is None:
            return []
        stop_id = stop.id
    rows = ship.db.query(CALL_SQL + " ORDER BY h.id", [stop_id, after_id])
    return [_call(r) for r in rows]


def board(ship: Ship, recent: int = 6, missed: int = 12) -> Board:
    stop = campaign.current(ship)
    last = last_call_id(ship)
    if stop is None:
        return Board(None, (), (), (), last)
    active: dict[str, list[AtDesk]] = {}
    rows = ship.db.query(
        "SELECT s.station, s.state, s.called_at, s.desk, t.number, st.letter, d.number AS desk_number "
        "FROM steps s JOIN tickets t ON t.id = s.ticket_id JOIN stations st ON st.code = s.station "
        "JOIN desks d ON d.code = s.desk "
        "WHERE s.state IN ('called', 'serving') AND t.stop_id = ? ORDER BY s.called_at DESC, s.id DESC",
        [stop.id],
    )
    for r in rows:
        active.setdefault(r["station"], []).append(
            AtDesk(
                label=f"{r['letter']}-{r['number']:03d}", number=r["number"], letter=r["letter"],
                desk=r["desk"], desk_number=r["desk_number"], state=r["state"], called_at=parse(r["called_at"]),
            )
        )
    lo, hi = ticket_range(ship, stop.id)
    waiting = dict(
        ship.conn.execute(
            "SELECT s.station, count(*) FROM steps s WHERE s.state = 'waiting' AND s.ticket_id BETWEEN ? AND ? "
            "GROUP BY s.station",
            (lo, hi),
        ).fetchall()
    )
    stations = tuple(
        StationBoard(st, tuple(active.get(st.code, ())), waiting.get(st.code, 0))
        for st in ship.config.stations
        if st.code in stop.stations
    )
    first = _first_history_id(ship, stop.id)
    calls = [] if first is None else [
        _call(r) for r in ship.db.query(CALL_SQL + " ORDER BY h.id DESC LIMIT ?", [stop.id, first, recent])
    ]
    gone = tuple(
        f"{r[1]}-{r[0]:03d}"
        for r in ship.conn.execute(
            "SELECT t.number, st.letter FROM steps s JOIN tickets t ON t.id = s.ticket_id "
            "JOIN stations st ON st.code = s.station WHERE s.state = 'missed' AND s.ticket_id BETWEEN ? AND ? "
            "ORDER BY s.finished_at DESC, s.id DESC LIMIT ?",
            (lo, hi, missed),
        )
    )
    return Board(stop, stations, tuple(calls), gone, last)
