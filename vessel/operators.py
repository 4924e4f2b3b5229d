"""Operators, their PINs and what each role may do.

The role checks live here, not in the UI, so a script or another front end
cannot go around them. PINs are short, so they are stored as scrypt hashes and
a few wrong ones in a row lock the account for a while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import timedelta

from vessel import events
from vessel.clock import iso, parse
from vessel.errors import NotFound, Refused
from vessel.ship import Ship
from vessel.store import transaction

ROLES = ("coordinator", "registration", "station", "bridge")
MAX_FAILED_PINS = 5
LOCK_MINUTES = 5
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1

# What each role may do. Station operators act only at their own station's desks.
PERMISSIONS: dict[str, frozenset[str]] = {
    "coordinator": frozenset(
        {"register", "issue", "desk", "stops", "reports", "operators", "ledger", "display"}
    ),
    "registration": frozenset({"register", "issue", "display"}),
    "station": frozenset({"desk", "display", "register"}),
    "bridge": frozenset({"stops", "reports", "ledger", "display"}),
    "system": frozenset({"stops", "track", "ledger"}),
}


@dataclass(frozen=True)
class Actor:
    id: int | None
    login: str
    name: str
    role: str
    station: str | None = None

    def may(self, action: str, station: str | None = None) -> bool:
        if action not in PERMISSIONS.get(self.role, frozenset()):
            return False
        if action == "desk" and self.role == "station":
            return station is None or station == self.station
        return True


SYSTEM = Actor(id=None, login="system", name="Sistema", role="system")


def require(actor: Actor, action: str, station: str | None = None) -> None:
    if not actor.may(action, station):
        raise Refused("not_allowed", login=actor.login, action=action)


def hash_pin(pin: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(
        pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(got, base64.b64decode(digest))


def valid_pin(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8


def _actor(row: dict) -> Actor:
    return Actor(id=row["id"], login=row["login"], name=row["name"], role=row["role"], station=row["station"])


def create(
    ship: Ship, by: Actor | None, login: str, name: str, role: str, pin: str, station: str | None = None
) -> Actor:
    """Add an operator. `by` is None only while a home is being set up."""
    if by is not None:
        require(by, "operators")
    login = login.strip().lower()
    if not login or not all(c.isalnum() or c in "-_." for c in login):
        raise Refused("bad_login", login=login)
    if role not in ROLES:
        raise Refused("bad_role", role=role)
    if role == "station":
        if station is None or station not in {s.code for s in ship.config.stations}:
            raise Refused("unknown_station", station=station or "")
    else:
        station = None
    if not valid_pin(pin):
        raise Refused("bad_pin_format")
    if not name.strip():
        raise Refused("required", field="name")
    with transaction(ship.db) as conn:
        if conn.execute("SELECT 1 FROM operators WHERE login = ?", (login,)).fetchone():
            raise Refused("login_taken", login=login)
        cur = conn.execute(
            "INSERT INTO operators (login, name, role, station, pin_hash, created_at) VALUES (?,?,?,?,?,?)",
            (login, name.strip(), role, station, hash_pin(pin), iso(ship.now())),
        )
        actor = Actor(cur.lastrowid, login, name.strip(), role, station)
        events.record(
            ship, "operator.created", {"login": login, "role": role, "station": station},
            operator_id=by.id if by else None,
        )
    return actor


def login(ship: Ship, login_name: str, pin: str) -> Actor:
    """Check a PIN; count failures and lock the account after too many in a row."""
    login_name = login_name.strip().lower()
    now = ship.now()
    with transaction(ship.db) as conn:
        rows = list(ship.rows("SELECT * FROM operators WHERE login = ? AND active = 1", [login_name]))
        if not rows:
            # Same answer as a wrong PIN: do not tell which logins exist.
            raise Refused("bad_credentials")
        op = rows[0]
        locked_until = parse(op["locked_until"])
        if locked_until is not None and locked_until > now:
            minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
            raise Refused("locked", minutes=minutes)
        if not check_pin(pin, op["pin_hash"]):
            failed = op["failed_pins"] + 1
            lock = None
            if failed >= MAX_FAILED_PINS:
                lock = iso(now + timedelta(minutes=LOCK_MINUTES))
                failed = 0
            conn.execute(
                "UPDATE operators SET failed_pins = ?, locked_until = ? WHERE id = ?", (failed, lock, op["id"])
            )
            events.record(ship, "operator.login_failed", {"login": login_name, "locked": lock is not None})
            # The count must be committed, so the refusal is raised after the transaction.
            failure = Refused("locked", minutes=LOCK_MINUTES) if lock else Refused("bad_credentials")
        else:
            failure = None
            conn.execute("UPDATE operators SET failed_pins = 0, locked_until = NULL WHERE id = ?", (op["id"],))
            events.record(ship, "operator.login", {"login": login_name}, operator_id=op["id"])
    if failure is not None:
        raise failure
    return _actor(op)


def get(ship: Ship, login_name: str) -> Actor:
    rows = list(ship.rows("SELECT * FROM operators WHERE login = ?", [login_name.strip().lower()]))
    if not rows:
        raise NotFound("unknown_operator", login=login_name)
    return _actor(rows[0])


def all_operators(ship: Ship) -> list[dict]:
    return list(
        ship.rows("SELECT id, login, name, role, station, active, locked_until FROM operators ORDER BY login")
    )
