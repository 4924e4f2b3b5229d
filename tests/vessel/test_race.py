"""Eight desk processes pressing "next" on one station at once: each ticket goes to exactly one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from vessel import campaign, config, operators, tickets
from vessel import home as home_mod

WORKER = Path(__file__).with_name("race_worker.py")


@pytest.mark.slow
def test_eight_processes_claim_each_ticket_once(tmp_path: Path):
    cfg = tmp_path / "ship.toml"
    cfg.write_text(config.demo_text().replace("desks = 3", "desks = 8", 1), encoding="utf-8")
    home = home_mod.Home(tmp_path / "ship")
    home_mod.init(home, config_file=cfg, demo=True)
    ship = home_mod.open_ship(home)
    boss = operators.get(ship, "coordinador")
    campaign.arrive(ship, boss, campaign.stops(ship)[0].id)
    issued = [tickets.issue(ship, boss, ["salud"]).steps[0].id for _ in range(1000)]
    ship.close()

    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), str(home.path), f"salud-{n}", str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(1, 9)
    ]
    time.sleep(1.0)
    go.touch()
    claims: list[int] = []
    per_desk = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        ids = [int(x) for x in out.split()]
        per_desk.append(len(ids))
        claims.extend(ids)
    assert sorted(claims) == sorted(issued)  # none lost, none twice
    assert len(set(claims)) == len(claims)
    assert sum(1 for n in per_desk if n > 0) >= 4, per_desk  # they really raced

    ship = home_mod.open_ship(home)
    states = ship.conn.execute("SELECT state, count(*) FROM steps GROUP BY state").fetchall()
    assert states == [("done", 1000)]
    ship.close()
