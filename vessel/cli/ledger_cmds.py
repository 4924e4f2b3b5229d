"""`pias keys`, `pias ledger`, `pias offload` on the ship; `pias ingest` and `pias receive` at the ministry.

The ship's commands work on its home folder; the ministry's need none: they
take key files, a central database and an inbox as arguments.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

from ledger import central, keys
from ledger.appender import Ledger
from ledger.errors import LedgerError
from ledger.ingest import Ingester
from ledger.offload import BundleReport
from ledger.receiver import Inbox, make_server
from vessel import events, ledger_link, operators, purge
from vessel import home as home_mod
from vessel.cli import CommandFailed
from vessel.cli.common import home_of, open_ship
from vessel.clock import iso, utcnow
from vessel.config import ShipConfig
from vessel.errors import Refused
from vessel.i18n import t
from vessel.ship import Ship
from vessel.store import transaction


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="the ship's signing key and the institutions' public keys")
    ks = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    a = ks.add_parser("init", help="make the ship's signing key and import the ministry's public keys")
    a.add_argument("--passphrase", action="store_true",
                   help="protect the key with a passphrase ($PIAS_KEY_PASSPHRASE, or asked for)")
    a.add_argument("--ministry-pub", action="append", default=[], type=Path, metavar="FILE",
                   help="a public key file from an institution (recipient or receipt key); may repeat")
    a.add_argument("--rotate", action="store_true",
                   help="replace an existing signing key; the chain continues and old entries still verify")
    a.set_defaults(func=cmd_keys_init)
    a = ks.add_parser("ministry-init", help="make an institution's key pair and receipt key (at the ministry)")
    a.add_argument("--out", required=True, type=Path, help="folder for the key files")
    a.add_argument("--name", required=True, help="the institution, as the ship's config names it (e.g. MIDIS)")
    a.add_argument("--passphrase", action="store_true", help="protect the private keys with a passphrase")
    a.add_argument("--algorithm", choices=keys.RECIPIENT_ALGORITHMS, default=keys.DEFAULT_RECIPIENT_ALGORITHM)
    a.set_defaults(func=cmd_keys_ministry_init)
    a = ks.add_parser("export", help="write the ship's public key, for the ministry's registry")
    a.add_argument("--out", type=Path, help="file to write (default: print it)")
    a.set_defaults(func=cmd_keys_export)
    a = ks.add_parser("import", help="import institutions' public key files (recipient or receipt keys)")
    a.add_argument("files", nargs="+", type=Path)
    a.set_defaults(func=cmd_keys_import)
    a = ks.add_parser("show", help="the ship's keys and the institutions', with fingerprints to compare by phone")
    a.set_defaults(func=cmd_keys_show)

    p = sub.add_parser("ledger", help="the ship's signed, encrypted ledger")
    ls = p.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    a = ls.add_parser("verify", help="check the chain and its signatures; names the first bad entry")
    a.add_argument("--head", metavar="FINGERPRINT", help="also check the chain still holds this head (from the log)")
    a.add_argument("--all-signatures", action="store_true", help="check every stored head signature (slower)")
    a.set_defaults(func=cmd_ledger_verify)
    a = ls.add_parser("head", help="the fingerprint of the signed head, for the paper log or the radio")
    a.set_defaults(func=cmd_ledger_head)
    a = ls.add_parser("status", help="entries, what is confirmed ashore, bundles waiting or refused")
    a.set_defaults(func=cmd_ledger_status)
    a = ls.add_parser("correct", help="record a correction to an entry (a new entry; nothing is changed)")
    a.add_argument("--seq", type=int, required=True, help="the entry to correct")
    a.add_argument("--reason", required=True)
    a.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a corrected value; may repeat")
    a.add_argument("--as", dest="as_login", required=True, help="the coordinator or bridge officer correcting")
    a.set_defaults(func=cmd_ledger_correct)

    p = sub.add_parser("offload", help="seal what is new into bundles and send them to a folder or a receiver")
    p.add_argument("--to", metavar="DIR|URL", help="a folder (USB drive) or http://host:port of a receiver")
    p.add_argument("--no-purge", action="store_true", help="keep personal data even where it could be purged")
    p.add_argument("--retries", type=int, default=6, help="retries of a dropped HTTP link (default 6)")
    p.set_defaults(func=cmd_offload)

    p = sub.add_parser("ingest", help="(ministry) verify, decrypt and import bundles into a central database")
    p.add_argument("path", type=Path, metavar="BUNDLE_OR_DIR")
    p.add_argument("--key", required=True, type=Path, help="the institution's private key")
    p.add_argument("--db", required=True, type=Path, help="the central database (created if missing)")
    p.add_argument("--ships", type=Path, metavar="REGISTRY", help="ship public keys to register: a file or folder")
    p.add_argument("--receipt-key", type=Path, help="sign receipts and write them next to each bundle")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("receive", help="(ministry) an HTTP receiver for bundles")
    p.add_argument("--listen", required=True, metavar="HOST:PORT")
    p.add_argument("--inbox", required=True, type=Path)
    p.add_argument("--key", required=True, type=Path, help="the receipt signing key")
    p.add_argument("--ships", type=Path, metavar="REGISTRY",
                   help="ship public keys: a file or folder (INBOX/ships/ is always read)")
    p.set_defaults(func=cmd_receive)


# --- helpers -------------------------------------------------------------------------------


def _new_passphrase(wanted: bool) -> str | None:
    if not wanted:
        return None
    value = ledger_link.passphrase()
    if value:
        return value
    if not sys.stdin.isatty():
        raise Refused("ledger_link.passphrase_needed")
    first = getpass.getpass(t("ledger_cli.ask_passphrase"))
    if not first or first != getpass.getpass(t("ledger_cli.ask_passphrase_again")):
        raise Refused("ledger_link.passphrase_mismatch")
    return first


def _pin(login: str) -> str:
    if os.environ.get("PIAS_PIN"):
        return os.environ["PIAS_PIN"]
    if not sys.stdin.isatty():
        raise Refused("pin_needed")
    return getpass.getpass(t("cli.ask_pin", login=login))


def _fail(exc: LedgerError) -> CommandFailed:
    return CommandFailed(ledger_link.explain(exc))


def _import_public(cfg: ShipConfig, path: Path) -> str:
    try:
        pub = keys.load_public(path)
    except LedgerError as exc:
        raise _fail(exc) from None
    if pub.role == "ship":
        raise Refused("ledger_link.ship_key_import", path=str(path))
    if pub.role == "receipt":
        target = ledger_link.receivers_dir(cfg) / f"{pub.key_id}.pub"
    else:
        match = [r for r in cfg.recipients if r.name.casefold() == pub.name.casefold()]
        if not match:
            names = ", ".join(r.name for r in cfg.recipients) or "-"
            raise Refused("ledger_link.unknown_recipient", name=pub.name, names=names)
        target = match[0].public_key
    keys.save_public(pub, target)
    return t("ledger_cli.imported", role=t(f"ledger_cli.role.{pub.role}"), name=pub.name,
             fingerprint=pub.fingerprint, path=str(target))


# --- keys ------------------------------------------------------------------------------------


def cmd_keys_init(args: argparse.Namespace) -> int:
    home = home_of(args).require()
    cfg = home.load_config()
    exists = cfg.signing_key.exists()
    if exists and not args.rotate:
        raise Refused("ledger_link.key_exists", path=str(cfg.signing_key))
    if args.rotate and not exists:
        raise Refused("ledger_link.nothing_to_rotate", path=str(cfg.signing_key))
    messages = [_import_public(cfg, f) for f in args.ministry_pub]
    secret = _new_passphrase(args.passphrase)
    if args.rotate:
        key = _rotate(home, secret)
    else:
        key = ledger_link.create_ship_key(cfg, secret)
    print(t("ledger_cli.ship_key", path=str(cfg.signing_key), key_id=key.key_id, fingerprint=key.public.fingerprint))
    for line in messages:
        print(line)
    return 0


def _rotate(home: home_mod.Home, secret: str | None) -> keys.SigningKey:
    ship = home_mod.open_ship(home)
    try:
        cfg = ship.config
        old = ledger_link.load_signing_key(cfg)
        new = keys.generate_signing_key(cfg.ship_id, role="ship")
        staged = cfg.signing_key.with_name(cfg.signing_key.name + ".new")
        if staged.exists():
            staged.unlink()
        keys.save_private(new, staged, secret)
        ledger = Ledger(cfg.ship_id, old, ledger_link.load_recipients(cfg))
        ledger.prepare(ship.conn)
        with transaction(ship.db) as conn:
            ledger.rotate(conn, new, ship.now())
        os.replace(cfg.signing_key, cfg.signing_key.with_name(f"{cfg.signing_key.name}.{old.key_id}.retired"))
        os.replace(staged, cfg.signing_key)
        keys.save_public(new.public, cfg.signing_key.with_suffix(".pub"))
        return new
    except LedgerError as exc:
        raise _fail(exc) from None
    finally:
        ship.close()


def cmd_keys_ministry_init(args: argparse.Namespace) -> int:
    secret = _new_passphrase(args.passphrase)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in args.name.lower()).strip("-") or "ministry"
    try:
        recipient = keys.generate_recipient_key(args.name, args.algorithm)
        receipt = keys.generate_signing_key(f"{args.name} receipts", role="receipt")
        keys.save_private(recipient, out / f"{slug}.key", secret)
        keys.save_private(receipt, out / f"{slug}-receipts.key", secret)
    except LedgerError as exc:
        raise _fail(exc) from None
    keys.save_public(recipient.public, out / f"{slug}.pub")
    keys.save_public(receipt.public, out / f"{slug}-receipts.pub")
    print(t("ledger_cli.ministry_key", name=args.name, path=str(out / f"{slug}.pub"),
            fingerprint=recipient.public.fingerprint, algorithm=args.algorithm))
    print(t("ledger_cli.receipt_key", path=str(out / f"{slug}-receipts.pub"), fingerprint=receipt.public.fingerprint))
    return 0


def cmd_keys_export(args: argparse.Namespace) -> int:
    home = home_of(args).require()
    cfg = home.load_config()
    pub_path = cfg.signing_key.with_suffix(".pub")
    try:
        pub = keys.load_public(pub_path, role="ship") if pub_path.exists() else ledger_link.load_signing_key(cfg).public
    except LedgerError as exc:
        raise _fail(exc) from None
    if not cfg.signing_key.exists() and not pub_path.exists():
        raise Refused("ledger_link.no_keys")
    if args.out:
        keys.save_public(pub, args.out)
        print(t("ledger_cli.exported", path=str(args.out), fingerprint=pub.fingerprint))
    else:
        sys.stdout.write(pub.to_text())
    return 0


def cmd_keys_import(args: argparse.Namespace) -> int:
    cfg = home_of(args).require().load_config()
    for f in args.files:
        print(_import_public(cfg, f))
    return 0


def cmd_keys_show(args: argparse.Namespace) -> int:
    cfg = home_of(args).require().load_config()
    pub_path = cfg.signing_key.with_suffix(".pub")
    if pub_path.exists():
        try:
            pub = keys.load_public(pub_path, role="ship")
        except LedgerError as exc:
            raise _fail(exc) from None
        protected = keys.is_protected(cfg.signing_key) if cfg.signing_key.exists() else False
        print(t("ledger_cli.show_ship", ship=cfg.ship_id, key_id=pub.key_id, fingerprint=pub.fingerprint,
                protected=t("ledger_cli.yes") if protected else t("ledger_cli.no")))
    else:
        print(t("ledger_cli.show_no_ship_key", path=str(cfg.signing_key)))
    for r in cfg.recipients:
        kinds = ", ".join(r.kinds)
        if r.public_key.exists():
            try:
                rk = keys.load_public(r.public_key, role="recipient")
                print(t("ledger_cli.show_recipient", name=r.name, kinds=kinds, algorithm=rk.algorithm,
                        key_id=rk.key_id, fingerprint=rk.fingerprint))
            except LedgerError as exc:
                print(t("ledger_cli.show_recipient_bad", name=r.name, problem=ledger_link.explain(exc)))
        else:
            print(t("ledger_cli.show_recipient_missing", name=r.name, kinds=kinds, path=str(r.public_key)))
    for key in ledger_link.receipt_keys(cfg).values():
        print(t("ledger_cli.show_receipt", name=key.name, key_id=key.key_id, fingerprint=key.fingerprint))
    return 0


# --- ledger ----------------------------------------------------------------------------------


def _plain_ship(args: argparse.Namespace) -> Ship:
    """The ship without the ledger attached: reading the ledger needs no private key."""
    home = home_of(args).require()
    return home_mod.open_ship(home)


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    ship = _plain_ship(args)
    try:
        outcome = ledger_link.verify(ship, head=args.head, all_signatures=args.all_signatures)
    finally:
        ship.close()
    if not outcome.ok:
        raise CommandFailed(t("ledger_cli.verify_bad", problem=outcome.problem))
    if outcome.entries == 0:
        print(t("ledger_cli.verify_empty"))
        return 0
    print(t("ledger_cli.verify_ok", entries=outcome.entries, fingerprint=outcome.fingerprint,
            signatures=outcome.report.signatures_checked))
    if args.head:
        print(t("ledger_cli.verify_head_ok", fingerprint=args.head))
    return 0


def cmd_ledger_head(args: argparse.Namespace) -> int:
    ship = _plain_ship(args)
    try:
        state = ledger_link.status(ship)
    finally:
        ship.close()
    if state is None:
        print(t("ledger_cli.verify_empty"))
        return 0
    print(state.head_fingerprint)
    print(t("ledger_cli.head_note", seq=state.head_seq, at=iso(state.head_at) if state.head_at else "-"))
    return 0


def cmd_ledger_status(args: argparse.Namespace) -> int:
    ship = _plain_ship(args)
    try:
        state = ledger_link.status(ship)
        if state is None:
            print(t("ledger_cli.verify_empty"))
            return 0
        print(t("ledger_cli.status_head", entries=state.entries, fingerprint=state.head_fingerprint))
        print(t("ledger_cli.status_confirmed", confirmed=state.confirmed_through, pending=state.pending))
        if state.last_offload_at is not None:
            print(t("ledger_cli.status_last", at=iso(state.last_offload_at), target=state.last_offload_target))
        for name, first, last, row_state, error in ship.conn.execute(
            "SELECT name, first_seq, last_seq, state, last_error FROM ledger_offloads "
            "WHERE state IN ('pending', 'delivered', 'failed') ORDER BY first_seq"
        ):
            print(t("ledger_cli.status_bundle", name=name, first=first, last=last,
                    state=t(f"ledger_cli.state.{row_state}"), error=error or ""))
        if state.unread_kinds:
            print(t("ledger_cli.status_unread", kinds=", ".join(state.unread_kinds)))
        for _stop, community, _seq in purge.eligible(ship, purge.PurgePolicy.from_file(home_of(args).config_path)):
            print(t("ledger_cli.status_purgeable", community=community))
    finally:
        ship.close()
    return 0


def cmd_ledger_correct(args: argparse.Namespace) -> int:
    fields = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise Refused("ledger_link.bad_field", item=item)
        fields[name.strip()] = value
    if not args.reason.strip():
        raise Refused("required", field="reason")
    ship = open_ship(args)
    try:
        if ship.ledger is None:
            raise Refused("ledger_link.no_keys")
        actor = operators.login(ship, args.as_login, _pin(args.as_login))
        operators.require(actor, "ledger")
        with transaction(ship.db) as conn:
            events.record(
                ship, ledger_link.CORRECTION_KIND,
                {"amends": args.seq, "author": actor.login, "reason": args.reason.strip(), "fields": fields},
                operator_id=actor.id,
            )
            seq = conn.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]
    finally:
        ship.close()
    print(t("ledger_cli.corrected", seq=seq, amends=args.seq))
    return 0


class _Bar:
    """Bytes sent and time left, on one line of a terminal; silent when output is not a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, item: BundleReport, sent: int, total: int, eta: float | None) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if sent < total and now - self.last < 0.2:
            return
        self.last = now
        width = 30
        filled = int(width * sent / total) if total else width
        left = t("ledger_cli.left", seconds=int(eta)) if eta is not None else ""
        sys.stderr.write(f"\r{item.name} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{sent / 1e6:.1f}/{total / 1e6:.1f} MB {left}   ")
        if sent >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_offload(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        if ship.ledger is None:
            raise Refused("ledger_link.no_keys")
        target = None
        if args.to and args.to.startswith("http"):
            from ledger.offload import HttpTarget

            try:
                target = HttpTarget(args.to, retries=max(0, args.retries))
            except LedgerError as exc:
                raise _fail(exc) from None
        report = ledger_link.offload(ship, to=args.to, target=target, progress=_Bar())
        if not report.bundles:
            print(t("ledger_cli.offload_nothing", confirmed=report.confirmed_through))
        for b in report.bundles:
            print(t(f"ledger_cli.offload.{b.status}", name=b.name, first=b.first, last=b.last,
                    size=f"{b.size / 1e6:.2f}", message=b.message))
        print(t("ledger_cli.offload_summary", confirmed=report.confirmed_through, head=report.head))
        if not args.no_purge:
            for p in purge.run(ship):
                print(t("ledger_cli.purged", community=p.community, citizens=p.citizens))
    finally:
        ship.close()
    if report.link_error is not None:
        e = report.link_error
        raise CommandFailed(t("ledger_cli.link_down", target=e.target, done=e.offset, total=e.total, reason=e.reason))
    failed = [b for b in report.bundles if b.state == "failed"]
    if failed:
        raise CommandFailed(t("ledger_cli.offload_failed", count=len(failed)))
    return 0


# --- ministry --------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    try:
        key = keys.load_recipient_key(args.key, ledger_link.passphrase())
        receipt_key = (
            keys.load_signing_key(args.receipt_key, ledger_link.passphrase(), role="receipt")
            if args.receipt_key else None
        )
        registry = keys.load_ship_registry(args.ships) if args.ships else []
    except LedgerError as exc:
        raise _fail(exc) from None
    if not args.path.exists():
        raise Refused("ledger_link.no_such_path", path=str(args.path))
    try:
        conn = central.connect(args.db)
    except central.CentralError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        for ship_id, key_id, added in central.register(conn, registry, iso(utcnow())):
            if added:
                print(t("ledger_cli.registered", ship=ship_id, key_id=key_id))
        outcomes = Ingester(conn, key, receipt_key).ingest_path(args.path)
    finally:
        conn.close()
    refused = 0
    for o in outcomes:
        if o.status == "imported":
            print(t("ledger_cli.ingest.imported", source=o.source, first=o.imported_from, last=o.last,
                    events=o.events, sealed=o.sealed))
        elif o.status == "already_ingested":
            print(t("ledger_cli.ingest.already", source=o.source))
        else:
            refused += 1
            print(t("ledger_cli.ingest.refused", source=o.source, problem=ledger_link.explain(o.problem)))
    if not outcomes:
        print(t("ledger_cli.ingest.none", path=str(args.path)))
    if refused:
        raise CommandFailed(t("ledger_cli.ingest.some_refused", refused=refused, total=len(outcomes)))
    return 0


def cmd_receive(args: argparse.Namespace) -> int:
    host, sep, port_text = args.listen.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise Refused("ledger_link.bad_listen", listen=args.listen)
    try:
        receipt_key = keys.load_signing_key(args.key, ledger_link.passphrase(), role="receipt")
        registry = keys.load_ship_registry(args.ships) if args.ships else []
        if (args.inbox / "ships").is_dir():
            registry += keys.load_ship_registry(args.inbox / "ships")
    except LedgerError as exc:
        raise _fail(exc) from None
    inbox = Inbox(args.inbox, receipt_key, registry)
    try:
        server = make_server(inbox, host, int(port_text))
    except OSError as exc:
        problem = exc.strerror or str(exc)
        raise CommandFailed(t("ledger_cli.cannot_listen", listen=args.listen, problem=problem)) from None
    print(t("ledger_cli.listening", url=f"http://{host}:{server.server_address[1]}", inbox=str(args.inbox)), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
