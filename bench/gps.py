"""GPS figures: reader throughput against bare pynmea2, and how much track the keep rules log.

    python bench/gps.py [--quick]

1. Sentences per second through the whole reader pipeline (framing, checksum,
   pynmea2 decoding of verified lines, merging, validity and plausibility
   checks), against a bare `pynmea2.parse` loop over the same lines, measured
   in the same run. Two line sets: the thirty real captures in tests/data/nmea
   (GSV and proprietary sentences included, as receivers send them), and the
   simulator's RMC/GGA/GSA/VTG stream, where every line is decoded. A third
   figure runs the captures through a real pseudo-terminal into GpsReader
   (system calls and a thread included), for information. Target: ratio >= 0.7.
2. A 1 Hz receiver (3 m of wandering error) along the demo campaign's route,
   stops and waits included, through the pipeline and the demo ship's keep
   rules (D, T and C from its config): rows kept per hour while cruising, and
   the largest distance between the raw track and the kept one (each raw fix
   against the kept segment spanning its time). Targets: <= 600 rows an hour
   cruising, <= 25 m.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pynmea2

from devices.geo import distance_to_segment_m, haversine_m
from devices.gps_reader import DECODED_CACHE, GpsReader, Pipeline
from devices.nmea import BYTES
from devices.simulator import PtySink, RouteSimulator, SimOptions, Voyage, log_lines
from vessel import config, track, track_route

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "nmea"
CHUNK = 256  # bytes per serial read, about what a USB receiver delivers at a time


def capture_lines() -> list[bytes]:
    lines: list[bytes] = []
    for log in sorted(CAPTURES.glob("*.log")):
        lines += log_lines(log)
    return lines


def simulated_lines(seconds: int) -> list[bytes]:
    cfg = config.load_demo()
    sim = RouteSimulator(Voyage(track_route.route(cfg)[:6], 9.0), SimOptions(noise_m=3, seed=1))
    out: list[bytes] = []
    for t, data, _ in sim.bursts():
        out += data.splitlines(keepends=True)
        if t >= seconds:
            break
    return out


def best_of_interleaved(runs: int, *fns: Callable[[], object]) -> list[float]:
    """Best CPU time of each function, run in turns.

    CPU time of this thread, not wall time: other processes on the machine
    then slow neither side, and taking turns evens out the rest.
    """
    best = [float("inf")] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            began = time.thread_time()
            fn()
            best[i] = min(best[i], time.thread_time() - began)
    return best


def bare_pynmea2(texts: list[str]) -> None:
    parse = pynmea2.parse
    for text in texts:
        with contextlib.suppress(pynmea2.ParseError):
            parse(text)


def whole_pipeline(data: bytes, remember_lines: int = DECODED_CACHE) -> None:
    p = Pipeline(not_before=datetime(2000, 1, 1, tzinfo=UTC).date(), remember_lines=remember_lines)
    now = datetime.now(UTC)
    for i in range(0, len(data), CHUNK):
        p.feed(data[i:i + CHUNK], now)
    p.flush()


def throughput(name: str, lines: list[bytes], runs: int) -> float:
    data = b"".join(lines)
    texts = [line.decode("ascii", "replace").rstrip("\r\n") for line in lines]
    base, ours, plain = best_of_interleaved(
        runs, lambda: bare_pynmea2(texts), lambda: whole_pipeline(data), lambda: whole_pipeline(data, 0)
    )
    n = len(lines)
    ratio = base / ours
    print(f"  {name}: {n} lines")
    print(f"    bare pynmea2.parse loop : {n / base:10,.0f} sentences/s")
    print(f"    whole reader pipeline   : {n / ours:10,.0f} sentences/s")
    print(f"    ratio pipeline/pynmea2  : {ratio:.2f}   (target >= 0.7)")
    print(f"    (without remembering repeated lines: {n / plain:,.0f} sentences/s, ratio {base / plain:.2f})")
    return ratio


def through_a_pty(lines: list[bytes]) -> None:
    data = b"".join(lines)
    sink = PtySink(write_timeout=10.0)
    stop = threading.Event()
    reader = GpsReader(sink.path, 38400, on_fix=lambda _f: None, stop=stop, read_timeout=0.05,
                       not_before=datetime(2000, 1, 1, tzinfo=UTC).date())
    thread = threading.Thread(target=reader.run, daemon=True)
    thread.start()
    while reader.opens == 0:
        time.sleep(0.01)
    began = time.perf_counter()
    for i in range(0, len(data), 4096):
        sink.write(data[i:i + 4096])
    while reader.pipeline.counts[BYTES] < len(data):
        time.sleep(0.001)
    spent = time.perf_counter() - began
    stop.set()
    thread.join(5)
    sink.close()
    print(f"  captures through a pty into GpsReader: {len(lines) / spent:,.0f} sentences/s (for information)")


def track_figures(quick: bool) -> tuple[float, float]:
    cfg = config.load_demo()
    dwell = (cfg.gps.stop_minutes + 5) * 60
    route = track_route.route(cfg, dwell_s=dwell, lead_in=True)
    if quick:
        route = route[:8]
    voyage = Voyage(route, 9.0)
    sim = RouteSimulator(voyage, SimOptions(rate_hz=1, noise_m=3.0, seed=7))
    pipeline = Pipeline()
    rule = track.KeepRule(cfg.gps)
    raw: list[tuple[float, float, float, bool]] = []  # t, lat, lon, moving
    kept: list[tuple[float, float, float]] = []
    cruising_rows = 0
    cruising_s = 0.0
    began = time.perf_counter()
    for _, data, pos in sim.bursts():
        for fix in pipeline.feed(data, sim.start):
            ft = (fix.time - sim.start).total_seconds()
            raw.append((ft, fix.lat, fix.lon, pos.moving))
            if rule.decide(fix) is not None:
                kept.append((ft, fix.lat, fix.lon))
                if pos.moving:
                    cruising_rows += 1
        if pos.moving:
            cruising_s += 1.0
    spent = time.perf_counter() - began
    hours = voyage.duration / 3600
    # Each raw fix against the kept segment that spans its time (the fixes after
    # the last kept point are not in the track yet: the next kept point covers them).
    worst = 0.0
    k = 0
    for t, lat, lon, _ in raw:
        if t > kept[-1][0]:
            break
        while k + 1 < len(kept) and kept[k + 1][0] <= t:
            k += 1
        a = kept[k]
        if k + 1 < len(kept):
            b = kept[k + 1]
            d = distance_to_segment_m(lat, lon, a[1], a[2], b[1], b[2])
        else:
            d = haversine_m(lat, lon, a[1], a[2])
        worst = max(worst, d)
    per_hour = cruising_rows / (cruising_s / 3600)
    stops = sum(1 for w in route if w.dwell_s > 0)
    print(f"  route: {len(route)} waypoints, {stops} stops, {hours:.1f} h at 9 kn, {dwell / 60:.0f} min at each stop")
    print(f"  fixes: {len(raw)} raw (1 Hz), {len(kept)} kept, simulated in {spent:.1f} s")
    print(f"  rows kept per hour cruising : {per_hour:6.0f}   (target <= 600)")
    print(f"  rows kept per hour overall  : {len(kept) / hours:6.0f}")
    print(f"  largest raw-to-kept distance: {worst:6.1f} m (target <= 25)")
    return per_hour, worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, for the test suite")
    args = parser.parse_args()
    runs = 3 if args.quick else 9
    print("1. Reader throughput")
    lines = capture_lines()
    sim_lines = simulated_lines(600 if args.quick else 3600)
    if args.quick:
        lines = lines[:4000]
    r1 = throughput("thirty real captures", lines, runs)
    r2 = throughput("simulated RMC/GGA/GSA/VTG", sim_lines, runs)
    through_a_pty(lines)
    print("2. Track kept from a 1 Hz receiver on the demo route")
    per_hour, worst = track_figures(args.quick)
    ok = min(r1, r2) >= 0.7 and per_hour <= 600 and worst <= 25
    print("targets met" if ok else "TARGETS NOT MET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
