"""The simulated receiver: what it writes must be what a real receiver writes, and our reader reads it back."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest

from devices.geo import haversine_m
from devices.gps_reader import Pipeline
from devices.nmea import Reject, Sentence, decode, verify
from devices.simulator import (
    PtySink,
    RouteSimulator,
    SimOptions,
    StreamSink,
    Voyage,
    Waypoint,
    epoch_sentences,
    log_lines,
    nmea_lat,
    nmea_lon,
    replay_pace,
    run_replay,
    run_route,
)

START = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
A = Waypoint(-3.4963, -73.0906, 120.0, "Mazán")
B = Waypoint(-3.4800, -73.1000)
C = Waypoint(-3.4700, -73.1100, 60.0, "Otra")


def test_sentences_have_correct_checksums_and_decode_to_the_position() -> None:
    from devices.simulator import Position

    pos = Position(-3.4963, -73.0906, 8.5, 331.0, True)
    lines = epoch_sentences(START, pos, talker="GN")
    assert [line[3:6] for line in lines] == ["GGA", "GSA", "RMC", "VTG"]
    for line in lines:
        assert type(verify(line.encode())) is str
        assert isinstance(decode(line.encode()), Sentence)
        assert len(line) <= 82
    p = Pipeline()
    fixes = p.feed("".join(x + "\r\n" for x in lines).encode(), START) + p.flush()
    (fix,) = fixes
    assert fix.time == START
    assert haversine_m(fix.lat, fix.lon, pos.lat, pos.lon) < 0.1
    assert (fix.speed_kn, fix.course, fix.sats) == (8.5, 331.0, 9)


def test_no_fix_sentences_are_void() -> None:
    p = Pipeline()
    data = "".join(x + "\r\n" for x in epoch_sentences(START, None)).encode()
    assert p.feed(data, START) + p.flush() == []
    assert p.counts[Reject.VOID] == 1


@pytest.mark.parametrize("value", [-3.99999999, 0.0, -0.00001, 59.9999999, -89.5])
def test_coordinate_text_never_shows_60_minutes(value: float) -> None:
    text, _ = nmea_lat(value)
    assert float(text[2:]) < 60
    text, _ = nmea_lon(value * 2)
    assert float(text[3:]) < 60


def test_voyage_waits_at_stops_and_moves_between() -> None:
    v = Voyage([A, B, C], speed_kn=10.0)
    assert v.at(0).moving is False and v.at(119).speed_kn == 0.0
    mid = v.at(121)
    assert mid.moving and mid.speed_kn == 10.0
    end = v.at(v.duration - 1)
    assert (end.lat, end.lon, end.moving) == (C.lat, C.lon, False)
    assert v.at(v.duration + 1) is None


def test_round_trip_goes_back_and_repeats() -> None:
    v = Voyage([A, B, C], speed_kn=10.0, round_trip=True)
    back = v.at(v.duration - 1)
    assert haversine_m(back.lat, back.lon, A.lat, A.lon) < 10
    assert v.at(v.duration * 3 + 1) is not None


def test_route_bursts_read_back_along_the_route() -> None:
    v = Voyage([A, B, C], speed_kn=10.0)
    sim = RouteSimulator(v, SimOptions(noise_m=3.0, seed=1), start=START)
    p = Pipeline()
    truth = []
    fixes = []
    for _t, data, pos in sim.bursts():
        truth.append(pos)
        fixes += p.feed(data, START)
    fixes += p.flush()
    assert len(fixes) == len(truth)
    worst = max(haversine_m(f.lat, f.lon, x.lat, x.lon) for f, x in zip(fixes, truth, strict=True))
    assert 0 < worst < 15  # three metres of wandering error, never more than a few sigma


def test_bad_checksums_and_dropouts_happen_as_asked() -> None:
    v = Voyage([A, B, C], speed_kn=10.0)
    sim = RouteSimulator(v, SimOptions(bad_checksums=0.2, dropout=0.02, dropout_seconds=10, seed=2), start=START)
    p = Pipeline()
    for _t, data, _pos in sim.bursts():
        p.feed(data, START)
    lines = p.counts["lines"]
    assert 0.15 < p.counts[Reject.BAD_CHECKSUM] / lines < 0.25
    assert p.counts[Reject.VOID] > 0


def test_speedup_spaces_receiver_time() -> None:
    sim = RouteSimulator(Voyage([A, B, C]), SimOptions(rate_hz=2, speedup=60), start=START)
    times = [t for t, _d, _p in list(sim.bursts())[:3]]
    assert times == [0.0, 30.0, 60.0]


def test_run_route_is_paced_and_stops_on_the_event() -> None:
    sim = RouteSimulator(Voyage([A, B, C], round_trip=True), SimOptions(rate_hz=50), start=START)
    stop = threading.Event()
    got: list[bytes] = []

    def write(data: bytes) -> None:
        got.append(data)
        if len(got) == 5:
            stop.set()

    assert run_route(sim, write, stop) == 5


def test_replay_follows_the_receivers_timestamps(tmp_path) -> None:
    log = tmp_path / "log.nmea"
    log.write_bytes(
        b"# header\r\n"
        + b"$GPGGA,120000.00,x*00\r\n$GPGSV,1*00\r\n$GPRMC,120000.00,x*00\r\n"
        + b"$GPGGA,120002.00,x*00\r\n$GPGGA,000000.00,x*00\r\n"
    )
    lines = log_lines(log)
    assert len(lines) == 5 and not any(line.startswith(b"#") for line in lines)
    delays = [d for d, _ in replay_pace(lines, speedup=2.0)]
    assert delays == [0.0, 0.0, 0.0, 1.0, 0.5]  # 2 s at double speed; midnight does not stall


def test_replay_into_a_stream(tmp_path) -> None:
    out = tmp_path / "copy.nmea"
    lines = [b"$GPTXT,1*00\r\n"] * 3
    sink = StreamSink.to_file(out)
    assert run_replay(lines, sink.write, threading.Event(), paced=False) == 3
    sink.close()
    assert out.read_bytes() == b"".join(lines)


def test_pty_sink_prints_a_path_a_serial_port_can_open() -> None:
    import serial

    sink = PtySink()
    try:
        assert os.path.exists(sink.path)
        with serial.Serial(sink.path, 9600, timeout=1) as ser:
            sink.write(b"$GPTXT,hello*00\r\n")
            assert ser.read(17) == b"$GPTXT,hello*00\r\n"
    finally:
        sink.close()


def test_pty_sink_at_a_fixed_speed_sends_garbage_at_any_other() -> None:
    import serial

    sink = PtySink(baud=38400)
    try:
        with serial.Serial(sink.path, 9600, timeout=1) as ser:
            sink.write(b"$GPTXT,hello*00\r\n")
            assert ser.read(17) != b"$GPTXT,hello*00\r\n"
            ser.baudrate = 38400
            sink.write(b"$GPTXT,hello*00\r\n")
            assert ser.read(17) == b"$GPTXT,hello*00\r\n"
    finally:
        sink.close()


def test_pty_sink_drops_what_nobody_reads_instead_of_blocking() -> None:
    sink = PtySink(write_timeout=0.05)
    try:
        for _ in range(1000):
            sink.write(b"x" * 1000)
            if sink.dropped:
                break
        assert sink.dropped > 0
    finally:
        sink.close()
