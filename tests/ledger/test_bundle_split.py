"""A long time at sea is offloaded as several bundles of bounded size, delivered and ingested in order."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

from ledger import offload as offload_mod
from vessel import campaign, ledger_link, operators, tickets
from vessel import home as home_mod


def test_many_entries_go_in_several_bundles(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(offload_mod, "MAX_BUNDLE_ENTRIES", 25)
    home = home_mod.Home(tmp_path / "ship")
    cfg = home_mod.init(home, demo=True)
    ledger_link.create_demo_keys(home, cfg)
    ship = home_mod.open_ship(home)
    ledger_link.attach(ship, home)
    boss = operators.get(ship, "coordinador")
    campaign.arrive(ship, boss, campaign.stops(ship)[0].id)
    for _ in range(40):
        tickets.issue(ship, boss, ["salud"])
    head = ship.conn.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]
    usb = tmp_path / "usb"
    report = ledger_link.offload(ship, to=str(usb))
    ship.close()
    assert report.ok, report
    spans = sorted((b.first, b.last) for b in report.bundles)
    assert all(last - first + 1 <= 25 for first, last in spans)
    assert spans[0][0] == 1 and spans[-1][1] == head
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))  # contiguous

    from vessel.cli import main

    ministry = home.keys_dir / "ministry-demo"
    db = tmp_path / "central.db"
    assert main(["--home", str(home.path), "ingest", str(usb), "--key", str(ministry / "midis.key"),
                 "--db", str(db), "--ships", str(ministry / "ships")]) == 0
    central = sqlite3.connect(db)
    assert central.execute("SELECT count(*) FROM bundles").fetchone()[0] == len(spans)
    assert central.execute("SELECT max(seq) FROM entries").fetchone()[0] == head
