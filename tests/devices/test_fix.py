"""Merging one receiver second into a fix, and the rules that decide what is a fix at all."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.fix import DEFAULT_NOT_BEFORE, Fix, FixAssembler, Mode, parse_coordinate, parse_ddmmyy, parse_time
from devices.nmea import EPOCHS, FIXES, Reject, Sentence, decode, new_counts, with_checksum

NOW = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)


def rmc(t="140000.00", status="A", lat="0259.0000", ns="S", lon="07324.0000", ew="W", sog="8.5",
        cog="331.0", d="041126", faa="A", talker="GP", extra="") -> str:
    return with_checksum(f"{talker}RMC,{t},{status},{lat},{ns},{lon},{ew},{sog},{cog},{d},,,{faa}{extra}")


def gga(t="140000.00", lat="0259.0000", ns="S", lon="07324.0000", ew="W", q="1", sats="09", hdop="0.9",
        alt="92.0", talker="GP") -> str:
    return with_checksum(f"{talker}GGA,{t},{lat},{ns},{lon},{ew},{q},{sats},{hdop},{alt},M,-4.0,M,,")


def gsa(mode="3", hdop="0.9", prns=("02", "05", "06", "09"), talker="GP") -> str:
    ids = ",".join(list(prns) + [""] * (12 - len(prns)))
    return with_checksum(f"{talker}GSA,A,{mode},{ids},1.5,{hdop},1.2")


def vtg(cog="331.0", sog="8.5", faa="A") -> str:
    return with_checksum(f"GPVTG,{cog},T,,M,{sog},N,15.7,K,{faa}")


def run(lines: list[str], received: datetime = NOW, **options) -> tuple[list[Fix], Counter]:
    counts = new_counts()
    asm = FixAssembler(counts, **options)
    out = []
    for line in lines:
        s = decode(line.encode())
        assert isinstance(s, Sentence), line
        fix = asm.add(s, received)
        if fix:
            out.append(fix)
    fix = asm.flush()
    if fix:
        out.append(fix)
    return out, counts


def test_rmc_gga_gsa_vtg_of_one_second_make_one_fix() -> None:
    (fix,), counts = run([gga(), gsa(), rmc(), vtg()])
    assert fix.time == datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
    assert fix.received == NOW
    assert fix.lat == pytest.approx(-(2 + 59 / 60)) and fix.lon == pytest.approx(-(73 + 24 / 60))
    assert (fix.speed_kn, fix.course, fix.mode, fix.sats, fix.hdop) == (8.5, 331.0, Mode.FIX_3D, 9, 0.9)
    assert counts[EPOCHS] == 1 and counts[FIXES] == 1
    assert not fix.after_loss


def test_seconds_are_split_on_the_timestamp() -> None:
    fixes, _ = run([gga(t="140000.00"), rmc(t="140000.00"), gga(t="140001.00"), rmc(t="140001.00")])
    assert [f.time.second for f in fixes] == [0, 1]


def test_rmc_alone_is_enough() -> None:
    (fix,), _ = run([rmc(faa="")])
    assert fix.mode == Mode.FIX_2D and fix.sats is None and fix.hdop is None


def test_gga_alone_needs_a_date_from_an_earlier_fix() -> None:
    fixes, counts = run([gga(t="235959.00")])
    assert fixes == [] and counts[Reject.NO_DATE] == 1
    fixes, _ = run([gga(t="235958.00"), rmc(t="235958.00"), gga(t="235959.00"), gga(t="000000.00")])
    assert [f.time for f in fixes] == [
        datetime(2026, 11, 4, 23, 59, 58, tzinfo=UTC),
        datetime(2026, 11, 4, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 5, 0, 0, 0, tzinfo=UTC),  # past midnight: the next day
    ]


@pytest.mark.parametrize(
    "lines, mode",
    [
        ([gga(q="1"), gsa(mode="2"), rmc()], Mode.FIX_2D),
        ([gga(q="1"), gsa(mode="3"), rmc()], Mode.FIX_3D),
        ([gga(q="1", alt=""), rmc()], Mode.FIX_2D),
        ([gga(q="2"), rmc(faa="D")], Mode.DGPS),
        ([gga(q="4"), rmc(faa="R")], Mode.RTK_FIXED),
        ([gga(q="5"), rmc(faa="F")], Mode.RTK_FLOAT),
        ([gga(q="6"), rmc(faa="E")], Mode.DEAD_RECKONING),
        ([gga(q="7"), rmc(faa="M")], Mode.MANUAL),
        ([rmc(faa="D")], Mode.DGPS),
    ],
)
def test_fix_mode(lines: list[str], mode: Mode) -> None:
    (fix,), _ = run(lines)
    assert fix.mode == mode


@pytest.mark.parametrize(
    "lines, reason",
    [
        ([rmc(status="V")], Reject.VOID),
        ([rmc(status="")], Reject.VOID),
        ([gga(q="0")], Reject.VOID),
        ([gga(q="")], Reject.VOID),  # an empty quality is not a yes
        ([gga(q="1"), rmc(status="V")], Reject.VOID),
        ([rmc(faa="N")], Reject.VOID),
        ([gga(q="8"), rmc()], Reject.SIMULATED),  # Garmin demo mode
        ([rmc(faa="S")], Reject.SIMULATED),
        ([rmc(), vtg(faa="S")], Reject.SIMULATED),
        ([rmc(lat="", ns="", lon="", ew="")], Reject.NO_POSITION),
        ([gsa(), vtg()], Reject.NO_POSITION),
        ([rmc(lat="0000.0000", ns="N", lon="00000.0000", ew="E")], Reject.NULL_ISLAND),
        ([rmc(lat="9100.0000")], Reject.BAD_COORDINATES),
        ([rmc(lon="18100.0000")], Reject.BAD_COORDINATES),
        ([rmc(lat="0261.0000")], Reject.BAD_COORDINATES),  # 61 minutes
        ([rmc(ns="X")], Reject.BAD_COORDINATES),
        ([rmc(lat="-259.0000")], Reject.BAD_COORDINATES),
        ([rmc(lat="02a9.0000")], Reject.BAD_COORDINATES),
        ([rmc(lat="12345.678")], Reject.BAD_COORDINATES),  # pynmea2 would give -123.76 degrees
        ([rmc(d="220899")], Reject.BAD_DATE),  # 1999: the April 2019 week rollover
        ([rmc(d="060180")], Reject.BAD_DATE),  # 1980: a receiver's cold-boot epoch
        ([rmc(d="2208-1")], Reject.BAD_DATE),
        ([rmc(d="320126")], Reject.BAD_DATE),
        ([rmc(t="")], Reject.BAD_TIME),
        ([rmc(t="250000.00")], Reject.BAD_TIME),
    ],
)
def test_refused_seconds_are_counted_by_reason(lines: list[str], reason: Reject) -> None:
    fixes, counts = run(lines)
    assert fixes == []
    assert counts[reason] == 1
    assert counts[EPOCHS] == 1


def test_nmea_41_nav_status_v_does_not_void_a_good_fix() -> None:
    """pynmea2's RMC.is_valid says False here (its issue 162); status A and mode A are what count."""
    (fix,), _ = run([rmc(extra=",V")])
    assert fix.mode == Mode.FIX_2D


def test_hdop_outside_the_sane_range_is_unknown() -> None:
    (fix,), _ = run([gga(hdop="99.99"), gsa(hdop="99.99"), rmc()])
    assert fix.hdop is None
    (fix,), _ = run([gga(hdop="0.00"), rmc()])
    assert fix.hdop is None
    (fix,), _ = run([gga(hdop=""), gsa(hdop="1.4"), rmc()])
    assert fix.hdop == 1.4


def test_satellites_from_gsa_when_gga_has_none() -> None:
    (fix,), _ = run([rmc(), gsa(prns=("01", "02", "03")), gsa(prns=("65", "66"), talker="GN")])
    assert fix.sats == 5


def test_combined_talker_wins_over_a_single_constellation() -> None:
    (fix,), _ = run([
        gga(talker="GP", lat="0259.1000"), gga(talker="GN", lat="0259.0000"), gga(talker="GL", lat="0259.2000"),
        rmc(talker="GN"),
    ])
    assert fix.lat == pytest.approx(-(2 + 59 / 60))


def test_speed_and_course_fall_back_on_vtg() -> None:
    (fix,), _ = run([rmc(sog="", cog=""), vtg(cog="12.5", sog="3.25")])
    assert (fix.speed_kn, fix.course) == (3.25, 12.5)


def test_leap_second_is_accepted() -> None:
    (fix,), _ = run([rmc(t="235960.00", d="311226")])
    assert fix.time == datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def test_rollover_date_is_repaired_only_when_the_host_clock_agrees() -> None:
    # 1999-08-22 + 1024 weeks = 2019-04-07: right only if the host says so too.
    old_floor = date(2019, 1, 1)
    host = datetime(2019, 4, 7, 0, 5, tzinfo=UTC)
    (fix,), _ = run([rmc(t="000431.00", d="220899")], received=host, not_before=old_floor)
    assert fix.time == datetime(2019, 4, 7, 0, 4, 31, tzinfo=UTC)
    fixes, counts = run([rmc(t="000431.00", d="220899")], received=NOW, not_before=old_floor)
    assert fixes == [] and counts[Reject.BAD_DATE] == 1
    fixes, counts = run([rmc(d="220899")], received=host, not_before=old_floor, repair_dates=False)
    assert fixes == [] and counts[Reject.BAD_DATE] == 1


def test_the_default_floor_is_recent() -> None:
    assert date(2025, 1, 1) <= DEFAULT_NOT_BEFORE
    fixes, counts = run([rmc(d="311224")])
    assert fixes == [] and counts[Reject.BAD_DATE] == 1


def test_time_must_move_forward() -> None:
    fixes, counts = run([rmc(t="140002.00"), rmc(t="140001.00"), rmc(t="140001.00"), rmc(t="140003.00")])
    assert [f.time.second for f in fixes] == [2, 3]
    assert counts[Reject.TIME_NOT_ADVANCING] == 1


def test_a_jump_faster_than_the_ship_is_refused() -> None:
    near, far = "0259.0000", "0249.0000"  # 10 minutes of latitude: 18.5 km
    fixes, counts = run([rmc(t="140000.00", lat=near), rmc(t="140001.00", lat=far), rmc(t="140002.00", lat=near)])
    assert [f.time.second for f in fixes] == [0, 2]
    assert counts[Reject.TOO_FAST] == 1


def test_a_run_of_consistent_fixes_overrules_a_wrong_anchor() -> None:
    """After a bad first fix, the real positions must not be refused for ever."""
    lines = [rmc(t="140000.00", lat="0249.0000")]  # a cold-start position 18 km off
    lines += [rmc(t=f"1400{s:02d}.00", lat="0259.0000") for s in range(1, 12)]
    fixes, counts = run(lines)
    assert counts[Reject.TOO_FAST] == 4
    assert [f.time.second for f in fixes] == [0, *range(5, 12)]


def test_the_first_fix_after_a_loss_says_so() -> None:
    fixes, _ = run([rmc(t="140000.00"), rmc(t="140001.00", status="V"), rmc(t="140002.00"), rmc(t="140003.00")])
    assert [f.after_loss for f in fixes] == [False, True, False]


def test_seconds_with_only_time_do_not_count_as_a_loss() -> None:
    zda = with_checksum("GPZDA,140001.00,04,11,2026,00,00")
    fixes, counts = run([rmc(t="140000.00"), zda, rmc(t="140002.00")])
    assert [f.after_loss for f in fixes] == [False, False]
    assert counts[Reject.NO_POSITION] == 1


def test_zda_gives_the_date() -> None:
    zda = with_checksum("GPZDA,140000.00,04,11,2026,00,00")
    (fix,), _ = run([gga(), zda])
    assert fix.time == datetime(2026, 11, 4, 14, 0, tzinfo=UTC)


def test_gns_and_gll_positions() -> None:
    gns = with_checksum("GNGNS,140000.00,0259.0000,S,07324.0000,W,AAN,12,0.8,92.0,-4.0,,")
    zda = with_checksum("GPZDA,140000.00,04,11,2026,00,00")
    (fix,), _ = run([gns, zda])
    assert fix.sats == 12 and fix.hdop == 0.8 and fix.mode == Mode.FIX_3D
    gll = with_checksum("GPGLL,0259.0000,S,07324.0000,W,140001.00,A,A")
    fixes, _ = run([rmc(), gll])
    assert [f.time.second for f in fixes] == [0, 1]
    fixes, counts = run([with_checksum("GPGLL,0259.0000,S,07324.0000,W,140001.00,V,N")])
    assert fixes == [] and counts[Reject.VOID] == 1


@pytest.mark.parametrize(
    "text, value",
    [("140000", (14, 0, 0, 0)), ("235960.5", (23, 59, 60, 500000)), ("1400", None), ("240000", None),
     ("14a000", None), ("140000.1234567", None)],
)
def test_parse_time(text: str, value: tuple | None) -> None:
    assert parse_time(text) == value


def test_parse_ddmmyy_pivots_two_digit_years_at_80() -> None:
    assert parse_ddmmyy("311279") == date(2079, 12, 31)
    assert parse_ddmmyy("010180") == date(1980, 1, 1)
    assert parse_ddmmyy("290225") is None


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["A", "V", "", "X"]),
    st.text(alphabet="0123456789.-+eE ", max_size=12),
    st.sampled_from(["N", "S", "", "E"]),
    st.text(alphabet="0123456789.-+eEnaif", max_size=12),
    st.sampled_from(["E", "W", "", "N"]),
    st.text(alphabet="0123456789.-", max_size=8),
    st.text(alphabet="0123456789-", max_size=7),
    st.sampled_from(["A", "D", "E", "N", "S", "M", "", "Z"]),
)
def test_no_field_value_crashes_or_yields_an_impossible_fix(status, lat, ns, lon, ew, sog, d, faa) -> None:
    line = with_checksum(f"GPRMC,140000.00,{status},{lat},{ns},{lon},{ew},{sog},,{d},,,{faa}")
    s = decode(line.encode())
    if not isinstance(s, Sentence):
        return
    counts = new_counts()
    asm = FixAssembler(counts)
    asm.add(s, NOW)
    fix = asm.flush()
    if fix is not None:
        assert status == "A" and faa not in ("N", "S")
        assert -90 <= fix.lat <= 90 and -180 <= fix.lon <= 180
        assert not (abs(fix.lat) < 1e-3 and abs(fix.lon) < 1e-3)
        assert fix.time.date() >= DEFAULT_NOT_BEFORE
        assert fix.speed_kn is None or fix.speed_kn >= 0
    else:
        assert sum(counts[r] for r in Reject) == 1


@settings(max_examples=300, deadline=None)
@given(st.floats(-89.999, 89.999), st.floats(-179.999, 179.999))
def test_coordinates_round_trip_through_nmea_text(lat: float, lon: float) -> None:
    from devices.simulator import nmea_lat, nmea_lon

    text, ns = nmea_lat(lat)
    assert parse_coordinate(text, ns, 2) == pytest.approx(lat, abs=1e-6)
    text, ew = nmea_lon(lon)
    assert parse_coordinate(text, ew, 3) == pytest.approx(lon, abs=1e-6)


def test_received_time_is_the_hosts() -> None:
    later = NOW + timedelta(hours=3)
    (fix,), _ = run([rmc()], received=later)
    assert fix.received == later and fix.time != later
