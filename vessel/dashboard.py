"""The coordinator's view of the day at the current stop, in a few aggregate queries.

The dashboard refreshes whenever any terminal writes, on a ship that may hold
thousands of tickets by the end of a campaign, so the figures come from
grouped queries over the current stop rather than from one call per ticket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from vessel import campaign, waits
from vessel.campaign import Stop
from vessel.clock import iso, parse
from vessel.config import Station
from vessel.ship import Ship


@dataclass(frozen=True)
class StationRow:
    station: Station
    waiting: int
    in_service: int
    served: int
    missed: int
    wait_mean_min: float | None
    wait_low_min: float
    wait_high_min: float
    open_desks: int
    paused_desks: int
    desks: int
    overdue: int


@dataclass(frozen=True)
class Overdue:
    """A ticket that has waited longer than the queue's waiting bound."""

    label: str
    station: str
    waited_min: float
    priority: bool


@dataclass(frozen=True)
class Dashboard:
    at: datetime
    stop: Stop | None
    rows: tuple[StationRow, ...]
    overdue: tuple[Overdue, ...]  # longest wait first
    overdue_total: int
    wait_bound_min: int

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.rows)

    @property
    def in_service(self) -> int:
        return sum(r.in_service for r in self.rows)

    @property
    def served(self) -> int:
        return sum(r.served for r in self.rows)

    @property
    def missed(self) -> int:
        return sum(r.missed for r in self.rows)


def ticket_range(ship: Ship, stop_id: int) -> tuple[int, int]:
    """The first and last ticket ids of a stop (0, -1 when it has none).

    Tickets are issued only at the current stop and a stop is never visited
    twice (vessel.campaign), so a stop's tickets are one run of ids: the
    figures below select steps by ticket id instead of joining every step to
    its ticket, which on a long campaign is most of their cost.
    """
    # Ticket numbers grow with ids within a stop: two seeks in the (stop_id, number) index.
    lo = ship.conn.execute(
        "SELECT id FROM tickets WHERE stop_id = ? ORDER BY number LIMIT 1", (stop_id,)
    ).fetchone()
    if lo is None:
        return (0, -1)
    hi = ship.conn.execute(
        "SELECT id FROM tickets WHERE stop_id = ? ORDER BY number DESC LIMIT 1", (stop_id,)
    ).fetchone()
    return (lo[0], hi[0])


# Mean waits move slowly and cost a pass over every step of the day with two date conversions
# each: they are computed at most every MEAN_WAIT_SECONDS per database and stop. Counts, overdue
# tickets and estimates are read fresh on every refresh.
MEAN_WAIT_SECONDS = 30.0
_mean_cache: dict[tuple[str, int], tuple[float, dict[str, float]]] = {}


def mean_waits(ship: Ship, stop_id: int, lo: int, hi: int, max_age: float = MEAN_WAIT_SECONDS) -> dict[str, float]:
    """Mean minutes from joining the queue to the first call, per station, over the stop's steps."""
    path = ship.conn.execute("PRAGMA database_list").fetchone()[2]
    key = (path, stop_id)
    cached = _mean_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < max_age:
        return cached[1]
    means = {
        r[0]: r[1]
        for r in ship.conn.execute(
            "SELECT s.station, avg((julianday(s.first_called_at) - julianday(s.enqueued_at)) * 1440.0) "
            "FROM steps s WHERE +s.ticket_id BETWEEN ? AND ? AND s.first_called_at IS NOT NULL "
            "AND s.enqueued_at IS NOT NULL GROUP BY s.station",
            (lo, hi),
        )
    }
    _mean_cache[key] = (now, means)
    return means


def summary(ship: Ship, overdue_limit: int = 50, fresh: bool = False) -> Dashboard:
    """The dashboard now; `fresh` also recomputes the mean waits (an explicit refresh)."""
    now = ship.now()
    bound = ship.config.queue.wait_bound_minutes
    stop = campaign.current(ship)
    if stop is None:
        return Dashboard(now, None, (), (), 0, bound)
    lo, hi = ticket_range(ship, stop.id)
    # Read from the index alone (station, state, ..., ticket_id): no step row is opened.
    counts: dict[str, dict[str, int]] = {}
    for station, state, n in ship.conn.execute(
        "SELECT s.station, s.state, count(*) FROM steps s INDEXED BY steps_done "
        "WHERE s.ticket_id BETWEEN ? AND ? GROUP BY s.station, s.state",
        (lo, hi),
    ):
        counts.setdefault(station, {})[state] = n
    means = mean_waits(ship, stop.id, lo, hi, max_age=0.0 if fresh else MEAN_WAIT_SECONDS)
    desk_states: dict[tuple[str, str], int] = {
        (r[0], r[1]): r[2]
        for r in ship.conn.execute("SELECT station, state, count(*) FROM desks GROUP BY station, state")
    }
    cutoff = iso(now - timedelta(minutes=bound))
    late_by_station = dict(
        ship.conn.execute(
            "SELECT s.station, count(*) FROM steps s WHERE s.state = 'waiting' AND s.enqueued_at < ? "
            "AND s.ticket_id BETWEEN ? AND ? GROUP BY s.station",
            (cutoff, lo, hi),
        ).fetchall()
    )
    late_rows = ship.conn.execute(
        "SELECT s.station, s.enqueued_at, s.priority, t.number, st.letter FROM steps s "
        "JOIN tickets t ON t.id = s.ticket_id JOIN stations st ON st.code = s.station "
        "WHERE s.state = 'waiting' AND s.enqueued_at < ? AND s.ticket_id BETWEEN ? AND ? "
        "ORDER BY s.enqueued_at, s.id LIMIT ?",
        (cutoff, lo, hi, overdue_limit),
    ).fetchall()
    overdue = tuple(
        Overdue(
            label=f"{r[4]}-{r[3]:03d}", station=r[0],
            waited_min=round((now - parse(r[1])).total_seconds() / 60, 1), priority=bool(r[2]),
        )
        for r in late_rows
    )
    rows = []
    for st in ship.config.stations:
        if st.code not in stop.stations:
            continue
        by_state = counts.get(st.code, {})
        waiting = by_state.get("waiting", 0)
        in_service = by_state.get("called", 0) + by_state.get("serving", 0)
        served, missed = by_state.get("done", 0), by_state.get("missed", 0)
        mean = means.get(st.code)
        open_desks = desk_states.get((st.code, "open"), 0)
        # The estimate for someone joining the queue now, as the registration desk tells them.
        service = waits.service_minutes(ship, st.code)
        load = waits.StationLoad(st.code, waiting, in_service, open_desks, 0.0, 0.0, service)
        low, high = load.for_position(waiting + 1)
        rows.append(
            StationRow(
                station=st, waiting=waiting, in_service=in_service, served=served,
                missed=missed, wait_mean_min=round(mean, 1) if mean is not None else None,
                wait_low_min=low, wait_high_min=high, open_desks=open_desks,
                paused_desks=desk_states.get((st.code, "paused"), 0), desks=st.desks,
                overdue=late_by_station.get(st.code, 0),
            )
        )
    return Dashboard(now, stop, tuple(rows), overdue, sum(late_by_station.values()), bound)
