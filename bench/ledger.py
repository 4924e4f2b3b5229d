"""Ledger figures: append cost against a plain INSERT, verify rate, a campaign's bundle, HPKE per segment.

    .venv/bin/python bench/ledger.py            # the campaign: 30 days, 20,000 citizens
    .venv/bin/python bench/ledger.py --quick    # 2 days, 1,000 citizens (for the test suite)

Every figure is measured in this run, against a baseline measured in the same
run where there is one:
- appends: one event per transaction, as the desks record them, with
  journal_mode=WAL and synchronous=FULL: a ledger append against a plain
  INSERT of the same payload into a table (the target's ratio), and both in
  one transaction, as a ship with keys records its events. Blocks alternate
  between the three so that disk and load changes hit them alike.
- verify: the whole chain (hashes, links, keys, head signature), then again
  checking every stored head signature.
- campaign: a ledger as eight terminals and the GPS daemon would write it
  over the campaign, offloaded into one bundle (to a folder, and over HTTP to
  a receiver on 127.0.0.1) and ingested, decrypting every entry.
- HPKE: wrapping and unwrapping one data key, per recipient, per segment.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger import central, crypto, keys
from ledger.appender import Ledger, Recipient
from ledger.ingest import Ingester
from ledger.offload import FolderTarget, HttpTarget, Offloader
from ledger.receiver import Inbox, make_server
from ledger.verify import verify

SHIP = "pias-bench"
START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
GIVEN = ["María", "Rosa", "Flor de María", "Nélida", "Yésica", "José", "Segundo", "Wílder", "Ítalo", "Rómulo"]
SURNAMES = ["Grefa", "Shiguango", "Tapullima", "Coquinche", "Mamallacta", "Ñuflo", "Huatatoca", "Ahuanari"]
STATIONS = ["salud", "banco", "reniec", "programas", "mujer"]


def connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA busy_timeout = 15000")
    conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, "
                 "operator_id INTEGER, stop_id INTEGER, payload TEXT NOT NULL)")
    return conn


def iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")[:-6] + "Z"


# --- a campaign's events -------------------------------------------------------------------


def citizen_events(rng: random.Random, cid: int, t: datetime, stop: int) -> list[tuple[datetime, str, dict]]:
    """What one citizen's visit leaves in the record, as the desks write it."""
    given = rng.choice(GIVEN) + (" " + rng.choice(GIVEN) if rng.random() < 0.3 else "")
    family = f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
    dni = f"{rng.randint(10_000_000, 79_999_999)}" if rng.random() < 0.85 else None
    out = [(t, "citizen.registered", {
        "operator": 2, "stop": stop, "citizen": cid, "dni": dni, "given_names": given, "surnames": family,
        "birth_date": f"{rng.randint(1935, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "sex": rng.choice("FM"), "language": rng.choice(["es", "es", "qu", "maj"]), "conditions": [],
    })]
    route = rng.sample(STATIONS, rng.choice([1, 1, 2, 2, 3]))
    t += timedelta(seconds=40)
    out.append((t, "ticket.issued", {
        "operator": 2, "stop": stop, "ticket": cid, "number": cid % 900, "stations": route, "citizen": cid,
        "priority_class": None, "dni": dni, "name": f"{given} {family}",
    }))
    for i, station in enumerate(route):
        base = {"operator": 3 + STATIONS.index(station), "stop": stop, "ticket": cid, "number": cid % 900,
                "step": cid * 3 + i, "station": station}
        desk = f"{station}-{rng.randint(1, 2)}"
        if i:
            out.append((t, "step.queued", base))
        t += timedelta(minutes=rng.randint(5, 60))
        out.append((t, "step.called", {**base, "desk": desk, "call": 1}))
        if rng.random() < 0.1:
            t += timedelta(seconds=30)
            out.append((t, "step.recalled", {**base, "desk": desk, "call": 2}))
        t += timedelta(minutes=1)
        out.append((t, "step.started", {**base, "desk": desk}))
        t += timedelta(minutes=rng.randint(3, 15))
        notes = rng.choice([None, None, None, "control prenatal", "derivar a programas", "vacuna antitetánica"])
        out.append((t, "step.finished", {**base, "desk": desk, "outcome": "served", "notes": notes}))
    return out


def track_batch(rng: random.Random, t: datetime, stop: int | None) -> tuple[datetime, str, dict]:
    lat, lon = -3.5 + rng.random(), -73.0 - rng.random()
    points = []
    for k in range(20):
        lat += rng.uniform(-0.002, 0.002)
        lon += rng.uniform(-0.002, 0.002)
        points.append([iso(t + timedelta(seconds=30 * k)), round(lat, 6), round(lon, 6),
                       round(rng.uniform(0, 9), 1), round(rng.uniform(0, 359), 1), "3d", rng.randint(6, 14),
                       round(rng.uniform(0.6, 2.5), 1), rng.choice(["distance", "time", "course"])])
    return t, "track.batch", {"count": 20, "first": points[0][0], "last": points[-1][0],
                              "fields": ["t", "lat", "lon", "speed_kn", "course", "mode", "sats", "hdop", "reason"],
                              "points": points, "operator": None, "stop": stop}


def campaign(days: int, citizens: int, seed: int = 7) -> list[tuple[datetime, str, dict]]:
    rng = random.Random(seed)
    out: list[tuple[datetime, str, dict]] = []
    per_day = citizens // days
    cid = 0
    for day in range(days):
        morning = START + timedelta(days=day)
        stop = day // 2 + 1
        out.append((morning, "stop.arrived" if day % 2 == 0 else "desk.open",
                    {"operator": 1, "stop": stop, "community": "Santa Clotilde", "seq": stop, "by": "gps"}))
        for _ in range(per_day):
            cid += 1
            out.extend(citizen_events(rng, cid, morning + timedelta(minutes=rng.randint(0, 540)), stop))
        for k in range(144):  # a track batch every ten minutes, day and night
            out.append(track_batch(rng, morning + timedelta(minutes=10 * k), stop))
    out.sort(key=lambda e: e[0])
    return out


# --- measurements -------------------------------------------------------------------------


def bench_hpke(rounds: int) -> dict[str, tuple[float, float, int]]:
    out = {}
    for algorithm in (keys.MLKEM768_X25519, keys.X25519):
        rk = keys.generate_recipient_key("MIDIS", algorithm)
        secret = bytes(32)
        t0 = time.perf_counter()
        for _ in range(rounds):
            enc = crypto.wrap(secret, rk.public, SHIP, "0011223344556677")
        t1 = time.perf_counter()
        for _ in range(rounds):
            crypto.unwrap(enc, rk, SHIP, "0011223344556677")
        t2 = time.perf_counter()
        out[algorithm] = ((t1 - t0) / rounds * 1e6, (t2 - t1) / rounds * 1e6, len(enc))
    return out


def bench_appends(folder: Path, ship_key: keys.SigningKey, recipients: list[Recipient], block: int,
                  blocks: int, events: list) -> dict[str, float]:
    """Transactions per second of three ways to record the same events, in alternating blocks.

    "plain": the event's payload INSERTed into a table; "ledger": the event
    appended to the ledger instead; "both": the two in one transaction, as
    vessel.events.record does on a ship with keys. Also "append_us", the time
    spent inside append() per event.
    """
    import json

    conns = {name: connect(folder / f"{name}.db") for name in ("plain", "ledger", "both")}
    ledgers = {}
    for name in ("ledger", "both"):
        ledgers[name] = Ledger(SHIP, ship_key, recipients)
        ledgers[name].prepare(conns[name])
    seconds = dict.fromkeys(conns, 0.0)
    inside = [0.0]

    def one(name: str, batch: list) -> None:
        conn, ledger = conns[name], ledgers.get(name)
        t0 = time.perf_counter()
        for at, kind, payload in batch:
            conn.execute("BEGIN IMMEDIATE")
            if name != "ledger":
                conn.execute("INSERT INTO events (at, kind, operator_id, stop_id, payload) VALUES (?, ?, ?, ?, ?)",
                             (iso(at), kind, payload.get("operator"), payload.get("stop"),
                              json.dumps(payload, ensure_ascii=False, sort_keys=True)))
            if ledger is not None:
                t1 = time.perf_counter()
                ledger.append(conn, kind, at, payload)
                inside[0] += time.perf_counter() - t1
            conn.execute("COMMIT")
        seconds[name] += time.perf_counter() - t0

    order = ["plain", "ledger", "both"]
    for r in range(blocks):
        batch = events[r * block:(r + 1) * block]
        for name in order[r % 3:] + order[:r % 3]:
            one(name, batch)
    n = block * blocks
    rates = {name: n / s for name, s in seconds.items()}
    rates["append_us"] = inside[0] / (2 * n) * 1e6
    return rates


def sign_cost(key: keys.SigningKey, rounds: int) -> float:
    message = b"PIAS-LEDGER-1 head\npias-bench\n123456\n" + b"0" * 64 + b"\n"
    t0 = time.perf_counter()
    for _ in range(rounds):
        key.sign(message)
    return (time.perf_counter() - t0) / rounds * 1e6


def fill(path: Path, ship_key: keys.SigningKey, recipients: list[Recipient], events: list) -> sqlite3.Connection:
    """The campaign's ledger, written by eight terminals and the GPS daemon (each its own segments)."""
    conn = connect(path, synchronous="NORMAL")
    writers = [Ledger(SHIP, ship_key, recipients) for _ in range(9)]
    writers[0].prepare(conn)
    conn.execute("BEGIN IMMEDIATE")
    for i, (at, kind, payload) in enumerate(events):
        writer = writers[8] if kind == "track.batch" else writers[i % 8]
        writer.append(conn, kind, at, payload)
        if i % 2000 == 1999:
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
    conn.execute("COMMIT")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run: 2 days, 1,000 citizens")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temporary folder)")
    args = parser.parse_args()
    days, citizens = (2, 1_000) if args.quick else (30, 20_000)
    block, blocks = (50, 12) if args.quick else (50, 100)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        ship_key = keys.generate_signing_key(SHIP)
        midis = keys.generate_recipient_key("MIDIS")
        minsa = keys.generate_recipient_key("MINSA")
        receipts = keys.generate_signing_key("MIDIS receipts", role="receipt")
        recipients = [Recipient("MIDIS", midis.public, ("*",)), Recipient("MINSA", minsa.public, ("step.*",))]

        print(f"PIAS ledger bench ({'quick' if args.quick else 'campaign'}: {days} days, {citizens:,} citizens)")
        hpke = bench_hpke(40 if args.quick else 400)
        print("\nHPKE, one data key per recipient per segment:")
        for algorithm, (wrap_us, unwrap_us, size) in hpke.items():
            print(f"  {algorithm:<16} wrap {wrap_us:7.1f} µs   unwrap {unwrap_us:7.1f} µs   {size:5d} bytes")
        ml, x = hpke[keys.MLKEM768_X25519], hpke[keys.X25519]
        print(f"  hybrid / X25519: wrap x{ml[0] / x[0]:.2f}, unwrap x{ml[1] / x[1]:.2f}, "
              f"+{ml[2] - x[2]} bytes per recipient and segment")

        events = campaign(days, citizens)
        sample = campaign(2, 3_000, seed=11)
        rates = bench_appends(folder, ship_key, recipients, block, blocks, sample)
        plain, ratio, both_ratio = rates["plain"], rates["ledger"] / rates["plain"], rates["both"] / rates["plain"]
        print(f"\nAppends, one event per transaction, WAL + synchronous=FULL ({block * blocks:,} of each, "
              f"alternating in blocks of {block}):")
        print(f"  plain INSERT of the payload   {plain:7.0f} /s")
        print(f"  ledger append of the payload  {rates['ledger']:7.0f} /s   ratio {ratio:.2f} "
              f"(target >= 0.70: {'ok' if ratio >= 0.7 else 'MISSED'})")
        print(f"  INSERT + ledger append        {rates['both']:7.0f} /s   ratio {both_ratio:.2f} "
              f"(both in one transaction, as events.record does)")
        print(f"  append() itself  {rates['append_us']:9.0f} µs per event (the Ed25519 head signature: "
              f"{sign_cost(ship_key, 500):.0f} µs of it)")
        print(f"  plain transaction {1e6 / plain:8.0f} µs (mostly the commit's fsync)")

        t0 = time.perf_counter()
        conn = fill(folder / "ship.db", ship_key, recipients, events)
        entries = conn.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]
        print(f"\nCampaign ledger: {len(events):,} events, {entries:,} entries "
              f"(written in {time.perf_counter() - t0:.1f} s, not part of the figures)")

        t0 = time.perf_counter()
        report = verify(conn)
        fast = time.perf_counter() - t0
        assert report.ok, report.problem
        t0 = time.perf_counter()
        assert verify(conn, all_signatures=True).ok
        slow = time.perf_counter() - t0
        print(f"  verify           {entries / fast:9.0f} entries/s ({fast:.2f} s; target >= 100,000: "
              f"{'ok' if entries / fast >= 100_000 else 'MISSED'})")
        print(f"  verify, every head signature {entries / slow:9.0f} entries/s ({slow:.2f} s)")

        keys_of = {receipts.key_id: receipts.public}
        clock = iter(range(10**9))

        def now() -> str:
            return iso(START + timedelta(seconds=next(clock)))

        t0 = time.perf_counter()
        out = Offloader(conn, SHIP, "NAPO-2026-03", ship_key, keys_of, folder / "outbox", now).run(
            FolderTarget(folder / "usb"))
        offload_s = time.perf_counter() - t0
        [item] = out.bundles
        size_mb = item.size / 1e6
        center = central.connect(folder / "central.db")
        central.register(center, [ship_key.public], now())
        t0 = time.perf_counter()
        [outcome] = Ingester(center, midis, receipts, now=now).ingest_path(folder / "usb")
        ingest_s = time.perf_counter() - t0
        assert outcome.status == "imported" and outcome.events == len(events), outcome
        total = offload_s + ingest_s
        print(f"  bundle           {size_mb:9.2f} MB ({item.size / entries:.0f} bytes per entry; target <= 20 MB: "
              f"{'ok' if size_mb <= 20 else 'MISSED'})")
        print(f"  offload to a folder {offload_s:6.2f} s (verify, build, write)")
        print(f"  ingest            {ingest_s:8.2f} s (verify, decrypt {outcome.events:,} events, import)")
        print(f"  offload + ingest  {total:8.2f} s (target <= 60 s: {'ok' if total <= 60 else 'MISSED'})")

        inbox = Inbox(folder / "inbox", receipts, [ship_key.public], now=now)
        server = make_server(inbox, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        conn.execute("DELETE FROM ledger_offloads")
        t0 = time.perf_counter()
        http = Offloader(conn, SHIP, "NAPO-2026-03", ship_key, keys_of, None, now).run(
            HttpTarget(f"http://127.0.0.1:{server.server_address[1]}"))
        http_s = time.perf_counter() - t0
        server.shutdown()
        assert http.ok and http.confirmed_through == entries
        print(f"  offload over HTTP to 127.0.0.1 {http_s:6.2f} s (chunked upload, receiver checks the chain)")
        conn.close()
        center.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
