"""The ship's side of the ledger: its keys in the home folder, and the sink vessel.events.record calls.

The ledger package knows nothing of ships, stops or citizens; this module is
where the two meet. It loads the ship's signing key and the institutions'
public keys named in ship.toml, and attaches a sink so every event is sealed
in the same transaction as the change it records. When the home has no
signing key yet, nothing is attached (a ship before `pias keys init`); when it
has one but it cannot be used (a passphrase not given, a recipient key
missing), the ship is refused rather than run with events left unsealed.

It also answers what the screens and commands ask of the ledger (status,
verify, offload), in the operator's language.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger import keys as keys_mod
from ledger import offload as offload_mod
from ledger import store as ledger_store
from ledger.appender import Ledger, Recipient
from ledger.bundle import BUNDLE_PROBLEMS, BundleProblem
from ledger.chain import PROBLEMS, ChainProblem, head_fingerprint
from ledger.errors import LedgerError
from ledger.verify import VerifyReport
from ledger.verify import verify as verify_chain
from vessel.clock import iso, parse, utcnow
from vessel.config import ShipConfig
from vessel.errors import Refused
from vessel.i18n import t
from vessel.ship import Ship

PASSPHRASE_ENV = "PIAS_KEY_PASSPHRASE"
CORRECTION_KIND = "correction"
RECEIVERS_DIR = "receivers"
DEMO_MINISTRY_DIR = "ministry-demo"
# Fields the sink leaves out because the entry's header already holds them.
_HEADER_FIELDS = ("kind", "at")


def passphrase() -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None


def explain(exc: LedgerError | ChainProblem | BundleProblem) -> str:
    """A ledger error in the operator's language (English wording when a text is missing)."""
    if isinstance(exc, ChainProblem):
        params = dict(exc.params)
        text = t(f"ledger_problem.chain.{exc.code}", **params)
        if text == f"ledger_problem.chain.{exc.code}":
            text = PROBLEMS.get(exc.code, exc.code).format(**params)
        return t("ledger_problem.entry", seq=exc.seq, problem=text)
    if isinstance(exc, BundleProblem):
        params = {"seq": exc.seq, **exc.params}
        text = t(f"ledger_problem.bundle.{exc.code}", **params)
        if text == f"ledger_problem.bundle.{exc.code}":
            try:
                text = BUNDLE_PROBLEMS.get(exc.code, exc.code).format(**params)
            except (KeyError, IndexError, ValueError):
                text = str(exc)
        return text
    params = {k: explain(v) if isinstance(v, ChainProblem | BundleProblem) else v for k, v in exc.params.items()}
    text = t(f"ledger_problem.error.{exc.code}", **params)
    return str(exc) if text == f"ledger_problem.error.{exc.code}" else text


def refused(exc: LedgerError) -> Refused:
    return Refused("ledger_link.failed", detail=explain(exc))


class ShipLedger:
    """The sink events.record appends to, inside the caller's transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def append(self, conn: Any, kind: str, at: datetime, payload: dict[str, Any]) -> None:
        body = dict(payload)
        for name in _HEADER_FIELDS:
            body.pop(name, None)
        amends = None
        if kind == CORRECTION_KIND:
            amends = int(payload["amends"])
        try:
            self.ledger.append(conn, kind, at, body, amends=amends)
        except LedgerError as exc:
            raise refused(exc) from None

    def close(self) -> None:
        """Nothing to release: the data keys go with the process."""


# --- keys in the home folder ---------------------------------------------------------------


def receivers_dir(config: ShipConfig) -> Path:
    return config.signing_key.parent / RECEIVERS_DIR


def receipt_keys(config: ShipConfig) -> dict[str, keys_mod.PublicKey]:
    """The receipt keys this ship trusts: every .pub in keys/receivers/."""
    found = {}
    folder = receivers_dir(config)
    for path in sorted(folder.glob("*.pub")) if folder.is_dir() else []:
        try:
            key = keys_mod.load_public(path, role="receipt")
        except LedgerError:
            continue
        found[key.key_id] = key
    return found


def load_signing_key(config: ShipConfig) -> keys_mod.SigningKey:
    try:
        return keys_mod.load_signing_key(config.signing_key, passphrase())
    except LedgerError as exc:
        raise refused(exc) from None


def load_recipients(config: ShipConfig) -> list[Recipient]:
    out = []
    for r in config.recipients:
        if not r.public_key.is_file():
            raise Refused("ledger_link.recipient_missing", name=r.name, path=str(r.public_key))
        try:
            key = keys_mod.load_public(r.public_key, role="recipient")
        except LedgerError as exc:
            raise refused(exc) from None
        out.append(Recipient(r.name, key, r.kinds))
    if not out:
        raise Refused("ledger_link.no_recipients")
    return out


def open_ledger(ship: Ship) -> Ledger:
    """The ship's ledger with its keys, its tables ready; Refused when the keys cannot be used."""
    cfg = ship.config
    ledger = Ledger(cfg.ship_id, load_signing_key(cfg), load_recipients(cfg))
    try:
        ledger.prepare(ship.conn)
    except LedgerError as exc:
        raise refused(exc) from None
    return ledger


def has_keys(config: ShipConfig) -> bool:
    return config.signing_key.is_file()


def attach(ship: Ship, home: object = None) -> None:
    """Seal this ship's events from now on, if it has keys; see the module's docstring."""
    if ship.ledger is not None or not has_keys(ship.config):
        return
    ship.ledger = ShipLedger(open_ledger(ship))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "key"


def create_ship_key(config: ShipConfig, secret: str | None = None) -> keys_mod.SigningKey:
    key = keys_mod.generate_signing_key(config.ship_id, role="ship")
    keys_mod.save_private(key, config.signing_key, secret)
    keys_mod.save_public(key.public, config.signing_key.with_suffix(".pub"))
    return key


def create_demo_keys(home: object, config: ShipConfig) -> None:
    """Keys for the demo ship: its own, and a demo ministry's, so offload and ingest work at once.

    The ministry's private keys go to keys/ministry-demo/ (with the ship's
    public key as the ministry's registry of ships), which a real ship never
    holds: it is a demo, played by one person on one machine.
    """
    home_path = Path(getattr(home, "path", home))
    keys_dir = home_path / "keys"
    ministry = keys_dir / DEMO_MINISTRY_DIR
    ministry.mkdir(parents=True, exist_ok=True)
    os.chmod(ministry, 0o700)
    if config.signing_key.exists():
        ship_key = keys_mod.load_signing_key(config.signing_key, passphrase())
    else:
        ship_key = create_ship_key(config)
    for r in config.recipients:
        private = ministry / f"{_slug(r.name)}.key"
        if private.exists():
            key = keys_mod.load_recipient_key(private, passphrase())
        else:
            key = keys_mod.generate_recipient_key(r.name)
            keys_mod.save_private(key, private)
        keys_mod.save_public(key.public, ministry / f"{_slug(r.name)}.pub")
        if not r.public_key.exists():
            keys_mod.save_public(key.public, r.public_key)
    receipt_private = ministry / "receipts.key"
    if receipt_private.exists():
        receipt = keys_mod.load_signing_key(receipt_private, passphrase(), role="receipt")
    else:
        receipt = keys_mod.generate_signing_key("Demo ministry receipts", role="receipt")
        keys_mod.save_private(receipt, receipt_private)
    keys_mod.save_public(receipt.public, ministry / "receipts.pub")
    keys_mod.save_public(receipt.public, receivers_dir(config) / "receipts.pub")
    keys_mod.save_public(ship_key.public, ministry / "ships" / f"{config.ship_id}.pub")


# --- what screens and commands ask -----------------------------------------------------------


@dataclass(frozen=True)
class LedgerState:
    entries: int
    head_seq: int
    head_fingerprint: str | None
    head_at: datetime | None
    confirmed_through: int
    pending: int  # entries not yet confirmed ashore
    last_offload_at: datetime | None
    last_offload_target: str | None
    failed_bundles: int
    unread_kinds: tuple[str, ...]  # kinds sealed for no institution


def status(ship: Ship) -> LedgerState | None:
    """How the ledger stands, or None when it has never been written."""
    conn = ship.conn
    if not ledger_store.has_ledger(conn):
        return None
    head = conn.execute("SELECT seq, hash, at FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone()
    if head is None:
        return None
    confirmed = offload_mod.confirmed_through(conn)
    last = conn.execute(
        "SELECT updated_at, target FROM ledger_offloads WHERE state IN ('confirmed', 'delivered') "
        "ORDER BY updated_at DESC LIMIT 1"
    ).fetchone()
    failed = conn.execute("SELECT count(*) FROM ledger_offloads WHERE state = 'failed'").fetchone()[0]
    unread_keys = []
    for (body,) in conn.execute("SELECT body FROM ledger_entries WHERE kind = 'ledger.data_key'"):
        announced = json.loads(bytes(body))
        if not announced.get("wraps"):
            unread_keys.append(announced.get("id"))
    unread = tuple(
        kind for (kind,) in conn.execute(
            f"SELECT DISTINCT kind FROM ledger_entries WHERE key_id IN ({','.join('?' * len(unread_keys))}) "
            "ORDER BY kind",
            unread_keys,
        )
    ) if unread_keys else ()
    seq, digest, at = head
    return LedgerState(
        entries=seq,
        head_seq=seq,
        head_fingerprint=head_fingerprint(seq, bytes(digest)),
        head_at=parse(at),
        confirmed_through=confirmed,
        pending=seq - confirmed,
        last_offload_at=parse(last[0]) if last else None,
        last_offload_target=last[1] if last else None,
        failed_bundles=failed,
        unread_kinds=unread,
    )


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    entries: int
    fingerprint: str | None
    problem: str | None
    report: VerifyReport


def verify(ship: Ship, head: str | None = None, all_signatures: bool = False) -> VerifyOutcome:
    """Check this ship's chain (no private key needed); the problem is in the operator's language."""
    trusted = None
    pub_path = ship.config.signing_key.with_suffix(".pub")
    if pub_path.is_file():
        try:
            trusted = keys_mod.load_public(pub_path, role="ship").key_id
        except LedgerError:
            trusted = None
    try:
        report = verify_chain(ship.conn, expected_ship=ship.config.ship_id, trusted_key=trusted,
                              all_signatures=all_signatures, head=head)
    except LedgerError as exc:
        raise refused(exc) from None
    problem = explain(report.problem) if report.problem is not None else None
    return VerifyOutcome(report.ok, report.entries, report.fingerprint, problem, report)


def offload_target(ship: Ship, to: str | None) -> offload_mod.Target:
    """--to as given, else [offload] to = "..." in ship.toml."""
    if to is None:
        to = _offload_setting(ship)
    if to is None:
        raise Refused("ledger_link.no_target")
    if to.startswith(("http://", "https://")):
        try:
            return offload_mod.HttpTarget(to)
        except LedgerError as exc:
            raise refused(exc) from None
    return offload_mod.FolderTarget(Path(to))


def _offload_setting(ship: Ship) -> str | None:
    path = ship.config.home / "ship.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = raw.get("offload", {}).get("to") if isinstance(raw.get("offload"), dict) else None
    return value if isinstance(value, str) and value.strip() else None


def offload(
    ship: Ship,
    to: str | None = None,
    target: offload_mod.Target | None = None,
    progress: Callable[[offload_mod.BundleReport, int, int, float | None], None] | None = None,
) -> offload_mod.OffloadReport:
    """Send what is not yet confirmed ashore; the caller decides what to say about the report."""
    cfg = ship.config
    key = load_signing_key(cfg)
    offloader = offload_mod.Offloader(
        ship.conn, cfg.ship_id, cfg.campaign_code, key, receipt_keys(cfg), cfg.home / "outbox",
        lambda: iso(utcnow()),
    )
    try:
        return offloader.run(target or offload_target(ship, to), progress)
    except LedgerError as exc:
        raise refused(exc) from None
