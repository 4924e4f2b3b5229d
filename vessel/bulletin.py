"""The awareness bulletin: when the ship is expected at the next communities, and what it brings.

PIAS campaigns announce each visit a week or two ahead, on local radio and on
paper at the community's meeting house, so that people come down river with
their documents on the right days. The text is plain, in the catalogue's
language, ready to print or read aloud. Expected dates are the planned ones
moved by the delay the ship carries now: a late arrival or departure pushes
every later stop by as many days.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ledger.files import atomic_write
from vessel import campaign
from vessel.campaign import Stop
from vessel.i18n import t
from vessel.local_time import today as local_today
from vessel.ship import Ship

WIDTH = 72


@dataclass(frozen=True)
class Visit:
    stop: Stop
    arrive: date
    depart: date
    station_names: tuple[str, ...]


def delay_days(ship: Ship, stops: list[Stop] | None = None, on: date | None = None) -> int:
    """How many days behind the plan the ship is now (0 when on time or early)."""
    stops = stops if stops is not None else campaign.stops(ship)
    on = on or local_today(ship.now())
    delay = 0
    for s in stops:
        if s.arrived_at is not None:
            delay = max(0, (local_today(s.arrived_at) - s.planned_arrive).days)
        if s.departed_at is not None:
            delay = max(0, (local_today(s.departed_at) - s.planned_depart).days)
        elif s.arrived_at is not None and on > s.planned_depart:
            delay = max(delay, (on - s.planned_depart).days)
    nxt = next((s for s in stops if s.arrived_at is None), None)
    if nxt is not None and on > nxt.planned_arrive:
        delay = max(delay, (on - nxt.planned_arrive).days)
    return delay


def upcoming(ship: Ship, horizon_days: int = 14, limit: int = 4, lang: str | None = None) -> list[Visit]:
    """The next stops expected within the horizon (at least the very next one), in itinerary order."""
    stops = campaign.stops(ship)
    on = local_today(ship.now())
    shift = timedelta(days=delay_days(ship, stops, on))
    names = {s.code: _station_text(s.name(lang or _lang()), s.institution) for s in ship.config.stations}
    visits = []
    for s in stops:
        if s.arrived_at is not None:
            continue
        arrive = s.planned_arrive + shift
        if visits and (arrive - on).days > horizon_days:
            break
        visits.append(Visit(s, arrive, s.planned_depart + shift, tuple(names.get(c, c) for c in s.stations)))
        if len(visits) >= limit:
            break
    return visits


def _lang() -> str:
    from vessel.i18n import language

    return language()


def _station_text(name: str, institution: str) -> str:
    return name if institution.casefold() in name.casefold() else f"{name} ({institution})"


def long_date(d: date, lang: str | None = None) -> str:
    """'miércoles 4 de noviembre' / 'Wednesday 4 November', from the catalogue's names."""
    weekdays = t("bulletin.weekdays", lang).split(",")
    months = t("bulletin.months", lang).split(",")
    return t("bulletin.long_date", lang, weekday=weekdays[d.weekday()].strip(), day=d.day,
             month=months[d.month - 1].strip(), year=d.year)


def text(ship: Ship, horizon_days: int = 14, limit: int = 4, lang: str | None = None) -> str:
    """The bulletin, wrapped for paper and for reading aloud."""
    cfg = ship.config
    visits = upcoming(ship, horizon_days, limit, lang)
    out: list[str] = [t("bulletin.title", lang).upper(), f"{cfg.ship_name} · {cfg.campaign_name}", ""]
    if not visits:
        out.append(_wrap(t("bulletin.no_more_stops", lang, ship=cfg.ship_name)))
    else:
        out.append(_wrap(t("bulletin.intro", lang, ship=cfg.ship_name)))
        for v in visits:
            out.append("")
            out.append(v.stop.community.upper())
            out.append(_wrap(t("bulletin.arrive", lang, date=long_date(v.arrive, lang)), indent="  "))
            out.append(_wrap(t("bulletin.until", lang, date=long_date(v.depart, lang)), indent="  "))
            out.append(_wrap(t("bulletin.services", lang, services="; ".join(v.station_names)), indent="  "))
        out.append("")
        out.append(_wrap(t("bulletin.bring_dni", lang)))
        classes = "; ".join(p.name(lang or _lang()) for p in cfg.priority_classes)
        if classes:
            out.append(_wrap(t("bulletin.priority", lang, classes=classes)))
        out.append(_wrap(t("bulletin.dates_may_change", lang)))
    out.append("")
    out.append(t("bulletin.issued", lang, date=long_date(local_today(ship.now()), lang), ship=cfg.ship_name))
    return "\n".join(out) + "\n"


def _wrap(paragraph: str, indent: str = "") -> str:
    return textwrap.fill(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent + "  " if indent else "")


def file_name(ship: Ship, lang: str | None = None) -> str:
    return t("bulletin.file_name", lang, date=local_today(ship.now()).isoformat())


def save_text(folder: Path, name: str, text: str) -> Path:
    """Save a bulletin as a text file, whole or not at all: a half-written one is never left to print."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    atomic_write(path, text.encode("utf-8"))
    return path
