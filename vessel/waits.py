"""Estimated waits, as a range: what a citizen at the registration desk is told.

A single number would be wrong most of the time; a range from recent service
times (the faster and slower quarter), the place in the queue and the desks
open now is honest and still useful. With no history yet, a default service
time is assumed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from vessel import campaign
from vessel.clock import parse
from vessel.ship import Ship

RECENT = 30
DEFAULT_SERVICE_MIN = (4.0, 12.0)


@dataclass(frozen=True)
class StationLoad:
    station: str
    waiting: int
    in_service: int
    open_desks: int
    wait_low_min: float
    wait_high_min: float

    def for_position(self, position: int) -> tuple[float, float]:
        """The range for the citizen at `position` (1 = next) in this queue."""
        return _range(position, self.open_desks, self._service)

    _service: tuple[float, float] = DEFAULT_SERVICE_MIN


def service_minutes(ship: Ship, station: str) -> tuple[float, float]:
    """Lower and upper quartile of the last service times at a station (minutes)."""
    rows = ship.rows(
        "SELECT started_at, finished_at FROM steps WHERE station = ? AND state = 'done' "
        "AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
        [station, RECENT],
    )
    durations = [(parse(r["finished_at"]) - parse(r["started_at"])).total_seconds() / 60 for r in rows]
    if len(durations) < 4:
        return DEFAULT_SERVICE_MIN
    q = statistics.quantiles(durations, n=4)
    return (max(0.5, q[0]), max(1.0, q[2]))


def _range(position: int, open_desks: int, service: tuple[float, float]) -> tuple[float, float]:
    desks = max(1, open_desks)
    ahead = max(0, position - 1)
    low = ahead / desks * service[0]
    high = (ahead / desks + 1) * service[1]
    return (round(low, 1), round(high, 1))


def load(ship: Ship, station: str) -> StationLoad:
    stop = campaign.current(ship)
    waiting = in_service = 0
    if stop is not None:
        row = ship.conn.execute(
            "SELECT sum(s.state = 'waiting'), sum(s.state IN ('called', 'serving')) FROM steps s "
            "JOIN tickets t ON t.id = s.ticket_id WHERE s.station = ? AND t.stop_id = ?",
            (station, stop.id),
        ).fetchone()
        waiting, in_service = row[0] or 0, row[1] or 0
    open_desks = ship.conn.execute(
        "SELECT count(*) FROM desks WHERE station = ? AND state = 'open'", (station,)
    ).fetchone()[0]
    service = service_minutes(ship, station)
    low, high = _range(waiting + 1, open_desks, service)
    return StationLoad(station, waiting, in_service, open_desks, low, high, service)


def loads(ship: Ship) -> list[StationLoad]:
    return [load(ship, s.code) for s in ship.config.stations]
