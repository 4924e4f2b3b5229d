"""The one-command installation, in a throw-away root: users, modes, files, and a second run.

The installer runs for real; the second run is an upgrade over a ship that
has been living for a while (keys made, a setting edited by hand), given a
different config file on purpose: none of it may change.
"""

from __future__ import annotations

import hashlib
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from shiproot import DEMO_CONFIG, REPO, UNIT_FILES, run_installer

pytestmark = pytest.mark.slow

SHIP_HOME = "var/lib/pias"
UNIT_DIR = "usr/local/lib/systemd/system"


@dataclass
class Upgrade:
    root: Path
    before: dict[str, str]
    after: dict[str, str]
    result: subprocess.CompletedProcess[str]
    record: str


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kept_files(root: Path) -> dict[str, str]:
    """Checksums of everything an upgrade must never change: config, keys, data."""
    paths = [root / SHIP_HOME / "ship.toml", root / SHIP_HOME / "pias.db", root / "etc/pias/pias.env"]
    paths += sorted((root / SHIP_HOME / "keys").rglob("*"))
    return {str(p.relative_to(root)): sha(p) for p in paths if p.is_file()}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def pias_ids(root: Path) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "pias":
            return int(fields[2]), int(fields[3])
    raise AssertionError("no pias user in etc/passwd")


@pytest.fixture(scope="module")
def upgrade(installed_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Upgrade:
    root = installed_root
    home = root / SHIP_HOME
    # The ship lives: keys are made (left with a careless mode), a setting is edited by hand.
    (home / "keys" / "ship.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
    (home / "keys" / "ship.key").chmod(0o644)
    (home / "keys" / "midis.pub").write_bytes(b"public key of the ministry\n")
    env = root / "etc/pias/pias.env"
    env.write_text(env.read_text().replace("PIAS_GPS_BAUD=auto", "PIAS_GPS_BAUD=9600"))
    other = tmp_path_factory.mktemp("other") / "other-ship.toml"
    other.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("PIAS Río Napo", "PIAS Otro Barco"))
    before = kept_files(root)
    result = run_installer(root, "--config", str(other), pin=None)
    assert result.returncode == 0, result.stderr[-3000:]
    return Upgrade(root, before, kept_files(root), result, (root / "opt/pias/install-record.txt").read_text())


def test_the_system_user_exists_without_a_login(installed_root: Path):
    line = next(x for x in (installed_root / "etc/passwd").read_text().splitlines() if x.startswith("pias:"))
    _name, _pw, uid, gid, _gecos, home, shell = line.split(":")
    assert 0 < int(uid) < 1000 and home == "/var/lib/pias" and shell == "/usr/sbin/nologin"
    groups = (installed_root / "etc/group").read_text().splitlines()
    assert f"pias:x:{gid}:" in groups
    # The host's accounts that the root was seeded with are still there.
    assert (installed_root / "etc/passwd").read_text().startswith("root:x:0:0:")


def test_the_home_is_the_pias_users_alone(installed_root: Path):
    uid, gid = pias_ids(installed_root)
    home = installed_root / SHIP_HOME
    expected = {".": 0o750, "keys": 0o700, "outbox": 0o750, "pias.db": 0o600, "ship.toml": 0o640}
    for name, want in expected.items():
        path = home / name
        st = path.lstat()
        assert (st.st_uid, st.st_gid) == (uid, gid), name
        assert mode(path) == want, f"{name}: {oct(mode(path))}"
    for path in home.rglob("*"):
        assert path.lstat().st_uid == uid, path
        assert not mode(path) & 0o007, f"{path} is readable by others"


def test_settings_are_root_owned_and_readable_by_pias_only(installed_root: Path):
    _uid, gid = pias_ids(installed_root)
    env = installed_root / "etc/pias/pias.env"
    assert (env.stat().st_uid, env.stat().st_gid, mode(env)) == (0, gid, 0o640)
    assert (installed_root / "etc/pias").stat().st_uid == 0
    assert mode(installed_root / "etc/pias") == 0o750
    text = env.read_text()
    assert "PIAS_GPS_PORT=/dev/serial/by-id/usb-u-blox_AG_GNSS_receiver-if00" in text  # from the config
    assert "PIAS_OFFLOAD_TO=/media/pias/bundles" in text
    assert "@" not in text.replace("PIAS_", "")


def test_units_and_declarations_are_installed_as_in_the_checkout(installed_root: Path):
    for name in UNIT_FILES:
        installed = installed_root / UNIT_DIR / name
        assert installed.read_bytes() == (REPO / "systemd" / name).read_bytes()
        assert mode(installed) == 0o644
    assert (installed_root / "usr/local/lib/sysusers.d/pias.conf").is_file()
    assert (installed_root / "usr/local/lib/tmpfiles.d/pias.conf").is_file()


def test_units_are_enabled(installed_root: Path):
    etc = installed_root / "etc/systemd/system"
    links = {
        "multi-user.target.wants/pias-gps.service": "pias-gps.service",
        "multi-user.target.wants/pias-terminal@tty2.service": "pias-terminal@.service",
        "multi-user.target.wants/pias-display@tty3.service": "pias-display@.service",
        "timers.target.wants/pias-offload.timer": "pias-offload.timer",
        "media-pias.mount.wants/pias-offload.service": "pias-offload.service",
        "dev-disk-by\\x2dlabel-PIAS.device.wants/media-pias.mount": "media-pias.mount",
    }
    for link, target in links.items():
        path = etc / link
        assert path.is_symlink(), link
        assert str(path.readlink()) == f"/{UNIT_DIR}/{target}"


def test_the_program_runs_from_its_own_environment(installed_root: Path):
    pias = installed_root / "opt/pias/venv/bin/pias"
    result = subprocess.run([str(pias), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "backup" in result.stdout
    assert (installed_root / "usr/local/bin/pias").readlink() == Path("/opt/pias/venv/bin/pias")
    # Root-owned and not writable by the services' user.
    assert (installed_root / "opt/pias/venv").stat().st_uid == 0
    assert not mode(installed_root / "opt/pias/venv/bin") & 0o022


def test_the_home_holds_the_configured_ship(installed_root: Path):
    pias = installed_root / "opt/pias/venv/bin/pias"
    result = subprocess.run(
        [str(pias), "--home", str(installed_root / SHIP_HOME), "--lang", "en", "operator", "list"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "coordinador" in result.stdout


def test_what_was_not_done_in_a_root_is_recorded(upgrade: Upgrade):
    record = upgrade.record
    assert "apt-get: skipped (--root): apt-get install --no-install-recommends python3 python3-venv" in record
    assert "systemctl: skipped (no running service manager)" in record
    assert "systemctl start pias-gps.service pias-offload.timer" in record


def test_a_second_run_changes_no_config_key_or_data(upgrade: Upgrade):
    assert upgrade.before == upgrade.after
    assert len(upgrade.before) >= 5  # ship.toml, pias.db, pias.env and the two keys were compared
    assert "PIAS_GPS_BAUD=9600" in (upgrade.root / "etc/pias/pias.env").read_text()
    assert "Otro Barco" not in (upgrade.root / SHIP_HOME / "ship.toml").read_text()
    assert "home: kept /var/lib/pias" in upgrade.record
    assert "settings: kept /etc/pias/pias.env" in upgrade.record


def test_a_second_run_puts_safe_modes_back(upgrade: Upgrade):
    uid, _gid = pias_ids(upgrade.root)
    key = upgrade.root / SHIP_HOME / "keys" / "ship.key"
    assert mode(key) == 0o600 and key.stat().st_uid == uid


def test_a_second_run_reinstalls_nothing_it_does_not_need(upgrade: Upgrade):
    for name in UNIT_FILES:
        assert f"file: unchanged /{UNIT_DIR}/{name}" in upgrade.record
    assert "venv: kept /opt/pias/venv" in upgrade.record
    passwd = (upgrade.root / "etc/passwd").read_text()
    assert passwd.count("\npias:") == 1


def test_an_upgrade_first_takes_a_backup_that_verifies(upgrade: Upgrade):
    backups = sorted((upgrade.root / "var/backups/pias").glob("pias-backup-*"))
    assert len(backups) == 1
    assert "backup: taken before the upgrade" in upgrade.record
    pias = upgrade.root / "opt/pias/venv/bin/pias"
    check = subprocess.run([str(pias), "restore", "--check", str(backups[0])],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    manifest = (backups[0] / "manifest.json").read_text()
    assert "keys/ship.key" in manifest


def test_bad_options_are_usage_errors(tmp_path: Path):
    result = subprocess.run(["bash", str(REPO / "systemd/install.sh"), "--bogus"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "unknown option --bogus" in result.stderr
    result = subprocess.run(["bash", str(REPO / "systemd/install.sh"), "--root", str(tmp_path),
                             "--terminal", "tty2; rm -rf /"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "not a console" in result.stderr
    assert list(tmp_path.iterdir()) == []
