"""The ship's local time, for what people read on screens, tickets and bulletins.

Everything is stored in UTC; people on the rivers and the lake read Peru
time (UTC-5, no daylight saving since 1994). A fixed offset needs no time-zone
database on the ship's computer and gives the same text on every machine,
which keeps screenshots and printed tickets reproducible.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

PERU = timezone(timedelta(hours=-5), "PET")


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every stored time must be UTC and aware")
    return moment.astimezone(PERU)


def hhmm(moment: datetime | None) -> str:
    return local(moment).strftime("%H:%M") if moment is not None else "—"


def hhmmss(moment: datetime | None) -> str:
    return local(moment).strftime("%H:%M:%S") if moment is not None else "—"


def day_month(moment: datetime | date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        moment = local(moment).date()
    return moment.strftime("%d/%m")


def day(moment: datetime | date | None) -> str:
    """dd/mm/yyyy, as Peruvian forms write dates."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        moment = local(moment).date()
    return moment.strftime("%d/%m/%Y")


def today(moment: datetime) -> date:
    return local(moment).date()


def minutes_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 60
