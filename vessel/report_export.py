"""Reports as an operator asks for them from a terminal: figures for a stop, and a CSV file of them.

The figures themselves come from vessel.reports; this adds what a terminal
needs around them: the role check (reports are not for every desk), the
stops worth choosing from, and a CSV written whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.files import atomic_write
from vessel import campaign, reports
from vessel.campaign import Stop
from vessel.errors import Refused
from vessel.i18n import t
from vessel.local_time import today
from vessel.operators import Actor, require
from vessel.ship import Ship
from vessel.text import fold

REPORTS_FOLDER = "reports"


@dataclass(frozen=True)
class Choice:
    """A stop to report on, or the whole campaign (stop None)."""

    stop: Stop | None
    tickets: int


def choices(ship: Ship) -> list[Choice]:
    """The stops that have tickets, in itinerary order, then the whole campaign."""
    counts = dict(ship.conn.execute("SELECT stop_id, count(*) FROM tickets GROUP BY stop_id").fetchall())
    out = [Choice(s, counts[s.id]) for s in campaign.stops(ship) if counts.get(s.id)]
    out.append(Choice(None, sum(counts.values())))
    return out


def default_choice(ship: Ship, options: list[Choice]) -> int:
    """The current stop, else the last one with tickets, else the whole campaign."""
    here = campaign.current(ship)
    for i, c in enumerate(options):
        if here is not None and c.stop is not None and c.stop.id == here.id:
            return i
    return max(0, len(options) - 2) if len(options) > 1 else 0


def figures(ship: Ship, actor: Actor | None, stop_id: int | None) -> list[reports.Figures]:
    if actor is None:
        raise Refused("not_allowed", login="-", action="reports")
    require(actor, "reports")
    return reports.figures(ship, stop_id)


def default_path(ship: Ship, stop: Stop | None, lang: str | None = None) -> Path:
    name = fold(stop.community).replace(" ", "-") if stop is not None else t("report_export.campaign", lang)
    file = t("report_export.file_name", lang, stop=name, date=today(ship.now()).isoformat())
    return ship.config.home / REPORTS_FOLDER / file


def export_csv(ship: Ship, actor: Actor | None, stop_id: int | None, path: Path) -> tuple[Path, int]:
    """Write the stop's figures as CSV to path, whole or not at all; return the path and row count."""
    rows = figures(ship, actor, stop_id)
    path = Path(path).expanduser()
    if path.is_dir():
        raise Refused("report_export.is_folder", path=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, reports.to_csv(rows).encode("utf-8"))
    except OSError as exc:
        raise Refused("report_export.cannot_write", path=str(path), problem=exc.strerror or str(exc)) from None
    return path, len(rows)
