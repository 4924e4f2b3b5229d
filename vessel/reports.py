"""Reports per stop and station, computed after the fact from the steps' timestamps.

Nothing here is a running counter: every figure is derived from the recorded
history, so a report for any stop can be produced again at any time and
always agrees with the events.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass

from vessel.clock import parse
from vessel.ship import Ship

ALL = "*"


@dataclass(frozen=True)
class Figures:
    stop: str
    station: str
    issued: int
    served: int
    missed: int
    cancelled: int
    transferred: int
    waiting_now: int
    wait_mean_min: float | None
    wait_median_min: float | None
    wait_p90_min: float | None
    service_mean_min: float | None
    service_median_min: float | None
    service_p90_min: float | None
    over_target_pct: float | None


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _summary(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return (None, None, None)
    return (
        round(statistics.fmean(values), 1), round(statistics.median(values), 1), round(_p90(values), 1)
    )


def figures(ship: Ship, stop_id: int | None = None) -> list[Figures]:
    """One row per (stop, station), then per stop over all stations, then the campaign's totals."""
    target = ship.config.queue.waiting_target_minutes
    sql = (
        "SELECT s.station, s.state, s.enqueued_at, s.first_called_at, s.started_at, s.finished_at, "
        "st.community FROM steps s JOIN tickets t ON t.id = s.ticket_id JOIN stops st ON st.id = t.stop_id"
    )
    params: list[int] = []
    if stop_id is not None:
        sql += " WHERE t.stop_id = ?"
        params.append(stop_id)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in ship.rows(sql + " ORDER BY st.seq", params):
        for key in ((row["community"], row["station"]), (row["community"], ALL), (ALL, ALL)):
            groups[key].append(row)
    order = [s.code for s in ship.config.stations]
    keys = sorted(
        groups,
        key=lambda k: (k[0] == ALL, k[1] == ALL, order.index(k[1]) if k[1] in order else len(order)),
    )
    return [_figures(stop, station, groups[(stop, station)], target) for stop, station in keys]


def _figures(stop: str, station: str, rows: list[dict], target_min: int) -> Figures:
    count = defaultdict(int)
    waits: list[float] = []
    services: list[float] = []
    for r in rows:
        count[r["state"]] += 1
        if r["first_called_at"] and r["enqueued_at"]:
            waits.append((parse(r["first_called_at"]) - parse(r["enqueued_at"])).total_seconds() / 60)
        if r["state"] == "done" and r["started_at"] and r["finished_at"]:
            services.append((parse(r["finished_at"]) - parse(r["started_at"])).total_seconds() / 60)
    wm, wmed, w90 = _summary(waits)
    sm, smed, s90 = _summary(services)
    over = round(100 * sum(w > target_min for w in waits) / len(waits), 1) if waits else None
    return Figures(
        stop=stop, station=station, issued=len(rows), served=count["done"], missed=count["missed"],
        cancelled=count["cancelled"], transferred=count["transferred"],
        waiting_now=count["waiting"] + count["called"] + count["serving"],
        wait_mean_min=wm, wait_median_min=wmed, wait_p90_min=w90,
        service_mean_min=sm, service_median_min=smed, service_p90_min=s90, over_target_pct=over,
    )


def to_csv(rows: list[Figures]) -> str:
    out = io.StringIO()
    fields = list(Figures.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
    return out.getvalue()
