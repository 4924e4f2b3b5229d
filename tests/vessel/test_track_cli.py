"""`pias gps`, `pias gps-sim` and `pias track` as a person (or systemd) runs them: real processes, a real pty."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.fix import Fix, Mode
from vessel import config as config_mod
from vessel import home as home_mod
from vessel import track
from vessel.cli import main

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "nmea"
PIAS = [sys.executable, "-m", "vessel.cli"]


def pias(home: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*PIAS, "--home", str(home), *args], capture_output=True, text=True, timeout=60, **kw)


def start(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*PIAS, "--home", str(home), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def query(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "pias.db", timeout=15)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def until(condition, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def quick_ship(tmp_path: Path, **gps: object) -> Path:
    """The demo ship with GPS settings changed for a test (stop detection after one minute)."""
    text = config_mod.demo_text().replace("stop_minutes = 10", "stop_minutes = 1")
    for key, value in gps.items():
        text = "\n".join(
            f"{key} = {json.dumps(value)}" if line.split("=")[0].strip() == key else line
            for line in text.splitlines()
        )
    cfg = tmp_path / "ship.toml"
    cfg.write_text(text, encoding="utf-8")
    home = home_mod.Home(tmp_path / "ship")
    home_mod.init(home, config_file=cfg)
    return home.path


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    if proc.poll() is None:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=15)
    return proc.returncode, out, err


# -- the simulator's outputs --------------------------------------------------------------------------


def test_gps_sim_replays_a_capture_to_stdout(tmp_path: Path) -> None:
    log = CAPTURES / "bu353s4.log"
    run = subprocess.run(
        [*PIAS, "--home", str(tmp_path / "no-home"), "gps-sim", "--stdout", "--once", "--replay", str(log),
         "--speedup", "1000"],
        capture_output=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    expected = b"".join(line for line in log.read_bytes().splitlines(keepends=True) if not line.startswith(b"#"))
    assert run.stdout == expected


def test_gps_sim_to_a_file_and_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    out = tmp_path / "sim.nmea"
    proc = start(tmp_path / "no-home", "gps-sim", "--out", str(out), "--rate", "20", "--seed", "1")
    assert proc.stdout.readline().strip() == str(out)
    assert until(lambda: out.exists() and out.stat().st_size > 1000, timeout=10)
    code, _, err = stop_process(proc)
    assert code == 0 and err == ""
    lines = out.read_text().splitlines()
    assert lines[0].startswith("$GPGGA,") and lines[2].startswith("$GPRMC,")

    proc = subprocess.Popen([*PIAS, "--home", str(tmp_path / "no-home"), "gps-sim", "--stdout", "--rate", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    assert first.startswith(b"$GPGGA,")
    proc.stdout.close()  # the reader goes away
    assert proc.wait(10) == 0
    assert proc.stderr.read() == b""


def test_gps_sim_prints_the_pty_path_first(tmp_path: Path) -> None:
    import serial

    proc = start(tmp_path / "no-home", "gps-sim", "--rate", "20")
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/")
        with serial.Serial(path, 9600, timeout=2) as ser:
            assert b"$GP" in ser.read(200)
    finally:
        code, _, err = stop_process(proc)
    assert code == 0, err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rate", "0"], "--rate"),
        (["--bad-checksums", "2"], "--bad-checksums"),
        (["--stdout", "--baud", "38400"], "--pty"),
        (["--replay", "/nonexistent/log.nmea"], "No se puede leer"),
    ],
)
def test_gps_sim_refuses_bad_options_in_one_line(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    assert main(["--home", str(tmp_path / "no-home"), "gps-sim", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# -- the daemon ------------------------------------------------------------------------------------------


def test_gps_refuses_without_a_port_or_with_a_bad_baud(tmp_path: Path, capsys) -> None:
    home = quick_ship(tmp_path, port="")
    assert main(["--home", str(home), "gps"]) == 1
    assert "gps.port" in capsys.readouterr().err
    assert main(["--home", str(home), "gps", "--port", "/dev/null", "--baud", "fast"]) == 1
    assert "fast" in capsys.readouterr().err
    assert main(["--home", str(home), "gps", "--port", "/dev/null", "--not-before", "yesterday"]) == 1
    assert "yesterday" in capsys.readouterr().err
    assert main(["--home", str(tmp_path / "nowhere"), "gps"]) == 1
    assert "pias init" in capsys.readouterr().err


@pytest.mark.slow
def test_daemon_follows_the_simulator_arrives_departs_and_stops_cleanly(tmp_path: Path, capsys) -> None:
    home = quick_ship(tmp_path)
    sim = start(home, "gps-sim", "--rate", "20", "--speedup", "60", "--speed", "30", "--dwell", "3", "--seed", "1")
    gps = None
    try:
        port = sim.stdout.readline().strip()
        gps = start(home, "gps", "--port", port)
        # A second daemon for the same ship is refused while the first runs.
        assert until(lambda: (home / "gps.lock").exists())
        time.sleep(0.5)
        assert main(["--home", str(home), "gps", "--port", port]) == 1
        assert "Ya hay" in capsys.readouterr().err

        def mazan() -> tuple:
            return query(home, "SELECT arrived_by, departed_by FROM stops WHERE seq = 1")[0]

        assert until(lambda: mazan() == ("gps", "gps"), timeout=40)
        # Some track beyond Mazán, so that Mazán's export is only a part of it.
        assert until(lambda: query(
            home, "SELECT count(*) FROM track_points WHERE t_host > (SELECT departed_at FROM stops WHERE seq = 1)"
        )[0][0] >= 3)
        n = query(home, "SELECT count(*) FROM track_points")[0][0]
        assert n > 10
        # The status row says where the ship is, for every terminal to read.
        state, lat, sats = query(home, "SELECT state, lat, sats FROM gps_status WHERE id = 1")[0]
        assert state == "3d" and lat is not None and sats == 9

        code, out, err = stop_process(gps)
        assert code == 0, err
        assert "llegada a Mazán" in out and "salida de Mazán" in out and "detenido" in out
    finally:
        if gps is not None and gps.poll() is None:
            gps.kill()
        stop_process(sim)
    assert query(home, "SELECT state FROM gps_status")[0][0] == "stopped"
    assert query(home, "SELECT count(*) FROM track_points WHERE ledgered = 0")[0][0] == 0
    batches = query(home, "SELECT payload FROM events WHERE kind = 'track.batch'")
    sealed = sum(json.loads(p)["count"] for (p,) in batches)
    assert sealed == query(home, "SELECT count(*) FROM track_points")[0][0]
    arrived = query(home, "SELECT payload, operator_id FROM events WHERE kind = 'stop.arrived'")
    assert len(arrived) == 1 and json.loads(arrived[0][0])["by"] == "gps" and arrived[0][1] is None

    # Export what was logged.
    run = pias(home, "track", "--gpx", str(tmp_path / "t.gpx"), "--geojson", str(tmp_path / "t.geojson"))
    assert run.returncode == 0, run.stderr
    assert "puntos" in run.stdout
    root = ET.parse(tmp_path / "t.gpx").getroot()
    assert root.get("version") == "1.1"
    pts = root.findall(".//{http://www.topografix.com/GPX/1/1}trkpt")
    assert len(pts) == query(home, "SELECT count(*) FROM track_points")[0][0]
    doc = json.loads((tmp_path / "t.geojson").read_text())
    assert doc["features"][0]["geometry"]["type"] == "MultiLineString"
    run = pias(home, "track", "--gpx", str(tmp_path / "mazan.gpx"), "--stop", "Mazán")
    assert run.returncode == 0, run.stderr
    assert 0 < len(ET.parse(tmp_path / "mazan.gpx").getroot().findall(".//{*}trkpt")) < len(pts)


@pytest.mark.slow
def test_a_killed_daemon_loses_nothing_committed_and_the_next_one_seals_it(tmp_path: Path) -> None:
    home = quick_ship(tmp_path)
    sim = start(home, "gps-sim", "--rate", "20", "--speedup", "30", "--seed", "2")
    try:
        port = sim.stdout.readline().strip()
        gps = start(home, "gps", "--port", port)
        assert until(lambda: query(home, "SELECT count(*) FROM track_points")[0][0] >= 5)
        stop_process(gps, signal.SIGKILL)
        kept = query(home, "SELECT count(*) FROM track_points")[0][0]
        assert query(home, "PRAGMA integrity_check")[0][0] == "ok"
        assert query(home, "SELECT state FROM gps_status")[0][0] != "stopped"

        gps = start(home, "gps", "--port", port)  # the lock died with the process
        assert until(lambda: query(home, "SELECT count(*) FROM track_points")[0][0] > kept + 3)
        code, _, err = stop_process(gps)
        assert code == 0, err
    finally:
        stop_process(sim)
    reasons = [r for (r,) in query(home, "SELECT reason FROM track_points ORDER BY id")]
    assert reasons.count("first") == 2  # each run starts a new stretch of track
    assert query(home, "SELECT count(*) FROM track_points WHERE ledgered = 0")[0][0] == 0


# -- export refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--gpx"),
        (["--gpx", "x.gpx", "--since", "yesterday"], "--since"),
        (["--gpx", "x.gpx", "--since", "2026-11-05T00:00Z", "--until", "2026-11-04T00:00Z"], "vacío"),
        (["--gpx", "x.gpx", "--stop", "Mazán", "--since", "2026-11-04"], "--stop"),
        (["--gpx", "x.gpx"], "No hay puntos"),
        (["--gpx", "x.gpx", "--stop", "Atlantis"], "Atlantis"),
    ],
)
def test_track_refusals_are_one_line(demo_home, monkeypatch, tmp_path: Path, capsys, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--home", str(demo_home.path), "track", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.gpx").exists()


def test_track_into_a_missing_folder_says_so(ship, tmp_path: Path, capsys) -> None:
    t = datetime(2026, 11, 2, tzinfo=UTC)
    track.store_point(ship, Fix(t, t, -3.5, -73.1, 0.0, None, Mode.FIX_3D, 9, 1.0), track.FIRST)
    target = tmp_path / "missing" / "x.gpx"
    assert main(["--home", str(ship.config.home), "track", "--gpx", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and err.count("\n") == 1
