"""The terminal app's speed and size: first screen, dashboard refresh with 10,000 tickets, memory per terminal.

    python bench/tui.py [--quick] [--tickets N]

- First screen: `pias tui` (the login) and `pias display` started as real
  processes on a pseudo-terminal of 80x24, on a ship holding N tickets, timed
  from the start of the process until their first screen's text arrives.
- Dashboard refresh: the coordinator's screen re-reading everything it shows
  (the grouped queries and the table), headless, on the same ship.
- Memory: the resident set (VmRSS in /proc/PID/status) of one `pias tui`
  process and one `pias display` process, a second after their first screen.

Baselines, measured in the same run the same way: a bare Textual app showing
one line (first screen and memory), and the dashboard on the demo day's 150
tickets (refresh). Targets: first screen within 1 s, refresh within 50 ms,
at most 120 MB per terminal.

The processes run with compiled bytecode, as an installed package does (pip
compiles it): a cache folder of the run's own, filled by one warm-up start,
even when the environment says not to write bytecode.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import pty
import random
import re
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from vessel import campaign, demo, operators, tickets  # noqa: E402
from vessel import home as home_mod  # noqa: E402
from vessel.clock import FixedClock, iso  # noqa: E402
from vessel.i18n import t  # noqa: E402
from vessel.store import transaction  # noqa: E402

DAY_END = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=!$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")
BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("baseline ready")

Bare().run()
"""


# --- a ship with many tickets -------------------------------------------------------------


def busy_ship(root: Path, count: int, seed: int = 11) -> home_mod.Home:
    """A demo home whose current stop holds `count` tickets over a ten-hour day, most served.

    Built with direct inserts (tickets, steps with their times, step history),
    from a small queue simulation: the domain's own calls would spend minutes
    building what is only read here. Service times are scaled to the desks so
    the queues stay as long as on a busy real day rather than growing without
    end; at the end some tickets wait, some are at desks, a few were missed.
    """
    home = home_mod.Home(root / f"ship-{count}")
    home_mod.init(home, demo=True)
    ship = home_mod.open_ship(home, clock=FixedClock(DAY_END - timedelta(hours=10)))
    rng = random.Random(seed)
    coordinator = operators.get(ship, "coordinador")
    stop = campaign.arrive(ship, coordinator, campaign.stops(ship)[0].id)
    codes = list(stop.stations)
    desks = {c: [d.code for d in tickets.desks(ship, c)] for c in codes}
    for code_list in desks.values():
        for code in code_list:
            tickets.open_desk(ship, coordinator, code)
    start, end = DAY_END - timedelta(hours=10), DAY_END
    weights = [len(desks[c]) for c in codes]  # people go where there are desks, as the demo's profile has it

    def route() -> list[str]:
        wanted = 1 + (rng.random() < 0.4) + (rng.random() < 0.1)
        chosen: list[str] = []
        while len(chosen) < wanted:
            pick = rng.choices(codes, weights)[0]
            if pick not in chosen:
                chosen.append(pick)
        return chosen

    routes = [route() for _ in range(count)]
    demand = {c: sum(c in r for r in routes) for c in codes}
    # Each desk busy 90% of the day: the call-to-start gap (10 s on average) plus the service.
    mean_service = {c: max(5.0, 0.90 * 36000 * len(desks[c]) / max(1, demand[c]) - 10) for c in codes}
    free_at = {d: start for c in codes for d in desks[c]}
    arrivals = sorted(start + timedelta(seconds=rng.uniform(0, 36000)) for _ in range(count))
    ticket_rows, step_rows, history = [], [], []
    step_id = 0

    def iso_(moment: datetime) -> str:
        return iso(moment)

    for number, (arrived, route) in enumerate(zip(arrivals, routes, strict=True), start=1):
        priority = rng.random() < 0.1
        ticket_rows.append((number, stop.id, number, "gestante" if priority else None, iso_(arrived)))
        moment = arrived
        blocked = False
        for position, code in enumerate(route, start=1):
            step_id += 1
            if blocked or moment > end:
                step_rows.append((step_id, number, position, code, "pending", int(priority), iso_(arrived),
                                  None, None, None, 0, None, None, None, None))
                history.append((step_id, iso_(arrived), None, "pending", None))
                blocked = True
                continue
            desk = min(desks[code], key=free_at.__getitem__)
            called = max(moment, free_at[desk])
            begun = called + timedelta(seconds=rng.uniform(5, 15))
            done = begun + timedelta(seconds=rng.lognormvariate(0, 0.4) * mean_service[code])
            missed = rng.random() < 0.03
            history.append((step_id, iso_(moment), None, "waiting", None))
            if called > end:
                step_rows.append((step_id, number, position, code, "waiting", int(priority), iso_(arrived),
                                  iso_(moment), None, None, 0, None, None, None, None))
                blocked = True
                continue
            free_at[desk] = called + timedelta(minutes=1) if missed else done
            history.append((step_id, iso_(called), "waiting", "called", desk))
            if missed and called + timedelta(minutes=1) <= end:
                history.append((step_id, iso_(called + timedelta(minutes=1)), "called", "missed", desk))
                step_rows.append((step_id, number, position, code, "missed", int(priority), iso_(arrived),
                                  iso_(moment), iso_(called), iso_(called), 3, desk, None,
                                  iso_(called + timedelta(minutes=1)), None))
                moment = called + timedelta(minutes=1)
                continue
            state = "called" if begun > end else ("serving" if done > end else "done")
            if state != "called":
                history.append((step_id, iso_(begun), "called", "serving", desk))
            if state == "done":
                history.append((step_id, iso_(done), "serving", "done", desk))
            step_rows.append((step_id, number, position, code, state, int(priority), iso_(arrived), iso_(moment),
                              iso_(called), iso_(called), 1, desk, iso_(begun) if state != "called" else None,
                              iso_(done) if state == "done" else None, "served" if state == "done" else None))
            if state != "done":
                blocked = True
                continue
            moment = done
    with transaction(ship.db) as conn:
        conn.executemany(
            "INSERT INTO tickets (id, stop_id, number, priority_class, issued_at) VALUES (?, ?, ?, ?, ?)",
            ticket_rows,
        )
        conn.executemany(
            "INSERT INTO steps (id, ticket_id, position, station, state, priority, created_at, enqueued_at, "
            "called_at, first_called_at, call_count, desk, started_at, finished_at, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            step_rows,
        )
        history.sort(key=lambda h: h[1])
        conn.executemany(
            "INSERT INTO step_history (step_id, at, from_state, to_state, desk) VALUES (?, ?, ?, ?, ?)", history
        )
        conn.execute(
            "INSERT INTO counters (stop_id, name, value) VALUES (?, 'ticket', ?)", (stop.id, count)
        )
    ship.close()
    return home


def demo_day(root: Path) -> home_mod.Home:
    home = home_mod.Home(root / "demo-day")
    home_mod.init(home, demo=True)
    ship = home_mod.open_ship(home, clock=FixedClock(DAY_END))
    demo.run_day(ship, citizens_count=150, seed=7, end=DAY_END)
    ship.close()
    return home


# --- real processes on a pseudo-terminal ------------------------------------------------------


PYCACHE: dict[str, str] = {}  # PYTHONPYCACHEPREFIX for the measured processes, set by main()


def start_on_pty(argv: list[str], cols: int = 80, rows: int = 24) -> tuple[int, int, float]:
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows), **PYCACHE)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd, started


def read_until(fd: int, marker: str, timeout: float = 30.0) -> float:
    """Read the terminal's output until `marker` shows (escape sequences removed); the time it arrived."""
    seen = b""
    deadline = time.perf_counter() + timeout
    want = marker.encode()
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        if want in ANSI.sub(b"", seen):
            return time.perf_counter()
    raise RuntimeError(f"{marker!r} never appeared on the screen")


def drain(fd: int, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def stop_process(pid: int, fd: int) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, b"\x11")  # ctrl+q: the app's own quit key
    end = time.perf_counter() + 5
    while time.perf_counter() < end:
        drain(fd, 0.1)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    os.close(fd)


def first_screen(argv: list[str], marker: str, repeat: int) -> tuple[float, float]:
    """Seconds from process start to the first screen, and the process's RSS in MB a second later (medians)."""
    firsts, sizes = [], []
    for _ in range(repeat):
        pid, fd, started = start_on_pty(argv)
        try:
            shown = read_until(fd, marker)
            drain(fd, 1.0)
            sizes.append(rss_mb(pid))
        finally:
            stop_process(pid, fd)
        firsts.append(shown - started)
    return statistics.median(firsts), statistics.median(sizes)


# --- the dashboard's refresh, headless ----------------------------------------------------------


async def _refresh_times(home: home_mod.Home, rounds: int) -> list[float]:
    from tui.factory import make_app
    from tui.screens.coordinator import CoordinatorScreen

    ship = home_mod.open_ship(home, clock=FixedClock(DAY_END))
    try:
        app = make_app(ship, lang="es", actor=operators.get(ship, "coordinador"), cursor_blink=False)
        times = []
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if isinstance(app.screen, CoordinatorScreen) and app.screen.last is not None:
                    break  # mounted, and its first refresh done
            screen = app.screen
            assert isinstance(screen, CoordinatorScreen), f"landed on {screen!r}"
            for _ in range(rounds):
                s = time.perf_counter()
                screen.refresh_data()
                times.append(time.perf_counter() - s)
                await pilot.pause()
        return times
    finally:
        ship.close()


def refresh_ms(home: home_mod.Home, rounds: int) -> tuple[float, float]:
    times = asyncio.run(_refresh_times(home, rounds))
    times.sort()
    return statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, for tests")
    parser.add_argument("--tickets", type=int, help="tickets on the busy ship (default 10000, quick 300)")
    args = parser.parse_args()
    count = args.tickets or (300 if args.quick else 10_000)
    rounds = 5 if args.quick else 30
    repeat = 1 if args.quick else 5
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        s = time.perf_counter()
        busy = busy_ship(root, count)
        small = demo_day(root)
        print(f"tui bench: a ship with {count} tickets at its stop (built in {time.perf_counter() - s:.1f} s), "
              f"baseline the demo day's 150")
        bare = root / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        pias = [python, "-m", "vessel.cli", "--home", str(busy.path), "--lang", "es"]

        PYCACHE["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        first_screen([python, str(bare)], "baseline ready", 1)  # warm-up: compiles the bytecode
        first_screen([*pias, "tui"], t("tui.login.title", "es"), 1)
        first_screen([*pias, "display"], "PIAS Río Napo", 1)
        # Ours and the baseline take turns, so the load of the moment on a shared machine hits both alike.
        runs: dict[str, list[tuple[float, float]]] = {"base": [], "login": [], "display": []}
        for _ in range(repeat):
            runs["base"].append(first_screen([python, str(bare)], "baseline ready", 1))
            runs["login"].append(first_screen([*pias, "tui"], t("tui.login.title", "es"), 1))
            runs["display"].append(first_screen([*pias, "display"], "PIAS Río Napo", 1))

        def median_of(name: str) -> tuple[float, float]:
            return (statistics.median(r[0] for r in runs[name]), statistics.median(r[1] for r in runs[name]))

        def fastest(name: str) -> float:
            return min(r[0] for r in runs[name])

        base_first, base_rss = median_of("base")
        login_first, login_rss = median_of("login")
        display_first, display_rss = median_of("display")
        print(f"{'first screen (median)':<28} {'ours':>9} {'baseline':>9} {'ratio':>6}   fastest: ours, baseline")
        for label, name, first in (("  pias tui (login)", "login", login_first),
                                   ("  pias display", "display", display_first)):
            print(f"{label:<28} {first * 1000:>7.0f}ms {base_first * 1000:>7.0f}ms {first / base_first:>6.2f}"
                  f"   {fastest(name) * 1000:.0f}ms, {fastest('base') * 1000:.0f}ms")

        ours_p50, ours_p95 = refresh_ms(busy, rounds)
        base_p50, base_p95 = refresh_ms(small, rounds)
        print(f"{'dashboard refresh':<28} {'p50':>9} {'p95':>9} {'ratio':>6}")
        print(f"{f'  {count} tickets':<28} {ours_p50:>7.1f}ms {ours_p95:>7.1f}ms {ours_p50 / base_p50:>6.2f}")
        print(f"{'  150 tickets (baseline)':<28} {base_p50:>7.1f}ms {base_p95:>7.1f}ms {1.0:>6.2f}")

        print(f"{'resident memory':<28} {'ours':>9} {'baseline':>9} {'ratio':>6}")
        print(f"{'  pias tui':<28} {login_rss:>7.1f}MB {base_rss:>7.1f}MB {login_rss / base_rss:>6.2f}")
        print(f"{'  pias display':<28} {display_rss:>7.1f}MB {base_rss:>7.1f}MB {display_rss / base_rss:>6.2f}")

        worst_first = max(login_first, display_first)
        worst_rss = max(login_rss, display_rss)
        ok = worst_first <= 1.0 and ours_p95 <= 50 and worst_rss <= 120
        print(f"targets: first screen {worst_first * 1000:.0f} ms (<= 1000), refresh p95 {ours_p95:.1f} ms (<= 50), "
              f"RSS {worst_rss:.1f} MB (<= 120): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
