"""The campaign's itinerary: planned stops, arrival and departure, the current stop.

Every ticket and attention belongs to the stop where it happened, so the ship
is "at" no more than one stop at a time. Arrival and departure are recorded
by hand from the bridge or by the GPS daemon; `by` says which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from vessel import events
from vessel.clock import iso, parse
from vessel.errors import NotFound, Refused
from vessel.operators import Actor, require
from vessel.ship import Ship
from vessel.store import transaction


@dataclass(frozen=True)
class Stop:
    id: int
    seq: int
    community: str
    lat: float
    lon: float
    planned_arrive: date
    planned_depart: date
    stations: tuple[str, ...]
    arrived_at: datetime | None
    arrived_by: str | None
    departed_at: datetime | None
    departed_by: str | None
    purged_at: datetime | None

    @property
    def is_current(self) -> bool:
        return self.arrived_at is not None and self.departed_at is None

    @property
    def visited(self) -> bool:
        return self.departed_at is not None


def _stop(row: dict) -> Stop:
    return Stop(
        id=row["id"], seq=row["seq"], community=row["community"], lat=row["lat"], lon=row["lon"],
        planned_arrive=date.fromisoformat(row["planned_arrive"]),
        planned_depart=date.fromisoformat(row["planned_depart"]),
        stations=tuple(json.loads(row["stations"])),
        arrived_at=parse(row["arrived_at"]), arrived_by=row["arrived_by"],
        departed_at=parse(row["departed_at"]), departed_by=row["departed_by"],
        purged_at=parse(row["purged_at"]),
    )


def stops(ship: Ship) -> list[Stop]:
    return [_stop(r) for r in ship.rows("SELECT * FROM stops ORDER BY seq")]


def get(ship: Ship, stop_id: int) -> Stop:
    rows = list(ship.rows("SELECT * FROM stops WHERE id = ?", [stop_id]))
    if not rows:
        raise NotFound("unknown_stop", stop=stop_id)
    return _stop(rows[0])


def find(ship: Ship, community_or_seq: str) -> Stop:
    """A stop by its order in the itinerary (1, 2...) or by community name."""
    from vessel.text import fold

    key = community_or_seq.strip()
    for s in stops(ship):
        if key == str(s.seq) or fold(key) == fold(s.community):
            return s
    raise NotFound("unknown_stop", stop=key)


def current(ship: Ship) -> Stop | None:
    rows = list(
        ship.rows("SELECT * FROM stops WHERE arrived_at IS NOT NULL AND departed_at IS NULL LIMIT 1")
    )
    return _stop(rows[0]) if rows else None


def require_current(ship: Ship) -> Stop:
    stop = current(ship)
    if stop is None:
        raise Refused("no_current_stop")
    return stop


def next_planned(ship: Ship) -> Stop | None:
    for s in stops(ship):
        if s.arrived_at is None:
            return s
    return None


def arrive(ship: Ship, actor: Actor, stop_id: int, by: str = "hand") -> Stop:
    require(actor, "stops")
    with transaction(ship.db) as conn:
        stop = get(ship, stop_id)
        here = current(ship)
        if here is not None and here.id == stop.id:
            raise Refused("already_at_stop", community=stop.community)
        if here is not None:
            raise Refused("still_at_stop", community=here.community)
        if stop.visited:
            raise Refused("stop_already_visited", community=stop.community)
        now = ship.now()
        conn.execute(
            "UPDATE stops SET arrived_at = ?, arrived_by = ? WHERE id = ?", (iso(now), by, stop.id)
        )
        events.record(
            ship, "stop.arrived", {"community": stop.community, "seq": stop.seq, "by": by},
            operator_id=actor.id, stop_id=stop.id,
        )
    return get(ship, stop_id)


def depart(ship: Ship, actor: Actor, by: str = "hand") -> Stop:
    """Leave the current stop. Tickets still open there are left as they are, to be seen in reports."""
    require(actor, "stops")
    with transaction(ship.db) as conn:
        stop = require_current(ship)
        now = ship.now()
        conn.execute(
            "UPDATE stops SET departed_at = ?, departed_by = ? WHERE id = ?", (iso(now), by, stop.id)
        )
        events.record(
            ship, "stop.departed", {"community": stop.community, "seq": stop.seq, "by": by},
            operator_id=actor.id, stop_id=stop.id,
        )
    return get(ship, stop.id)
