"""Data minimisation: personal data leaves the working tables once it is safe ashore.

A stop's personal data (citizens' names, DNI, birth date and conditions; the
notes of its attentions; the personal fields of its plain event records) is
cleared when the ship has left the stop and a receipt from the ministry,
verified and matching the ship's own chain, confirms every ledger entry up to
the stop's last event. The ledger keeps the sealed copy, which only the
institutions can open. A citizen seen at several stops is cleared with the
last of them.

Set in ship.toml, table [purge]: `enabled` (default true) and `after_hours`
(how long after departure to wait, default 0). The purge itself is recorded
through events.record, like every other change.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ledger import offload as offload_mod
from ledger import store as ledger_store
from vessel import events
from vessel.clock import iso, parse
from vessel.config import ConfigError
from vessel.operators import SYSTEM
from vessel.ship import Ship
from vessel.store import transaction

# Keys of event payloads that name or describe a person.
PERSONAL_FIELDS = ("dni", "given_names", "surnames", "name", "birth_date", "conditions", "notes")


@dataclass(frozen=True)
class PurgePolicy:
    enabled: bool = True
    after_hours: float = 0.0

    @classmethod
    def from_file(cls, path: Path) -> PurgePolicy:
        """The [purge] table of a ship.toml; the defaults when the file or the table is absent."""
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(path), "(file)", f"cannot be read ({exc})") from None
        table = raw.get("purge", {})
        if not isinstance(table, dict):
            raise ConfigError(str(path), "purge", "must be a table")
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(str(path), "purge.enabled", f"must be true or false (got {enabled!r})")
        hours = table.get("after_hours", 0)
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= 24 * 365:
            raise ConfigError(str(path), "purge.after_hours", f"must be a number of hours from 0 (got {hours!r})")
        return cls(enabled=enabled, after_hours=float(hours))


@dataclass(frozen=True)
class Purged:
    stop_id: int
    community: str
    citizens: int
    events: int
    confirmed_through: int


def _stop_last_seq(ship: Ship, stop_id: int) -> int | None:
    """The last ledger entry the stop's events can be in; None if its last event never reached the ledger."""
    conn = ship.conn
    last = conn.execute(
        "SELECT at, kind FROM events WHERE stop_id = ? ORDER BY at DESC, id DESC LIMIT 1", (stop_id,)
    ).fetchone()
    if last is None:
        return 0
    at, kind = last
    sealed = conn.execute("SELECT 1 FROM ledger_entries WHERE at = ? AND kind = ? LIMIT 1", (at, kind)).fetchone()
    if sealed is None:
        return None
    # Every entry stamped up to that moment, from any terminal, must be ashore too.
    return conn.execute("SELECT max(seq) FROM ledger_entries WHERE at <= ?", (at,)).fetchone()[0]


def eligible(ship: Ship, policy: PurgePolicy, now: datetime | None = None) -> list[tuple[int, str, int]]:
    """Stops ready to purge: (stop id, community, last ledger entry of its events)."""
    if not policy.enabled or not ledger_store.has_ledger(ship.conn):
        return []
    now = now or ship.now()
    confirmed = offload_mod.confirmed_through(ship.conn)
    out = []
    for stop_id, community, departed_at in ship.conn.execute(
        "SELECT id, community, departed_at FROM stops WHERE departed_at IS NOT NULL AND purged_at IS NULL "
        "ORDER BY seq"
    ).fetchall():
        departed = parse(departed_at)
        if departed is None or departed + timedelta(hours=policy.after_hours) > now:
            continue
        last_seq = _stop_last_seq(ship, stop_id)
        if last_seq is not None and last_seq <= confirmed:
            out.append((stop_id, community, last_seq))
    return out


def purge_stop(ship: Ship, stop_id: int, community: str, confirmed_through: int) -> Purged:
    now = iso(ship.now())
    with transaction(ship.db) as conn:
        linked = [
            row[0] for row in conn.execute(
                "SELECT id FROM citizens WHERE purged_at IS NULL AND (stop_id = ? OR id IN "
                "(SELECT citizen_id FROM tickets WHERE stop_id = ? AND citizen_id IS NOT NULL))",
                (stop_id, stop_id),
            )
        ]
        ready = [
            cid for cid in linked
            if conn.execute(
                "SELECT 1 FROM stops WHERE id <> ? AND purged_at IS NULL AND id IN ("
                "SELECT stop_id FROM citizens WHERE id = ? AND stop_id IS NOT NULL "
                "UNION SELECT stop_id FROM tickets WHERE citizen_id = ?) LIMIT 1",
                (stop_id, cid, cid),
            ).fetchone() is None
        ]
        conn.executemany(
            "UPDATE citizens SET given_names = '', surnames = '', name_key = '', dni = NULL, birth_date = NULL, "
            "conditions = '[]', purged_at = ? WHERE id = ?",
            [(now, cid) for cid in ready],
        )
        steps = "SELECT s.id FROM steps s JOIN tickets k ON k.id = s.ticket_id WHERE k.stop_id = ?"
        conn.execute(f"UPDATE steps SET notes = NULL WHERE id IN ({steps})", (stop_id,))
        scrubbed = 0
        for event_id, payload in conn.execute(
            "SELECT id, payload FROM events WHERE stop_id = ?", (stop_id,)
        ).fetchall():
            value = json.loads(payload)
            if isinstance(value, dict) and any(value.get(f) not in (None, "", []) for f in PERSONAL_FIELDS):
                for f in PERSONAL_FIELDS:
                    if f in value:
                        value[f] = None
                conn.execute(
                    "UPDATE events SET payload = ? WHERE id = ?",
                    (json.dumps(value, ensure_ascii=False, sort_keys=True), event_id),
                )
                scrubbed += 1
        conn.execute("UPDATE stops SET purged_at = ? WHERE id = ?", (now, stop_id))
        events.record(
            ship, "stop.purged",
            {"community": community, "citizens": len(ready), "events": scrubbed,
             "confirmed_through": confirmed_through},
            operator_id=SYSTEM.id, stop_id=stop_id,
        )
    return Purged(stop_id, community, len(ready), scrubbed, confirmed_through)


def run(ship: Ship, policy: PurgePolicy | None = None) -> list[Purged]:
    """Purge every stop that is ready; a policy from the home's ship.toml when none is given."""
    if policy is None:
        policy = PurgePolicy.from_file(ship.config.home / "ship.toml")
    confirmed = offload_mod.confirmed_through(ship.conn)
    return [purge_stop(ship, stop_id, community, confirmed) for stop_id, community, _ in eligible(ship, policy)]
