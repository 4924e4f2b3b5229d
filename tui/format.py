"""Small text helpers shared by the screens: durations, citizens, routes, in the operator's language.

Times of day are never shown: the ship's clock is UTC and the screens say
how long something has waited, which is what a desk needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vessel import citizens
from vessel.citizens import Citizen
from vessel.i18n import language, t
from vessel.ship import Ship
from vessel.tickets import Step


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes == 0:
        return t("tui.fmt.under_minute")
    if minutes < 60:
        return t("tui.fmt.minutes", m=minutes)
    return t("tui.fmt.hours", h=minutes // 60, m=f"{minutes % 60:02d}")


def since(moment: datetime | None, now: datetime) -> str:
    return duration(now - moment) if moment is not None else ""


def wait_range(low: float, high: float) -> str:
    return t("tui.fmt.wait_range", low=round(low), high=max(round(high), round(low) + 1))


def station_name(ship: Ship, code: str) -> str:
    try:
        return ship.config.station(code).name(language())
    except KeyError:
        return code


def class_name(ship: Ship, code: str | None) -> str:
    if code is None:
        return ""
    try:
        return ship.config.priority_class(code).name(language())
    except KeyError:
        return code


def step_state(state: str) -> str:
    return t(f"tui.state.{state}")


def citizen_line(ship: Ship, citizen: Citizen) -> str:
    """Name, DNI and age on one line, as read out at a desk."""
    parts = [citizen.full_name, t("tui.fmt.dni", dni=citizen.dni) if citizen.dni else t("tui.fmt.no_dni")]
    age = citizen.age(ship.now().date())
    if age is not None:
        parts.append(t("tui.fmt.age", age=age))
    if citizen.sex:
        parts.append(citizen.sex)
    if citizen.language:
        parts.append(t("tui.fmt.language", language=citizen.language))
    return " · ".join(parts)


def citizen_conditions(ship: Ship, citizen: Citizen) -> str:
    return ", ".join(class_name(ship, c) for c in citizen.conditions)


def route_lines(ship: Ship, steps: list[Step] | tuple[Step, ...], here: int | None = None) -> list[str]:
    """One line per station of a ticket's route; the step at this desk is marked."""
    lines = []
    for step in steps:
        mark = "▶" if step.id == here else " "
        lines.append(f"{mark} {step.label} {station_name(ship, step.station)} · {step_state(step.state)}")
    return lines


def citizen_of(ship: Ship, citizen_id: int | None) -> Citizen | None:
    return citizens.get(ship, citizen_id) if citizen_id is not None else None
