"""A whole campaign's costs, how they grow when the campaign doubles, and a fleet's bundles ashore.

    .venv/bin/python bench/campaign.py            # 30 days, 20,000 citizens, then 60 days, 40,000
    .venv/bin/python bench/campaign.py --quick    # 4 days, 400 citizens, then 8 days, 800

Each size runs `pias simulate-campaign`'s engine in a process of its own (8
stops, 2 desks per station, every desk and the registration desk their own
processes, the real GPS daemon on a pseudo-terminal, offload over HTTP to a
receiver on 127.0.0.1, ingest), so the peak memory read afterwards belongs to
that size alone. The baseline is the smaller campaign, measured in the same
run: the growth column is the larger's figure over the smaller's, and costs
that grow no faster than the campaign stay near 2.0.

Then several ships (demo days with different ship ids, one ministry) offload to
a folder and their bundles are ingested into one central database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one_size(days: int, citizens: int, stops: int, desks: int) -> dict:
    """Run one campaign in this process and return its figures (called in a child process)."""
    from vessel.campaign_sim import Campaign, SimParams

    tmp = Path(tempfile.mkdtemp(prefix="pias-bench-campaign-"))
    params = SimParams(stops=stops, days=days, citizens_per_stop=max(1, citizens // stops), desks=desks,
                       home=tmp / "run")
    campaign = Campaign(params, say=lambda _line: None)
    t0 = time.monotonic()
    summary = campaign.run()
    wall = time.monotonic() - t0
    db_bytes = sum(p.stat().st_size for p in campaign.home.path.glob("pias.db*"))
    out = {
        "days": days, "citizens": summary.citizens, "tickets": summary.tickets, "events": summary.events,
        "ok": summary.ok, "checks": [(c.name, c.ok, c.detail) for c in summary.checks],
        "wall_s": round(wall, 1), "db_mb": round(db_bytes / 1e6, 2), "bundle_mb": round(summary.bundle_bytes / 1e6, 2),
        "offload_s": summary.timings.get("offload_s"), "ingest_s": summary.timings.get("ingest_s"),
        "peak_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_child_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def fleet(ships: int, citizens: int) -> dict:
    """Several ships' demo days, one ministry: ingest rate per bundle and per entry."""
    from ledger import central
    from vessel import config as config_mod
    from vessel import home as home_mod
    from vessel import ledger_link

    tmp = Path(tempfile.mkdtemp(prefix="pias-bench-fleet-"))
    try:
        homes = []
        for k in range(ships):
            cfg_file = tmp / f"ship{k}.toml"
            cfg_file.write_text(config_mod.demo_text().replace('id = "pias-rio-napo"', f'id = "pias-ship-{k}"'),
                                encoding="utf-8")
            home = home_mod.Home(tmp / f"ship{k}")
            cfg = home_mod.init(home, config_file=cfg_file, demo=True)
            if homes:  # one ministry for the whole fleet: reuse the first ship's institution keys
                first = homes[0]
                (home.keys_dir / "ministry-demo").mkdir(parents=True, exist_ok=True)
                for name in ("midis.key", "midis.pub", "receipts.key", "receipts.pub"):
                    shutil.copy2(first.keys_dir / "ministry-demo" / name, home.keys_dir / "ministry-demo" / name)
                shutil.copy2(first.keys_dir / "midis.pub", home.keys_dir / "midis.pub")
            ledger_link.create_demo_keys(home, cfg)
            homes.append(home)
        registry = tmp / "ships"
        registry.mkdir()
        for home in homes:
            for pub in (home.keys_dir / "ministry-demo" / "ships").glob("*.pub"):
                shutil.copy2(pub, registry / pub.name)
        outbox = tmp / "usb"
        for home in homes:
            env = {"PIAS_HOME": str(home.path)}
            subprocess.run([sys.executable, "-m", "vessel.cli", "demo", "--citizens", str(citizens)],
                           check=True, capture_output=True, env={**os.environ, **env})
            subprocess.run([sys.executable, "-m", "vessel.cli", "offload", "--to", str(outbox)],
                           check=True, capture_output=True, env={**os.environ, **env})
        bundles = sorted(outbox.rglob("*.pias"))
        db = tmp / "central.db"
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "vessel.cli", "ingest", str(outbox), "--key",
                            str(homes[0].keys_dir / "ministry-demo" / "midis.key"), "--db", str(db),
                            "--ships", str(registry)], capture_output=True, text=True)
        took = time.monotonic() - t0
        if r.returncode != 0:
            raise SystemExit(f"fleet ingest failed: {r.stdout}{r.stderr}")
        conn = central.connect(db)
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        ships_in = conn.execute("SELECT count(DISTINCT ship_id) FROM events").fetchone()[0]
        conn.close()
        return {"ships": ships_in, "bundles": len(bundles), "entries": entries, "ingest_s": round(took, 2),
                "per_bundle_ms": round(1000 * took / max(1, len(bundles)), 1),
                "entries_per_s": round(entries / took) if took else None}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 days and 400 citizens, doubled")
    parser.add_argument("--one", nargs=4, type=int, metavar=("DAYS", "CITIZENS", "STOPS", "DESKS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(*args.one)))
        return 0
    days, citizens = (4, 400) if args.quick else (30, 20_000)
    stops, desks = 8, 2
    rows = []
    for d, c in ((days, citizens), (days * 2, citizens * 2)):
        print(f"running a {d}-day campaign with {c} citizens...", flush=True)
        r = subprocess.run([sys.executable, __file__, "--one", str(d), str(c), str(stops), str(desks)],
                           capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            print(r.stderr[-2000:], file=sys.stderr)
            return 1
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    base, big = rows
    print()
    scale = big["citizens"] / base["citizens"]
    print(f"{'figure':<22} {base['days']:>3} days {big['days']:>4} days   growth (x{scale:.1f})")
    for key, label in (("citizens", "citizens"), ("events", "events"), ("wall_s", "wall time, s"),
                       ("peak_self_mb", "peak RSS orchestr., MB"), ("peak_child_mb", "peak RSS any child, MB"),
                       ("db_mb", "database, MB"), ("bundle_mb", "bundles, MB"), ("offload_s", "offload, s"),
                       ("ingest_s", "ingest, s")):
        a, b = base[key], big[key]
        growth = f"{b / a:.2f}" if a else "-"
        print(f"{label:<22} {a:>9} {b:>9}   {growth}")
    for r in rows:
        bad = [name for name, ok, _ in r["checks"] if not ok]
        print(f"checks at {r['days']} days: {'all passed' if not bad else 'FAILED: ' + ', '.join(bad)}")
    peak = max(max(r["peak_self_mb"], r["peak_child_mb"]) for r in rows)
    print(f"target: peak memory of any process < 300 MB: {peak} MB ({'met' if peak < 300 else 'NOT met'})")
    ships, per_ship = (3, 50) if args.quick else (6, 150)
    print(f"\nfleet: {ships} ships' demo days ({per_ship} citizens each) into one central database")
    f = fleet(ships, per_ship)
    print(f"  {f['ships']} ships, {f['bundles']} bundles, {f['entries']} entries ingested in {f['ingest_s']} s: "
          f"{f['per_bundle_ms']} ms per bundle, {f['entries_per_s']} entries/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
