"""Citizens: who is served. Many have no DNI yet ("sin DNI"); RENIEC registers them on board.

Names are kept exactly as given (accents, ñ, indigenous spellings) and found
by a folded key, so "nunez" finds "Núñez". The DNI is the 8-digit national
identity number; one citizen per DNI.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date

from vessel import events
from vessel.campaign import current
from vessel.clock import iso
from vessel.errors import NotFound, Refused
from vessel.operators import Actor, require
from vessel.ship import Ship
from vessel.store import transaction
from vessel.text import fold

SEXES = ("F", "M", "X")
MAX_NAME = 120


@dataclass(frozen=True)
class Citizen:
    id: int
    dni: str | None
    given_names: str
    surnames: str
    birth_date: date | None
    sex: str | None
    language: str | None
    conditions: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.surnames}".strip()

    def age(self, on: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def check_dni(dni: str) -> str:
    """Return the DNI normalised, or refuse it saying what is wrong."""
    value = dni.strip().replace(" ", "")
    if not value:
        raise Refused("dni_empty")
    if not (value.isascii() and value.isdigit()):
        raise Refused("dni_not_digits", dni=dni)
    if len(value) != 8:
        raise Refused("dni_length", dni=dni, length=len(value))
    if value == "00000000":
        raise Refused("dni_zero")
    return value


def check_name(value: str, field: str) -> str:
    name = unicodedata.normalize("NFC", " ".join(value.split()))
    if not name:
        raise Refused("required", field=field)
    if len(name) > MAX_NAME:
        raise Refused("name_too_long", field=field, max=MAX_NAME)
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise Refused("name_bad_chars", field=field)
    if not any(c.isalpha() for c in name):
        raise Refused("name_no_letters", field=field)
    return name


def check_birth_date(value: date | str | None, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise Refused("birth_date_format", value=value) from None
    if value > today:
        raise Refused("birth_date_future")
    if value.year < today.year - 125:
        raise Refused("birth_date_too_old")
    return value


def _citizen(row: dict) -> Citizen:
    return Citizen(
        id=row["id"], dni=row["dni"], given_names=row["given_names"], surnames=row["surnames"],
        birth_date=date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
        sex=row["sex"], language=row["language"], conditions=tuple(json.loads(row["conditions"])),
    )


def register(
    ship: Ship,
    actor: Actor,
    *,
    given_names: str,
    surnames: str,
    dni: str | None = None,
    birth_date: date | str | None = None,
    sex: str | None = None,
    language: str | None = None,
    conditions: tuple[str, ...] | list[str] = (),
) -> Citizen:
    require(actor, "register")
    today = ship.now().date()
    given = check_name(given_names, "given_names")
    family = check_name(surnames, "surnames")
    dni_value = check_dni(dni) if dni else None
    born = check_birth_date(birth_date, today)
    if sex is not None and sex not in SEXES:
        raise Refused("bad_sex", sex=sex)
    known = {p.code for p in ship.config.priority_classes}
    for c in conditions:
        if c not in known:
            raise Refused("unknown_condition", condition=c)
    with transaction(ship.db) as conn:
        if dni_value is not None:
            other = list(ship.rows("SELECT * FROM citizens WHERE dni = ?", [dni_value]))
            if other:
                existing = _citizen(other[0])
                raise Refused("dni_taken", dni=dni_value, name=existing.full_name)
        stop = current(ship)
        cur = conn.execute(
            "INSERT INTO citizens (dni, given_names, surnames, name_key, birth_date, sex, language, "
            "conditions, stop_id, registered_at, registered_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                dni_value, given, family, fold(f"{given} {family}"), born.isoformat() if born else None,
                sex, language, json.dumps(list(conditions)), stop.id if stop else None,
                iso(ship.now()), actor.id,
            ),
        )
        citizen = get(ship, cur.lastrowid)
        events.record(
            ship, "citizen.registered",
            {
                "citizen": citizen.id, "dni": dni_value, "given_names": given, "surnames": family,
                "birth_date": born.isoformat() if born else None, "sex": sex, "language": language,
                "conditions": list(conditions),
            },
            operator_id=actor.id, stop_id=stop.id if stop else None,
        )
    return citizen


def get(ship: Ship, citizen_id: int) -> Citizen:
    rows = list(ship.rows("SELECT * FROM citizens WHERE id = ?", [citizen_id]))
    if not rows:
        raise NotFound("unknown_citizen", citizen=citizen_id)
    return _citizen(rows[0])


def by_dni(ship: Ship, dni: str) -> Citizen | None:
    rows = list(ship.rows("SELECT * FROM citizens WHERE dni = ?", [check_dni(dni)]))
    return _citizen(rows[0]) if rows else None


def find(ship: Ship, query: str, limit: int = 20) -> list[Citizen]:
    """Citizens whose DNI starts with the digits typed, or whose name holds every word typed."""
    q = query.strip()
    if not q:
        return []
    if q.isdigit():
        rows = ship.rows(
            "SELECT * FROM citizens WHERE dni LIKE ? || '%' AND purged_at IS NULL ORDER BY dni LIMIT ?",
            [q, limit],
        )
        return [_citizen(r) for r in rows]
    words = fold(q).split()
    where = " AND ".join("instr(name_key, ?) > 0" for _ in words)
    rows = ship.rows(
        f"SELECT * FROM citizens WHERE {where} AND purged_at IS NULL ORDER BY surnames, given_names LIMIT ?",
        [*words, limit],
    )
    return [_citizen(r) for r in rows]


def priority_class_for(ship: Ship, citizen: Citizen | None, today: date) -> str | None:
    """The preferential-attention class that applies: a marked condition, else one by age."""
    if citizen is None:
        return None
    classes = ship.config.priority_classes
    for p in classes:
        if p.code in citizen.conditions:
            return p.code
    age = citizen.age(today)
    if age is not None:
        for p in classes:
            if p.min_age is not None and age >= p.min_age:
                return p.code
    return None
