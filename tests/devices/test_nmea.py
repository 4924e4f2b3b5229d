"""Framing, checksums and decoding: whatever arrives, every byte is accounted for and nothing raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.nmea import (
    BYTES,
    DECODED,
    IGNORED,
    LINE_REJECTS,
    LINES,
    MAX_LINE,
    Framer,
    Reject,
    Sentence,
    checksum,
    decode,
    new_counts,
    raw_field,
    verify,
    with_checksum,
)

RMC = "$GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A*7D"
GGA = "$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,59.9,M,23.7,M,,0000*7D"
GSA = "$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33"


def frame(data: bytes, chunks: int = 1) -> tuple[list[bytes], Framer]:
    framer = Framer(new_counts())
    out: list[bytes] = []
    step = max(1, len(data) // chunks)
    for i in range(0, len(data), step):
        out += framer.feed(data[i:i + step])
    return out, framer


def outcome_total(counts) -> int:
    return sum(counts[r] for r in LINE_REJECTS if r is not Reject.NOISE)


# -- checksums --------------------------------------------------------------------------------


def test_checksum_is_the_xor_between_the_dollar_and_the_star() -> None:
    assert checksum("GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A") == 0x7D
    assert with_checksum("GPGGA,1") == f"$GPGGA,1*{checksum('GPGGA,1'):02X}"


@pytest.mark.parametrize(
    "line, result",
    [
        (RMC, "GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A"),
        (RMC[:-2] + "7d", "GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A"),  # lower case
        (RMC[:-2] + "7E", Reject.BAD_CHECKSUM),
        (RMC[:-3], Reject.NO_CHECKSUM),
        (RMC[:-1], Reject.BAD_CHECKSUM),  # one hex digit ("*7"), as in garmin48.log
        (RMC[:-2] + "G1", Reject.BAD_CHECKSUM),
        (RMC[:-2] + "+7", Reject.BAD_CHECKSUM),
        ("$*00", ""),
        ("$", Reject.NO_CHECKSUM),
    ],
)
def test_verify(line: str, result: str) -> None:
    assert verify(line.encode()) == result


# -- framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r", b"\r\r\n"])
def test_any_line_ending(ending: bytes) -> None:
    lines, framer = frame((RMC.encode() + ending) * 3)
    assert lines == [RMC.encode()] * 3
    assert framer.counts[LINES] == 3


def test_a_partial_line_waits_for_its_end_across_reads() -> None:
    data = (RMC + "\r\n" + GGA + "\r\n").encode()
    for chunks in (2, 7, len(data)):
        lines, _ = frame(data, chunks)
        assert lines == [RMC.encode(), GGA.encode()]


def test_garbage_before_a_sentence_is_noise_and_the_sentence_is_kept() -> None:
    lines, framer = frame(b"\x00\xff\xfegarbage" + RMC.encode() + b"\r\n")
    assert lines == [RMC.encode()]
    assert framer.counts[Reject.NOISE] == 1


def test_two_sentences_run_together_resynchronise_on_the_second() -> None:
    cut = GGA[:30]
    lines, framer = frame((cut + RMC + "\r\n").encode())
    assert lines == [RMC.encode()]
    assert framer.counts[Reject.TRUNCATED] == 1
    assert framer.counts[LINES] == 2


def test_a_complete_sentence_followed_by_another_without_line_end_is_kept() -> None:
    lines, _ = frame((GGA + RMC + "\r\n").encode())
    assert lines == [GGA.encode(), RMC.encode()]


def test_non_printable_bytes_drop_the_sentence() -> None:
    bad = RMC[:20] + "\x00\x00" + RMC[20:]
    lines, framer = frame((bad + "\r\n" + RMC + "\r\n").encode())
    assert lines == [RMC.encode()]
    assert framer.counts[Reject.NON_PRINTABLE] == 1


def test_overlong_lines_are_refused_and_an_endless_one_does_not_grow() -> None:
    long_line = "$GPTXT," + "A" * (MAX_LINE + 10)
    lines, framer = frame((long_line + "\r\n" + RMC + "\r\n").encode())
    assert lines == [RMC.encode()]
    assert framer.counts[Reject.OVERLONG] == 1
    framer = Framer(new_counts())
    for _ in range(1000):
        framer.feed(b"x" * 1000)  # no line end, ever
    assert len(framer._pending) <= MAX_LINE
    assert framer.feed(b"\n" + RMC.encode() + b"\n") == [RMC.encode()]


def test_reset_counts_the_partial_line() -> None:
    framer = Framer(new_counts())
    framer.feed(RMC[:40].encode())
    framer.reset()
    assert framer.counts[Reject.TRUNCATED] == 1
    assert framer.feed(b"\n") == []


# -- decoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("talker", ["GP", "GN", "GL", "GA", "GB", "BD", "GQ", "QZ", "II", "IN"])
def test_any_talker_is_decoded(talker: str) -> None:
    s = decode(with_checksum(f"{talker}RMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A").encode())
    assert isinstance(s, Sentence)
    assert (s.sentence_type, s.talker) == ("RMC", talker)
    assert raw_field(s, "status") == "A" and raw_field(s, "lat") == "3747.0873"
    assert raw_field(s, "nav_status") == ""  # missing trailing field: empty, not an error


@pytest.mark.parametrize(
    "body",
    [
        "GPGSV,3,1,12,17,72,207,32,28,59,095,31,06,35,347,25,01,29,132,23",
        "PGRME,15.0,M,45.0,M,25.0,M",
        "PGRMC,A,218.8,100,6378137.000,298.257223563,0.0,0.0,0.0,A,3,1,1,4,30",  # proprietary, not RMC
        "GPTXT,01,01,02,ANTSTATUS=OK",
        "GYOACC,0.5",
    ],
)
def test_valid_sentences_of_other_kinds_are_ignored(body: str) -> None:
    assert decode(with_checksum(body).encode()) is None


def test_ais_is_ignored() -> None:
    line = "!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0"
    assert decode(f"{line}*{checksum(line[1:]):02X}".encode()) is None


@pytest.mark.parametrize(
    "body, reason",
    [
        ("GPRMC,030719.000,A,3747.0873", Reject.SHORT),
        ("GPGSA,A,3,17,28", Reject.SHORT),
        ("G1RMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A", Reject.MALFORMED),
        ("GP-MC,1", Reject.MALFORMED),
        (",,,", Reject.MALFORMED),
    ],
)
def test_checksummed_but_unusable(body: str, reason: Reject) -> None:
    assert decode(with_checksum(body).encode()) == reason


# -- properties ------------------------------------------------------------------------------------

sentences = st.sampled_from([RMC, GGA, GSA])
noise = st.binary(max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(noise, sentences.map(lambda s: s.encode() + b"\r\n")), max_size=30), st.integers(1, 50))
def test_any_input_is_accounted_for_and_never_raises(parts: list[bytes], chunks: int) -> None:
    data = b"".join(parts)
    lines, framer = frame(data, chunks)
    framer.reset()
    counts = framer.counts
    assert counts[BYTES] == len(data)
    for line in lines:
        assert line[:1] in (b"$", b"!") and len(line) <= MAX_LINE
        assert all(0x20 <= b < 0x7F for b in line)
        result = decode(line)
        if isinstance(result, Sentence):
            counts[DECODED] += 1
        elif result is None:
            counts[IGNORED] += 1
        else:
            assert result in LINE_REJECTS
            counts[result] += 1
    assert counts[DECODED] + counts[IGNORED] + outcome_total(counts) == counts[LINES]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(noise, sentences), max_size=10))
def test_a_sentence_after_a_line_end_always_survives_the_noise_before_it(pairs: list[tuple[bytes, str]]) -> None:
    data = b"".join(junk + b"\r\n" + s.encode() + b"\r\n" for junk, s in pairs)
    lines, _ = frame(data)
    known = {RMC.encode(), GGA.encode(), GSA.encode()}
    assert [line for line in lines if line in known] == [s.encode() for _, s in pairs]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.integers(1, 64))
def test_chunking_does_not_change_what_is_found(data: bytes, chunks: int) -> None:
    whole, _ = frame(data + b"\n")
    pieces, _ = frame(data + b"\n", chunks)
    assert whole == pieces


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="$!*"), max_size=70))
def test_checksum_round_trip(body: str) -> None:
    assert verify(with_checksum(body).encode()) == body
    spoilt = with_checksum(body)[:-2] + f"{(checksum(body) ^ 1):02X}"
    assert verify(spoilt.encode()) == Reject.BAD_CHECKSUM


bodies = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="$!*"),
                 min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(bodies, st.sampled_from([b"\r\n", b"\n", b"\r\r\n"])), max_size=20), st.integers(1, 40))
def test_clean_sentences_come_out_whole_however_the_reads_fall(items, chunks: int) -> None:
    data = b"".join(with_checksum(body).encode() + end for body, end in items)
    lines, framer = frame(data, chunks)
    assert lines == [with_checksum(body).encode() for body, _ in items]
    assert framer.counts[LINES] == len(items)
    assert all(type(verify(line)) is str for line in lines)
