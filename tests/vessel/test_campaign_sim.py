"""The whole campaign, small: GPS-driven stops, desks in their own processes, faults, offload and ingest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vessel.campaign_sim import SimParams, sim_config
from vessel.config import parse


def test_sim_config_is_a_valid_ship(tmp_path: Path):
    from datetime import date

    text = sim_config(SimParams(stops=3, days=6, desks=4), tmp_path, date(2026, 11, 2))
    cfg = parse(text, "sim", tmp_path)
    assert [s.community for s in cfg.stops] == ["Mazán", "Negro Urco", "Santa Clotilde"]
    assert all(s.desks == 4 for s in cfg.stations)
    assert cfg.stops[1].arrive.isoformat() == "2026-11-04"
    assert cfg.queue.recall_gap_seconds == 0


@pytest.mark.slow
def test_small_campaign_with_every_fault(tmp_path: Path):
    run = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "vessel.cli", "simulate-campaign", "--stops", "2", "--citizens", "12",
         "--fault", "all", "--keep", str(run)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PIAS_HOME": ""},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    checks = [line for line in r.stdout.splitlines() if line.startswith("[")]
    assert len(checks) == 5 and all(line.startswith("[OK]") for line in checks), r.stdout
    assert r.stdout.count("Falla inyectada") == 3
    assert (run / "central.db").exists()
