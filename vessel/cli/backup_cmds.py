"""`pias backup` and `pias restore`: the ship's database, config and keys to a drive and back."""

from __future__ import annotations

import argparse
from pathlib import Path

from vessel import backup
from vessel.cli.common import home_of
from vessel.i18n import t


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup",
        help="copy the database (online, while the desks work), ship.toml and keys/ into a new folder",
    )
    p.add_argument("--to", dest="target", type=Path, required=True,
                   help="the folder (e.g. a USB drive) where the backup folder is created")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="check a backup against its manifest and put it into the home")
    p.add_argument("source", type=Path, metavar="FROM_DIR", help="a folder written by 'pias backup'")
    p.add_argument("--force", action="store_true",
                   help="replace a home that already holds a ship (stop the PIAS services first)")
    p.add_argument("--check", action="store_true", help="only verify the backup; change nothing")
    p.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    home = home_of(args)
    path, manifest = backup.backup(home, args.target)
    print(t("backup.done", path=str(path), files=len(manifest.files), size=human_size(manifest.total_size)))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    if args.check:
        manifest = backup.verify(args.source)
        print(t("backup.verified", path=str(args.source), ship=manifest.ship_id,
                created=_when(manifest), files=len(manifest.files)))
        return 0
    home = home_of(args)
    result = backup.restore(args.source, home, force=args.force)
    print(t("backup.restored", path=str(home.path), ship=result.manifest.ship_id,
            created=_when(result.manifest)))
    if result.replaced is not None:
        print(t("backup.replaced", path=str(result.replaced)))
    return 0


def _when(manifest: backup.Manifest) -> str:
    return manifest.created_at.strftime("%Y-%m-%d %H:%M UTC")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
