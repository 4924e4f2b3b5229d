"""The units: systemd's own checker, its exposure score, and the hardening each must keep."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from shiproot import INSTALLED_UNITS, SERVICE_FILES, UNIT_FILES, UNITS, need_tools

MAX_EXPOSURE = 3.9  # systemd's "OK" band ends here
EXPOSURE_LINE = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+) (\S+)")


def parse_unit(path: Path) -> dict[str, list[str]]:
    """Every Key=value of a unit file, as "Section.Key" -> values in order (keys may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a Key=value line: {raw!r}"
        values.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return values


def exposure(output: str) -> tuple[str, float]:
    match = EXPOSURE_LINE.search(output)
    assert match, f"no 'Overall exposure level' line in:\n{output[-2000:]}"
    return match.group(1), float(match.group(2))


def test_exposure_line_is_read():
    sample = "✓ UMask=   Files created by service are ...\n→ Overall exposure level for pias-gps.service: 0.4 SAFE 😀\n"
    assert exposure(sample) == ("pias-gps.service", 0.4)
    with pytest.raises(AssertionError):
        exposure("Overall exposure level: unknown")


@pytest.mark.parametrize("name", SERVICE_FILES)
def test_exposure_of_each_service_is_ok_or_better(name: str):
    need_tools("systemd-analyze")
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNITS / name)],
        capture_output=True, text=True, timeout=60,
    )
    unit, score = exposure(result.stdout + result.stderr)
    print(f"{unit}: exposure {score}")
    assert score <= MAX_EXPOSURE, result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", [u for u in INSTALLED_UNITS if u.endswith(".service")])
def test_exposure_of_installed_instances(installed_root: Path, name: str):
    """The enabled instances as the computer runs them (the console's own name in DeviceAllow)."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", f"--root={installed_root}", name],
        capture_output=True, text=True, timeout=60,
    )
    unit, score = exposure(result.stdout + result.stderr)
    assert unit == name
    assert score <= MAX_EXPOSURE, result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", INSTALLED_UNITS)
def test_systemd_analyze_verify_passes(installed_root: Path, name: str):
    """Checked as installed: the ExecStart program must exist in the root, and no line may be ignored."""
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={installed_root}", name],
        capture_output=True, text=True, timeout=60, cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr


@pytest.mark.slow
def test_verify_catches_a_broken_unit(installed_root: Path):
    """The check above can fail: a unit with a typo is reported."""
    unit_dir = installed_root / "usr/local/lib/systemd/system"
    broken = unit_dir / "pias-broken.service"
    broken.write_text(
        (unit_dir / "pias-gps.service").read_text().replace("Type=exec", "Type=exce"), encoding="utf-8"
    )
    try:
        result = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", f"--root={installed_root}", "pias-broken.service"],
            capture_output=True, text=True, timeout=60, cwd="/",
        )
    finally:
        broken.unlink()
    assert "Type=exce" in result.stderr or "service type" in result.stderr


@pytest.mark.parametrize("name", SERVICE_FILES)
def test_every_service_keeps_the_house_hardening(name: str):
    unit = parse_unit(UNITS / name)
    s = {k.removeprefix("Service."): v for k, v in unit.items() if k.startswith("Service.")}
    assert s["User"] == ["pias"] and s["Group"] == ["pias"]
    assert s["ProtectSystem"] == ["strict"]
    assert s["ProtectHome"] == ["yes"]
    assert s["PrivateTmp"] == ["yes"]
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["CapabilityBoundingSet"] == [""]
    assert s["MemoryDenyWriteExecute"] == ["yes"]
    assert s["DevicePolicy"] == ["closed"]
    assert s["StateDirectory"] == ["pias"]
    assert "RestrictAddressFamilies" in s and "SystemCallFilter" in s
    # The data folder is the only writable path (plus the offload drive where it is used).
    assert set(s.get("ReadWritePaths", [])) <= {"-/media/pias"}
    assert s["EnvironmentFile"] == ["/etc/pias/pias.env"]
    assert all(cmd.startswith("/opt/pias/venv/bin/pias --home /var/lib/pias ") for cmd in s["ExecStart"])


def test_consoles_get_only_their_own_tty():
    for name in ("pias-terminal@.service", "pias-display@.service"):
        s = parse_unit(UNITS / name)
        assert s["Service.TTYPath"] == ["/dev/%I"]
        assert s["Service.StandardInput"] == ["tty"]
        assert s["Service.Restart"] == ["always"]
        assert "/dev/%I rw" in s["Service.DeviceAllow"]
        assert s["Unit.Conflicts"] == ["getty@%i.service serial-getty@%i.service"]
    display = parse_unit(UNITS / "pias-display@.service")
    assert display["Service.PrivateNetwork"] == ["yes"]
    assert sorted(display["Service.DeviceAllow"]) == ["/dev/%I rw", "char-alsa rw"]


def test_gps_reaches_serial_adapters_and_nothing_else():
    s = parse_unit(UNITS / "pias-gps.service")
    assert sorted(s["Service.DeviceAllow"]) == ["char-ttyACM rw", "char-ttyUSB rw"]
    assert s["Service.PrivateNetwork"] == ["yes"]
    assert s["Service.RestrictAddressFamilies"] == ["AF_UNIX"]
    assert s["Service.Restart"] == ["always"]
    assert "--port ${PIAS_GPS_PORT}" in s["Service.ExecStart"][0]


def test_offload_runs_on_the_usb_mount_and_on_the_timer():
    service = parse_unit(UNITS / "pias-offload.service")
    assert service["Service.Type"] == ["oneshot"]
    assert service["Install.WantedBy"] == ["media-pias.mount"]
    assert "--to ${PIAS_OFFLOAD_TO}" in service["Service.ExecStart"][0]
    assert service["Service.PrivateDevices"] == ["yes"]
    timer = parse_unit(UNITS / "pias-offload.timer")
    assert timer["Install.WantedBy"] == ["timers.target"]
    assert "Timer.OnUnitInactiveSec" in timer
    mount = parse_unit(UNITS / "media-pias.mount")
    assert mount["Mount.Where"] == ["/media/pias"]
    assert mount["Mount.What"] == ["/dev/disk/by-label/PIAS"]
    assert {"nosuid", "nodev", "noexec"} <= set(mount["Mount.Options"][0].split(","))


@pytest.mark.parametrize("name", UNIT_FILES)
def test_unit_files_name_no_path_of_a_build_machine(name: str):
    text = (UNITS / name).read_text(encoding="utf-8")
    assert "/home/" not in text and "/tmp/" not in text and "/work" not in text


@pytest.mark.parametrize(("target", "runs"), [
    ("http://10.20.0.5:8080/pias", True),        # the endpoint: the command itself finds out
    ("/media/pias/bundles", False),              # the drive is not mounted here
    ("/media/pias", False),
    ("{tmp}", True),                             # another folder that exists
    ("{tmp}/missing", False),
])
def test_offload_condition_skips_a_folder_that_is_not_there(tmp_path: Path, target: str, runs: bool):
    """The ExecCondition= line as systemd runs it: $$ is a dollar sign, the rest is sh."""
    line = parse_unit(UNITS / "pias-offload.service")["Service.ExecCondition"][0]
    argv = shlex.split(line.replace("$$", "$"))
    assert argv[:2] == ["/bin/sh", "-c"]
    if Path("/media/pias").is_mount():
        pytest.skip("an offload drive is mounted on this machine")
    env = {"PATH": "/usr/bin:/bin", "PIAS_OFFLOAD_TO": target.format(tmp=tmp_path)}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert (result.returncode == 0) is runs, result.stderr
