"""`pias backup` and `pias restore` on real homes, under a real writer, against real damage."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vessel import backup, events
from vessel import home as home_mod
from vessel.errors import Refused
from vessel.home import Home
from vessel.store import transaction

HERE = Path(__file__).parent
WRITER = HERE / "backup_writer.py"
CRASH_WORKER = HERE / "backup_crash_worker.py"
CLI = [sys.executable, "-c", "import sys; from vessel.cli import main; sys.exit(main())"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rows(db_path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def add_events(home: Home, count: int, pad: int = 100) -> None:
    ship = home_mod.open_ship(home)
    try:
        with transaction(ship.db):
            for n in range(1, count + 1):
                events.record(ship, "backup_test.tick", {"n": n, "pad": "x" * pad})
    finally:
        ship.close()


def tick_numbers(db_path: Path) -> list[int]:
    found = rows(db_path, "SELECT payload FROM events WHERE kind = 'backup_test.tick' ORDER BY id")
    return [json.loads(p)["n"] for (p,) in found]


@pytest.fixture
def keyed_home(demo_home: Home) -> Home:
    """The demo ship with key files of its own, as after `pias keys init`."""
    keys = demo_home.keys_dir
    (keys / "ship.key").write_bytes(os.urandom(64))
    (keys / "ship.key").chmod(0o600)
    (keys / "midis.pub").write_bytes(os.urandom(32))
    (keys / "midis.pub").chmod(0o644)
    add_events(demo_home, 20)
    return demo_home


@pytest.fixture
def a_backup(keyed_home: Home, tmp_path: Path) -> Path:
    target = tmp_path / "usb"
    target.mkdir()
    path, _manifest = backup.backup(keyed_home, target)
    return path


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


# --- backup -----------------------------------------------------------------------------------


def test_round_trip_keeps_database_config_keys_and_modes(keyed_home: Home, a_backup: Path, tmp_path: Path):
    target = Home(tmp_path / "restored")
    result = backup.restore(a_backup, target)
    assert result.replaced is None
    assert target.config_path.read_bytes() == keyed_home.config_path.read_bytes()
    for name in ("ship.key", "midis.pub"):
        assert (target.keys_dir / name).read_bytes() == (keyed_home.keys_dir / name).read_bytes()
        assert mode(target.keys_dir / name) == mode(keyed_home.keys_dir / name)
    assert mode(target.keys_dir / "ship.key") == 0o600
    assert mode(target.db_path) == 0o600
    assert mode(target.keys_dir) == 0o700
    for sql in ("SELECT * FROM events ORDER BY id", "SELECT * FROM operators ORDER BY id",
                "SELECT * FROM stops ORDER BY seq"):
        assert rows(target.db_path, sql) == rows(keyed_home.db_path, sql)
    assert tick_numbers(target.db_path) == list(range(1, 21))
    ship = home_mod.open_ship(target)  # the restored home is a working ship
    ship.close()


def test_the_manifest_lists_every_file_with_its_checksum(keyed_home: Home, a_backup: Path):
    manifest = json.loads((a_backup / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == {"pias.db", "ship.toml", "keys/ship.key", "keys/midis.pub"}
    for rel, entry in listed.items():
        assert entry["sha256"] == sha(a_backup / rel)
        assert entry["size"] == (a_backup / rel).stat().st_size
    assert listed["keys/ship.key"]["mode"] == "0600" and listed["keys/midis.pub"]["mode"] == "0644"
    assert manifest["ship_id"] == "pias-rio-napo"
    assert mode(a_backup) == 0o700
    assert not any(p.name.startswith(".") for p in a_backup.parent.iterdir())  # no leftovers


def test_a_backup_changes_nothing_in_the_home(keyed_home: Home, tmp_path: Path):
    before = {p: sha(keyed_home.path / p) for p in ("pias.db", "ship.toml", "keys/ship.key")}
    backup.backup(keyed_home, tmp_path)
    assert before == {p: sha(keyed_home.path / p) for p in before}


def test_two_backups_in_the_same_second_get_two_folders(keyed_home: Home, tmp_path: Path):
    fixed = lambda: backup.utcnow().replace(microsecond=0)  # noqa: E731
    first, _ = backup.backup(keyed_home, tmp_path, clock=fixed)
    second, _ = backup.backup(keyed_home, tmp_path, clock=fixed)
    assert first != second and first.is_dir() and second.is_dir()


def test_folders_left_by_killed_backups_are_no_obstacle(keyed_home: Home, tmp_path: Path):
    moment = backup.utcnow().replace(microsecond=0)
    name = f"pias-backup-pias-rio-napo-{moment.strftime('%Y%m%dT%H%M%SZ')}"
    stale = [tmp_path / f".{name}.partial", tmp_path / f".{name}.{os.getpid()}-000000.partial"]
    for folder in stale:
        folder.mkdir()
        (folder / "pias.db").write_bytes(b"half a database")
    path, _ = backup.backup(keyed_home, tmp_path, clock=lambda: moment)
    assert path.name == name
    backup.verify(path)
    assert all((folder / "pias.db").read_bytes() == b"half a database" for folder in stale)


def test_backup_to_a_missing_folder_is_refused(keyed_home: Home, tmp_path: Path):
    with pytest.raises(Refused) as err:
        backup.backup(keyed_home, tmp_path / "no-usb-drive")
    assert err.value.code == "backup.no_target"
    assert "no-usb-drive" in str(err.value)


def test_backup_of_a_folder_that_is_not_a_home_is_refused(tmp_path: Path):
    with pytest.raises(Refused) as err:
        backup.backup(Home(tmp_path / "nothing"), tmp_path)
    assert err.value.code == "not_a_home"


def test_a_link_in_keys_is_refused_and_leaves_no_backup(keyed_home: Home, tmp_path: Path):
    (keyed_home.keys_dir / "elsewhere.key").symlink_to("/etc/hostname")
    target = tmp_path / "usb"
    target.mkdir()
    with pytest.raises(Refused) as err:
        backup.backup(keyed_home, target)
    assert err.value.code == "backup.odd_file"
    assert list(target.iterdir()) == []


@pytest.mark.slow
def test_backups_while_another_process_writes_are_consistent(keyed_home: Home, tmp_path: Path):
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(keyed_home.path), str(stop)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        seen = []
        for i in range(4):
            time.sleep(0.15)
            path, _manifest = backup.backup(keyed_home, tmp_path)
            backup.verify(path)  # every file matches, and the database passes its check
            numbers = tick_numbers(path / "pias.db")
            # The 20 ticks of the fixture, then the writer's own from 1: both runs without a gap.
            assert numbers[:20] == list(range(1, 21)), i
            assert numbers[20:] == list(range(1, len(numbers) - 19)), i
            seen.append(len(numbers) - 20)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    last = int(out.split()[-1])
    assert seen == sorted(seen) and seen[0] >= 50 and seen[-1] <= last
    assert seen[-1] > seen[0], "the writer made progress while the backups ran"
    final, _ = backup.backup(keyed_home, tmp_path)
    assert len(tick_numbers(final / "pias.db")) - 20 == last


@pytest.mark.slow
def test_a_backup_killed_midway_leaves_nothing_that_passes_for_a_backup(keyed_home: Home, tmp_path: Path):
    add_events(keyed_home, 15_000, pad=1000)  # about 20 MB, so a kill can land inside the copy
    target = tmp_path / "usb"
    target.mkdir()
    rng = random.Random(6)
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, str(CRASH_WORKER), str(keyed_home.path), str(target)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    for entry in target.iterdir():
        if entry.name.startswith("."):
            assert entry.name.endswith(".partial")
            with pytest.raises(Refused):
                backup.verify(entry)
        else:
            backup.verify(entry)  # a folder with its final name is always complete
    path, _ = backup.backup(keyed_home, target)
    backup.restore(path, Home(tmp_path / "restored"))
    assert rows(tmp_path / "restored" / "pias.db", "SELECT count(*) FROM events") == rows(
        keyed_home.db_path, "SELECT count(*) FROM events"
    )


# --- restore ----------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["pias.db", "ship.toml", "keys/ship.key"])
def test_restore_refuses_a_changed_file_and_touches_nothing(a_backup: Path, tmp_path: Path, member: str):
    flip_byte(a_backup / member, offset=200 if member == "pias.db" else None)
    target = tmp_path / "restored"
    with pytest.raises(Refused) as err:
        backup.restore(a_backup, Home(target))
    assert err.value.code == "backup.changed_file"
    assert member in str(err.value)
    assert not target.exists()


def test_restore_refuses_a_missing_file(a_backup: Path, tmp_path: Path):
    (a_backup / "keys" / "midis.pub").unlink()
    with pytest.raises(Refused) as err:
        backup.restore(a_backup, Home(tmp_path / "restored"))
    assert err.value.code == "backup.missing_file" and "midis.pub" in str(err.value)


def test_restore_refuses_a_file_the_manifest_does_not_list(a_backup: Path, tmp_path: Path):
    (a_backup / "keys" / "planted.key").write_bytes(b"not from this ship")
    with pytest.raises(Refused) as err:
        backup.restore(a_backup, Home(tmp_path / "restored"))
    assert err.value.code == "backup.extra_file"


def test_restore_refuses_a_damaged_database_even_with_a_matching_manifest(a_backup: Path, tmp_path: Path):
    db = a_backup / "pias.db"
    data = bytearray(db.read_bytes())
    data[4096:8192] = os.urandom(4096)  # a whole page of garbage, as a failing drive returns
    db.write_bytes(bytes(data))
    manifest = json.loads((a_backup / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "pias.db":
            entry["sha256"] = sha(db)
    (a_backup / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Refused) as err:
        backup.restore(a_backup, Home(tmp_path / "restored"))
    assert err.value.code == "backup.bad_database"
    assert not (tmp_path / "restored").exists()


def test_restore_refuses_a_backup_of_a_newer_program(a_backup: Path, tmp_path: Path):
    manifest = json.loads((a_backup / "manifest.json").read_text())
    manifest["schema_version"] = 999
    manifest["software_version"] = "9.0"
    (a_backup / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Refused) as err:
        backup.restore(a_backup, Home(tmp_path / "restored"))
    assert err.value.code == "backup.newer_schema" and "9.0" in str(err.value)


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path: Path):
    with pytest.raises(Refused) as err:
        backup.restore(tmp_path, Home(tmp_path / "restored"))
    assert err.value.code == "backup.not_a_backup"


def test_restore_over_a_home_needs_force_and_keeps_what_was_there(a_backup: Path, keyed_home: Home):
    add_events(keyed_home, 5)  # the home moved on after the backup
    before = snapshot(keyed_home.path)
    with pytest.raises(Refused) as err:
        backup.restore(a_backup, keyed_home)
    assert err.value.code == "backup.home_not_empty"
    assert snapshot(keyed_home.path) == before

    result = backup.restore(a_backup, keyed_home, force=True)
    assert result.replaced is not None and result.replaced.parent == keyed_home.path
    kept = result.replaced
    for rel in ("pias.db", "ship.toml", "keys/ship.key", "keys/midis.pub"):
        assert sha(kept / rel) == before[rel]
    assert tick_numbers(keyed_home.db_path) == list(range(1, 21))  # the backup's state, not the later one
    assert not any(p.name.startswith(".restore-") for p in keyed_home.path.iterdir())


# --- the manifest is read from a drive: it may hold anything ------------------------------------


def good_manifest() -> dict:
    return {
        "format": 1, "ship_id": "pias-rio-napo", "created_at": "2026-11-02T13:00:00.000000Z",
        "schema_version": 1, "software_version": "0.1.0",
        "files": [
            {"path": "pias.db", "size": 10, "mode": "0600", "sha256": "a" * 64},
            {"path": "ship.toml", "size": 10, "mode": "0640", "sha256": "b" * 64},
        ],
    }


def test_a_good_manifest_parses():
    manifest = backup.parse_manifest(json.dumps(good_manifest()).encode(), "m")
    assert [f.path for f in manifest.files] == ["pias.db", "ship.toml"]
    assert manifest.files[1].mode == 0o640


@pytest.mark.parametrize("path", [
    "../pias.db", "/etc/passwd", "keys/../../etc/passwd", "keys/./ship.key", "outbox/bundle",
    "keys", "keys/", "pias.db/../ship.toml", "keys\\ship.key", "", "keys//ship.key", "manifest.json",
    "./ship.toml", "keys/\x00.key",
])
def test_manifest_paths_cannot_leave_the_home(path: str):
    data = good_manifest()
    data["files"].append({"path": path, "size": 1, "mode": "0600", "sha256": "c" * 64})
    with pytest.raises(Refused) as err:
        backup.parse_manifest(json.dumps(data).encode(), "m")
    assert err.value.code == "backup.bad_manifest"


@pytest.mark.parametrize("change", [
    {"format": 2}, {"created_at": "yesterday"}, {"created_at": "2026-11-02T13:00:00"},
    {"schema_version": -1}, {"schema_version": True}, {"files": {}}, {"ship_id": None},
])
def test_malformed_manifests_are_refused(change: dict):
    data = {**good_manifest(), **change}
    with pytest.raises(Refused) as err:
        backup.parse_manifest(json.dumps(data).encode(), "m")
    assert err.value.code == "backup.bad_manifest"


def test_a_manifest_without_the_database_is_refused():
    data = good_manifest()
    data["files"] = data["files"][1:]
    with pytest.raises(Refused, match=r"pias\.db"):
        backup.parse_manifest(json.dumps(data).encode(), "m")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
file_entries = st.fixed_dictionaries({
    "path": st.text(alphabet="keys/.\\ab\x00", max_size=14) | st.sampled_from(["pias.db", "ship.toml"]),
    "size": st.integers(-2, 10) | st.text(max_size=3),
    "mode": st.text(alphabet="01234567x8", max_size=5),
    "sha256": st.text(alphabet="0123456789abcdefg", min_size=63, max_size=65),
})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_give_a_manifest_or_a_clear_refusal(raw: bytes):
    try:
        manifest = backup.parse_manifest(raw, "m")
    except Refused as exc:
        assert exc.code == "backup.bad_manifest"
        assert str(exc).startswith("El manifiesto m no es válido")
    else:
        assert {f.path for f in manifest.files} >= {"pias.db", "ship.toml"}


@settings(max_examples=300, deadline=None)
@given(st.lists(file_entries, max_size=5))
def test_any_file_list_names_only_the_homes_own_files(entries: list[dict]):
    data = good_manifest()
    data["files"] = data["files"] + entries
    try:
        manifest = backup.parse_manifest(json.dumps(data).encode(), "m")
    except Refused as exc:
        assert exc.code == "backup.bad_manifest"
        return
    for f in manifest.files:
        assert f.path in ("pias.db", "ship.toml") or (
            f.path.startswith("keys/") and ".." not in f.path.split("/") and "\\" not in f.path
        )
        assert 0 <= f.mode <= 0o777


# --- the command --------------------------------------------------------------------------------


def test_the_commands_exit_codes_and_messages(keyed_home: Home, tmp_path: Path):
    env = {**os.environ, "PIAS_HOME": str(keyed_home.path)}
    usb = tmp_path / "usb"
    usb.mkdir()
    done = subprocess.run([*CLI, "--lang", "en", "backup", "--to", str(usb)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Backup written to ") and "4 files" in done.stdout
    made = next(usb.iterdir())

    check = subprocess.run([*CLI, "restore", "--check", str(made)], capture_output=True, text=True,
                           env=env, timeout=60)
    assert check.returncode == 0 and "verificada" in check.stdout

    refused = subprocess.run([*CLI, "restore", str(made)], capture_output=True, text=True,
                             env=env, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "--force" in refused.stderr

    flip_byte(made / "ship.toml")
    env2 = {**os.environ, "PIAS_HOME": str(tmp_path / "new")}
    damaged = subprocess.run([*CLI, "restore", str(made)], capture_output=True, text=True,
                             env=env2, timeout=60)
    assert damaged.returncode == 1 and "ship.toml" in damaged.stderr and "Traceback" not in damaged.stderr
    assert not (tmp_path / "new").exists()

    usage = subprocess.run([*CLI, "backup"], capture_output=True, text=True, env=env, timeout=60)
    assert usage.returncode == 2


def test_restore_copies_what_it_checked_even_from_a_drive_without_modes(a_backup: Path, tmp_path: Path):
    """A FAT drive shows every file with one mode; the manifest's modes are what the home gets."""
    for p in a_backup.rglob("*"):
        if p.is_file() and p.name != "manifest.json":
            p.chmod(0o755)
    target = Home(tmp_path / "restored")
    backup.restore(a_backup, target)
    assert mode(target.keys_dir / "ship.key") == 0o600
    assert mode(target.keys_dir / "midis.pub") == 0o644
    assert mode(target.db_path) == 0o600
    shutil.rmtree(target.path)
