"""Helpers for rebuilding the ship's computer in a throw-away root.

The installer runs for real (the real systemd tools with their --root, a
real Python environment built from this checkout) into a temporary folder
seeded like a fresh Debian system: the host's account files and systemd's own
units. Nothing outside that folder is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "systemd"
INSTALLER = UNITS / "install.sh"
DEMO_CONFIG = REPO / "vessel" / "demo_ship.toml"
SERVICE_FILES = ["pias-gps.service", "pias-terminal@.service", "pias-display@.service", "pias-offload.service"]
UNIT_FILES = [*SERVICE_FILES, "pias-offload.timer", "media-pias.mount"]
# The instances the installer enables by default on a first install.
INSTALLED_UNITS = [
    "pias-gps.service", "pias-terminal@tty2.service", "pias-display@tty3.service",
    "pias-offload.service", "pias-offload.timer", "media-pias.mount",
]
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "python3"


def need_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian package systemd)")


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the installer hands files to the pias user: run as root")


def seed_root(root: Path) -> None:
    """What a fresh Debian system has that the installer builds on."""
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group"):
        shutil.copy2(Path("/etc") / name, root / "etc" / name)
    # Merged /usr, with the two programs the units call besides the ship's own.
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    for program in ("sh", "mountpoint"):
        shutil.copy2(shutil.which(program, path="/usr/bin:/bin"), root / "usr" / "bin" / program)
    (root / "usr" / "lib" / "systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)


def run_installer(root: Path, *args: str, pin: str | None = "2468") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIAS_", "VIRTUAL_ENV"))}
    if pin is not None:
        env["PIAS_PIN"] = pin
    return subprocess.run(
        ["bash", str(INSTALLER), "--root", str(root), "--python", SYSTEM_PYTHON, *args],
        capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL,
    )
