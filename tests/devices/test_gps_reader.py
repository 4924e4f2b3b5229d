"""The serial reader end to end over real pseudo-terminals: unplug, replug, noise, wrong baud, no fix.

A pseudo-terminal is a real tty: pyserial opens, locks and configures it as it
would a USB receiver. The receiver's port is reached through a symlink, like
the /dev/serial/by-id/ path in a ship's config, so "replugging" is a new
pseudo-terminal behind the same name.
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devices.gps_reader import State
from devices.nmea import BYTES, Reject
from devices.simulator import PtySink, RouteSimulator, SimOptions, Voyage, Waypoint, epoch_sentences

ROUTE = [Waypoint(-3.4963, -73.0906), Waypoint(-3.3, -73.2)]
# Short waits so the tests run fast; the fix goes stale only after 5 s, so that a
# busy machine starving the reader thread for a moment is not taken for a lost fix.
FAST = {"status_interval": 0.02, "quiet_seconds": 0.5, "stale_seconds": 5.0, "epoch_idle": 0.1}


class Receiver:
    """A simulated receiver sending a burst every `period` seconds into whichever pty is plugged in."""

    def __init__(self, period: float = 0.05, void: bool = False, noise: bool = False) -> None:
        self.sim = RouteSimulator(Voyage(ROUTE, 9.0), SimOptions(rate_hz=1 / period, seed=5))
        self.period = period
        self.void = void
        self.noise = noise
        self.rng = random.Random(11)
        self.sink: PtySink | None = None
        self.lock = threading.Lock()
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def plug(self, link: Path, baud: int | None = None) -> PtySink:
        sink = PtySink(baud=baud, write_timeout=0.2)
        tmp = link.with_name(link.name + ".new")
        os.symlink(sink.path, tmp)
        os.replace(tmp, link)
        with self.lock:
            self.sink = sink
        return sink

    def unplug(self) -> None:
        with self.lock:
            sink, self.sink = self.sink, None
        if sink is not None:
            sink.close()

    def garbage(self) -> bytes:
        kind = self.rng.randrange(4)
        if kind == 0:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 80)))
        if kind == 1:
            return b"$GPGGA,1234"  # a sentence cut short
        if kind == 2:
            return b"$GPTXT," + b"X" * 400 + b"\r\n"  # overlong
        return b"\x00\x00\x00\r\n"

    def _run(self) -> None:
        bursts = self.sim.bursts()
        while not self.stop.wait(self.period):
            t, data, _pos = next(bursts)
            if self.void:
                when = self.sim.start + timedelta(seconds=t)
                data = "".join(s + "\r\n" for s in epoch_sentences(when, None)).encode()
            if self.noise:
                data = self.garbage() + data
            with self.lock:
                if self.sink is not None:
                    self.sink.write(data)
                    self.sent += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.unplug()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**options) -> Receiver:
        r = Receiver(**options)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_fixes_flow_and_the_status_says_3d(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    rx = receiver()
    rx.plug(link)
    reader = running_readers(str(link), 9600, **FAST)
    assert until(lambda: len(reader.fixes) >= 10)
    assert until(lambda: reader.saw(State.FIX_3D))
    status = reader.reader.status()
    assert status.state == State.FIX_3D
    assert status.last_fix is not None and status.fix_age is not None and status.fix_age < FAST["stale_seconds"]
    assert status.counters["fixes"] >= 10 and status.port == str(link) and status.baud == 9600
    times = [f.time for f in reader.fixes]
    assert times == sorted(times)


def test_unplug_then_replug_behind_the_same_name(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "usb-u-blox_GNSS_receiver-if00"
    rx = receiver()
    rx.plug(link)
    reader = running_readers(str(link), 9600, **FAST)
    assert until(lambda: len(reader.fixes) >= 5)

    rx.unplug()  # the cable comes out: reads fail, the device node goes away
    assert until(lambda: reader.reader.state() == State.NO_PORT)
    assert reader.reader.detail  # the port error is kept for the log
    before = len(reader.fixes)
    time.sleep(0.3)  # a few reopen attempts against a missing port must not hurt
    assert reader.thread.is_alive()

    rx.plug(link)
    assert until(lambda: len(reader.fixes) >= before + 5)
    assert reader.reader.opens >= 2
    assert reader.fixes[before].after_loss  # the track knows there is a gap here
    assert not any(f.after_loss for f in reader.fixes[before + 1:])
    states = reader.states()
    assert states.index(State.NO_PORT) < len(states) - 1 - states[::-1].index(State.FIX_3D)


def test_a_port_missing_at_start_is_waited_for(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    reader = running_readers(str(link), 9600, **FAST)
    assert until(lambda: reader.saw(State.NO_PORT))
    time.sleep(0.2)
    assert reader.fixes == [] and reader.thread.is_alive()
    rx = receiver()
    rx.plug(link)
    assert until(lambda: len(reader.fixes) >= 3)


def test_noise_between_sentences_loses_no_fix(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    rx = receiver(noise=True)
    rx.plug(link)
    reader = running_readers(str(link), 9600, **FAST)
    assert until(lambda: len(reader.fixes) >= 40, timeout=20)
    rx.close()
    counts = reader.counts
    assert counts[Reject.NOISE] + counts[Reject.TRUNCATED] + counts[Reject.OVERLONG] > 10
    # Every burst sent after the reader was listening gave its fix.
    assert counts[Reject.VOID] == 0 and counts[Reject.TOO_FAST] == 0
    assert len(reader.fixes) >= counts["epochs"] - 2


def test_wrong_baud_is_hunted_and_the_good_rate_kept(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    rx = receiver()
    rx.plug(link, baud=38400)  # the receiver talks at 38400; the reader starts at 9600
    reader = running_readers(str(link), "auto", initial_baud=9600, hunt_seconds=0.3, **FAST)
    assert until(lambda: len(reader.fixes) >= 5, timeout=20)
    assert reader.saw(State.NO_VALID_SENTENCE)
    assert reader.reader.good_baud == 38400
    assert reader.counts[Reject.NOISE] + reader.counts[Reject.NO_CHECKSUM] + reader.counts[Reject.BAD_CHECKSUM] > 0

    rx.unplug()
    assert until(lambda: reader.reader.state() == State.NO_PORT)
    hunted = len([s for s in reader.statuses if s.state == State.NO_VALID_SENTENCE])
    rx.plug(link, baud=38400)
    n = len(reader.fixes)
    assert until(lambda: len(reader.fixes) >= n + 5)
    # Reopened straight at the rate that worked: no more hunting.
    assert len([s for s in reader.statuses if s.state == State.NO_VALID_SENTENCE]) == hunted
    assert reader.reader.baud == 38400


def test_a_receiver_without_fix_logs_nothing(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    rx = receiver(void=True)
    rx.plug(link)
    reader = running_readers(str(link), 9600, **FAST)
    assert until(lambda: reader.counts[Reject.VOID] >= 10)
    assert until(lambda: reader.reader.state() == State.NO_FIX)
    assert reader.fixes == []


def test_silence_is_no_bytes_and_an_old_fix_goes_stale(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    rx = receiver()
    sink = rx.plug(link)
    reader = running_readers(str(link), 9600, **FAST)
    assert until(lambda: len(reader.fixes) >= 3)
    with rx.lock:
        rx.sink = None  # the receiver stops talking; the port stays
    assert until(lambda: reader.reader.state() == State.NO_BYTES)
    age = reader.reader.status().fix_age
    time.sleep(0.2)
    assert reader.reader.status().fix_age >= age + 0.15  # the last fix only gets older
    assert reader.reader.status().last_fix is not None
    sink.close()


def test_the_last_second_is_delivered_when_the_line_goes_quiet(tmp_path: Path, running_readers, until) -> None:
    sink = PtySink()
    try:
        reader = running_readers(sink.path, 9600, **FAST)
        assert until(lambda: reader.reader.opens > 0)
        time.sleep(0.05)
        when = datetime.now(UTC).replace(microsecond=0)
        from devices.simulator import Position

        lines = epoch_sentences(when, Position(-3.4963, -73.0906, 0.0, 0.0, False))
        sink.write("".join(s + "\r\n" for s in lines).encode())
        assert until(lambda: len(reader.fixes) == 1, timeout=3)
        assert reader.fixes[0].time == when
    finally:
        sink.close()


def test_only_one_reader_holds_the_port(tmp_path: Path, receiver, running_readers, until) -> None:
    link = tmp_path / "gps"
    rx = receiver()
    rx.plug(link)
    first = running_readers(str(link), 9600, **FAST)
    assert until(lambda: len(first.fixes) >= 2)
    second = running_readers(str(link), 9600, **FAST)
    assert until(lambda: second.saw(State.NO_PORT) and "lock" in second.reader.detail)
    n = len(first.fixes)
    assert until(lambda: len(first.fixes) >= n + 5)
    assert second.fixes == []


def test_stop_is_prompt_whatever_the_state(tmp_path: Path, running_readers, until) -> None:
    reader = running_readers(str(tmp_path / "nothing-here"), 9600, backoff_start=5.0, backoff_max=30.0)
    assert until(lambda: reader.saw(State.NO_PORT))
    began = time.monotonic()
    reader.close()
    assert time.monotonic() - began < 1.0


def test_bytes_are_counted(tmp_path: Path, running_readers, until) -> None:
    sink = PtySink()
    try:
        reader = running_readers(sink.path, 9600, **FAST)
        assert until(lambda: reader.reader.opens > 0)
        time.sleep(0.05)
        sink.write(b"hello\r\n" * 10)
        assert until(lambda: reader.counts[BYTES] == 70)
        assert reader.counts[Reject.NOISE] == 10
    finally:
        sink.close()
