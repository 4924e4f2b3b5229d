"""Backups of a ship's home, and putting one back.

A ship is weeks from the nearest technician: when the computer's disk fails
mid-campaign, what comes back is the last backup on a USB drive. So a backup
must be consistent while the desks keep working, and a restore must refuse a
copy that is damaged or was changed, before it touches anything.

The database is copied with SQLite's online backup API from a read-only
connection: one read snapshot of a WAL database, so writers go on and the copy
holds exactly the transactions committed before it started. A plain file copy
of a live database can mix pages from before and after a commit. The config
and the keys are copied as files with their modes. A manifest lists every file
with its size, mode and SHA-256. The backup is built in a hidden folder next
to its destination and renamed into place when complete, so a cut-off backup
is never mistaken for a good one.

Restoring stages the files inside the home, checks them again, moves whatever
was there into a `.replaced-*` folder (nothing is deleted) and renames the
staged files into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from vessel.clock import iso, parse, utcnow
from vessel.errors import Refused
from vessel.home import CONFIG_NAME, DB_NAME, Home
from vessel.store import SCHEMA_VERSION

MANIFEST_NAME = "manifest.json"
FORMAT = 1
KEYS_DIR = "keys"
# SQLite's companions of the database file: they travel with it when a home is replaced.
DB_COMPANIONS = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup: its path relative to the home, as a POSIX path."""

    path: str
    size: int
    mode: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    ship_id: str
    created_at: datetime
    schema_version: int
    software_version: str
    files: tuple[BackupFile, ...]

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "ship_id": self.ship_id,
                "created_at": iso(self.created_at),
                "schema_version": self.schema_version,
                "software_version": self.software_version,
                "files": [
                    {"path": f.path, "size": f.size, "mode": f"{f.mode:04o}", "sha256": f.sha256}
                    for f in self.files
                ],
            },
            ensure_ascii=False,
            indent=2,
        ) + "\n"


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    replaced: Path | None
    """Where the files that were in the home went, or None if it was empty."""


# --- backup -----------------------------------------------------------------------------------


def backup(home: Home, parent: Path, *, clock: Callable[[], datetime] = utcnow) -> tuple[Path, Manifest]:
    """Write a new backup folder of the home inside parent; return its path and manifest."""
    home.require()
    if not parent.is_dir():
        raise Refused("backup.no_target", path=str(parent))
    now = clock()
    ship_id = _ship_id(home.db_path)
    name = f"pias-backup-{ship_id}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    # Unique to this process: a backup killed earlier may have left its partial folder behind.
    partial = parent / f".{name}.{os.getpid()}-{os.urandom(3).hex()}.partial"
    try:
        partial.mkdir(mode=0o700)
    except OSError as exc:
        raise Refused("backup.cannot_write", path=str(parent), problem=exc.strerror or str(exc)) from None
    try:
        schema = _copy_database(home.db_path, partial / DB_NAME)
        files = [_describe(partial, DB_NAME, home.db_path)]
        _copy_file(home.config_path, partial / CONFIG_NAME)
        files.append(_describe(partial, CONFIG_NAME, home.config_path))
        if home.keys_dir.is_dir():
            for rel, source in _copy_tree(home.keys_dir, partial / KEYS_DIR, KEYS_DIR):
                files.append(_describe(partial, rel, source))
        manifest = Manifest(
            ship_id=ship_id,
            created_at=now,
            schema_version=schema,
            software_version=_software_version(),
            files=tuple(files),
        )
        _write_durably(partial / MANIFEST_NAME, manifest.to_json().encode("utf-8"), 0o600)
        for folder in _folders(partial):
            _fsync_dir(folder)
        final = _publish(partial, parent, name)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise Refused("backup.cannot_write", path=str(parent), problem=exc.strerror or str(exc)) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final, manifest


def _publish(partial: Path, parent: Path, name: str) -> Path:
    """Rename the finished folder to its final name (with a suffix if that name is taken)."""
    n = 1
    while True:
        final = parent / (name if n == 1 else f"{name}-{n}")
        if not final.exists():
            try:
                os.rename(partial, final)
            except OSError:
                # Another backup took the name between the check and the rename.
                if not final.exists():
                    raise
            else:
                _fsync_dir(parent)
                return final
        n += 1


def _ship_id(db_path: Path) -> str:
    """The ship's id from its database, so that a broken ship.toml does not prevent a backup."""
    conn = _open_readonly(db_path)
    try:
        row = conn.execute("SELECT ship_id FROM ship WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as exc:
        raise Refused("backup.bad_database", path=str(db_path), problem=str(exc)) from None
    finally:
        conn.close()
    ship_id = row[0] if row else "ship"
    return "".join(c for c in ship_id if c.isalnum() or c in "-_") or "ship"


def _open_readonly(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 15000")
    except sqlite3.DatabaseError as exc:
        raise Refused("backup.bad_database", path=str(path), problem=str(exc)) from None
    return conn


def _copy_database(source: Path, target: Path) -> int:
    """Copy a live database through the online backup API; return its schema version."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    src = _open_readonly(source)
    try:
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            # pages=-1: the whole database in one step, so from one read snapshot.
            src.backup(dst, pages=-1)
            # A rollback-journal copy can be checked later without writing next to it
            # (a WAL database needs its -shm file even to be read).
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise Refused("backup.bad_database", path=str(source), problem=check)
            schema = dst.execute("PRAGMA user_version").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise Refused("backup.bad_database", path=str(source), problem=str(exc)) from None
    finally:
        src.close()
    _fsync_file(target)
    return schema


def _copy_file(source: Path, target: Path) -> None:
    with open(source, "rb") as fin:
        data = fin.read()
    _write_durably(target, data, stat.S_IMODE(source.stat().st_mode))


def _copy_tree(source: Path, target: Path, rel: str) -> Iterator[tuple[str, Path]]:
    """Copy a folder of regular files; links and devices have no place in keys/."""
    target.mkdir(mode=0o700)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink():
            raise Refused("backup.odd_file", path=str(entry))
        if entry.is_dir():
            yield from _copy_tree(entry, target / entry.name, f"{rel}/{entry.name}")
        elif entry.is_file():
            _copy_file(entry, target / entry.name)
            yield f"{rel}/{entry.name}", entry
        else:
            raise Refused("backup.odd_file", path=str(entry))


def _listing(folder: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            rel = Path(dirpath, name).relative_to(folder).as_posix()
            if rel != MANIFEST_NAME:
                out.append(rel)
    return out


def _folders(folder: Path) -> Iterator[Path]:
    for dirpath, _dirnames, _filenames in os.walk(folder):
        yield Path(dirpath)


def _describe(folder: Path, rel: str, source: Path) -> BackupFile:
    """Size and digest of the copy as written; the mode of the original (a FAT drive keeps none)."""
    copy = folder / rel
    return BackupFile(
        path=rel,
        size=copy.stat().st_size,
        mode=stat.S_IMODE(source.stat().st_mode),
        sha256=_sha256(copy),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _software_version() -> str:
    try:
        return metadata.version("pias-vessel")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- reading and checking a backup -------------------------------------------------------------


def read_manifest(folder: Path) -> Manifest:
    """Parse a backup's manifest, refusing anything that is not exactly what backup() writes."""
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise Refused("backup.not_a_backup", path=str(folder))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise Refused("backup.not_a_backup", path=str(folder)) from None
    except OSError as exc:
        raise Refused("backup.unreadable", path=str(path), problem=exc.strerror or str(exc)) from None
    return parse_manifest(raw, str(path))


def parse_manifest(raw: bytes, source: str) -> Manifest:
    def bad(problem: str) -> Refused:
        return Refused("backup.bad_manifest", path=source, problem=problem)

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise bad("not JSON text") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object")
    if data.get("format") != FORMAT:
        raise bad(f"unknown format {data.get('format')!r}")
    ship_id = _field(data, "ship_id", str, bad)
    created_text = _field(data, "created_at", str, bad)
    try:
        created_at = parse(created_text)
    except ValueError:
        raise bad(f"created_at is not a time: {created_text!r}") from None
    if created_at is None or created_at.tzinfo is None:
        raise bad(f"created_at is not a UTC time: {created_text!r}")
    schema = _field(data, "schema_version", int, bad)
    if schema < 0:
        raise bad("schema_version is negative")
    software = _field(data, "software_version", str, bad)
    items = data.get("files")
    if not isinstance(items, list):
        raise bad("files is not a list")
    files: list[BackupFile] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad(f"files[{i}] is not an object")
        rel = _field(item, "path", str, bad)
        _check_member(rel, bad)
        if rel in seen:
            raise bad(f"{rel} is listed twice")
        seen.add(rel)
        size = _field(item, "size", int, bad)
        if size < 0:
            raise bad(f"{rel}: negative size")
        mode_text = _field(item, "mode", str, bad)
        try:
            mode = int(mode_text, 8)
        except ValueError:
            raise bad(f"{rel}: mode {mode_text!r} is not octal") from None
        if not 0 <= mode <= 0o777:
            raise bad(f"{rel}: mode {mode_text!r} is out of range")
        digest = _field(item, "sha256", str, bad)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise bad(f"{rel}: sha256 is not 64 hex digits")
        files.append(BackupFile(path=rel, size=size, mode=mode, sha256=digest))
    for required in (DB_NAME, CONFIG_NAME):
        if required not in seen:
            raise bad(f"{required} is not listed")
    return Manifest(
        ship_id=ship_id, created_at=created_at, schema_version=schema, software_version=software,
        files=tuple(files),
    )


def _field(data: dict[str, Any], key: str, kind: type, bad: Callable[[str], Refused]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise bad(f"{key} is missing or not {'a number' if kind is int else 'text'}")
    return value


def _check_member(rel: str, bad: Callable[[str], Refused]) -> None:
    """Only the home's own files may be named: nothing outside it, nothing it does not hold."""
    pure = PurePosixPath(rel)
    parts = pure.parts
    if (
        not rel
        or "\\" in rel
        or "\x00" in rel
        or pure.is_absolute()
        or any(p in ("", ".", "..") for p in parts)
        or pure.as_posix() != rel
    ):
        raise bad(f"{rel!r} is not a plain relative path")
    if rel in (DB_NAME, CONFIG_NAME):
        return
    if len(parts) >= 2 and parts[0] == KEYS_DIR:
        return
    raise bad(f"{rel!r} is not a file a backup holds")


def verify(folder: Path) -> Manifest:
    """Check every file of a backup against its manifest, and the database's integrity."""
    manifest = read_manifest(folder)
    listed = {f.path for f in manifest.files}
    for rel in _listing(folder):
        if rel not in listed:
            raise Refused("backup.extra_file", path=str(folder / rel))
    for f in manifest.files:
        _check_copy(folder / f.path, f)
    _check_database(folder / DB_NAME)
    return manifest


def _check_copy(path: Path, expected: BackupFile) -> None:
    if path.is_symlink() or not path.is_file():
        raise Refused("backup.missing_file", path=str(path))
    if path.stat().st_size != expected.size or _sha256(path) != expected.sha256:
        raise Refused("backup.changed_file", path=str(path))


def _check_database(path: Path) -> None:
    conn = _open_readonly(path)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise Refused("backup.bad_database", path=str(path), problem=str(exc)) from None
    finally:
        conn.close()
    if check != "ok":
        raise Refused("backup.bad_database", path=str(path), problem=check)


# --- restore ---------------------------------------------------------------------------------


def restore(
    folder: Path, home: Home, *, force: bool = False, clock: Callable[[], datetime] = utcnow
) -> RestoreResult:
    """Put a verified backup into home; refuse a home that holds a ship unless force is given."""
    manifest = verify(folder)
    if manifest.schema_version > SCHEMA_VERSION:
        raise Refused(
            "backup.newer_schema", path=str(folder), version=manifest.software_version,
            schema=manifest.schema_version,
        )
    present = [home.path / name for name in (*DB_COMPANIONS, CONFIG_NAME, KEYS_DIR)]
    present = [p for p in present if p.exists() or p.is_symlink()]
    if present and not force:
        raise Refused("backup.home_not_empty", path=str(home.path))
    stamp = clock().strftime("%Y%m%dT%H%M%SZ")
    created = not home.path.exists()
    home.path.mkdir(parents=True, exist_ok=True)
    if created:
        os.chmod(home.path, 0o750)
    stage = _fresh(home.path / f".restore-{stamp}")
    try:
        stage.mkdir(mode=0o700)
        # Copy and check again: a worn USB drive can read differently the second time.
        for f in manifest.files:
            target = stage / f.path
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _copy_file(folder / f.path, target)
            os.chmod(target, f.mode)
            _check_copy(target, f)
        for sub in _folders(stage):
            _fsync_dir(sub)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise Refused("backup.cannot_write", path=str(home.path), problem=exc.strerror or str(exc)) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    replaced: Path | None = None
    if present:
        replaced = _fresh(home.path / f".replaced-{stamp}")
        replaced.mkdir(mode=0o700)
        for p in present:
            os.rename(p, replaced / p.name)
        _fsync_dir(replaced)
    for entry in sorted(stage.iterdir()):
        os.rename(entry, home.path / entry.name)
    stage.rmdir()
    # A home always has these, even when the backup's keys/ was empty.
    (home.path / KEYS_DIR).mkdir(mode=0o700, exist_ok=True)
    (home.path / "outbox").mkdir(mode=0o750, exist_ok=True)
    _fsync_dir(home.path)
    return RestoreResult(manifest=manifest, replaced=replaced)


def _fresh(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


# --- durable writes ----------------------------------------------------------------------------


def _write_durably(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        _chmod_if_possible(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)


def _chmod_if_possible(fd: int, mode: int) -> None:
    # FAT and exFAT drives have no modes and refuse to change them; the manifest keeps them.
    with contextlib.suppress(PermissionError):
        os.fchmod(fd, mode)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
