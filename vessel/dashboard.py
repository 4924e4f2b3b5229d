"""The coordinator's view of the day at the current stop, in a few aggregate queries.

The dashboard refreshes whenever any terminal writes, on a ship that may hold
thousands of tickets by the end of a campaign, so the figures come from
grouped queries over the current stop rather than from one call per ticket.
"""

from __future__ import annotations

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


def summary(ship: Ship, overdue_limit: int = 50) -> Dashboard:
    now = ship.now()
    bound = ship.config.queue.wait_bound_minutes
    stop = campaign.current(ship)
    if stop is None:
        return Dashboard(now, None, (), (), 0, bound)
    counts = {
        r[0]: r[1:]
        for r in ship.conn.execute(
            "SELECT s.station, sum(s.state = 'waiting'), sum(s.state IN ('called', 'serving')), "
            "sum(s.state = 'done'), sum(s.state = 'missed'), "
            "avg(CASE WHEN s.first_called_at IS NOT NULL AND s.enqueued_at IS NOT NULL THEN "
            "(julianday(s.first_called_at) - julianday(s.enqueued_at)) * 1440.0 END) "
            "FROM steps s JOIN tickets t ON t.id = s.ticket_id WHERE t.stop_id = ? GROUP BY s.station",
            (stop.id,),
        )
    }
    desk_states: dict[tuple[str, str], int] = {
        (r[0], r[1]): r[2]
        for r in ship.conn.execute("SELECT station, state, count(*) FROM desks GROUP BY station, state")
    }
    cutoff = iso(now - timedelta(minutes=bound))
    late_rows = ship.conn.execute(
        "SELECT s.station, s.enqueued_at, s.priority, t.number, st.letter FROM steps s "
        "JOIN tickets t ON t.id = s.ticket_id JOIN stations st ON st.code = s.station "
        "WHERE s.state = 'waiting' AND t.stop_id = ? AND s.enqueued_at < ? ORDER BY s.enqueued_at",
        (stop.id, cutoff),
    ).fetchall()
    late_by_station: dict[str, int] = {}
    for r in late_rows:
        late_by_station[r[0]] = late_by_station.get(r[0], 0) + 1
    overdue = tuple(
        Overdue(
            label=f"{r[4]}-{r[3]:03d}", station=r[0],
            waited_min=round((now - parse(r[1])).total_seconds() / 60, 1), priority=bool(r[2]),
        )
        for r in late_rows[:overdue_limit]
    )
    rows = []
    for st in ship.config.stations:
        if st.code not in stop.stations:
            continue
        waiting, in_service, served, missed, mean = counts.get(st.code, (0, 0, 0, 0, None))
        open_desks = desk_states.get((st.code, "open"), 0)
        # The estimate for someone joining the queue now, as the registration desk tells them.
        load = waits.load(ship, st.code)
        low, high = load.wait_low_min, load.wait_high_min
        rows.append(
            StationRow(
                station=st, waiting=waiting or 0, in_service=in_service or 0, served=served or 0,
                missed=missed or 0, wait_mean_min=round(mean, 1) if mean is not None else None,
                wait_low_min=low, wait_high_min=high, open_desks=open_desks,
                paused_desks=desk_states.get((st.code, "paused"), 0), desks=st.desks,
                overdue=late_by_station.get(st.code, 0),
            )
        )
    return Dashboard(now, stop, tuple(rows), overdue, len(late_rows), bound)
