"""NMEA 0183 from raw serial bytes: framing, checksums and field decoding.

The framing and the checksum are ours, because a serial line carries
everything a receiver, a wrong baud rate or a loose cable can produce:
garbage, binary noise, sentences cut short by the next one, NUL padding,
merged lines. pynmea2 then only decodes one already verified line into its
fields; we never use its stream reader (it stops on the first bad byte) nor its
convenience properties (`is_valid`, `.latitude`, `.datetime`), which turn empty
fields into 0.0, misread NMEA 4.1 status fields and raise on some dates.
Whether a sentence holds a usable fix is decided from its raw text fields in
devices.fix.

Every piece of input ends up counted: as a decoded sentence, as a valid
sentence of a kind we do not use, or under one reason from `Reject`.
"""

from __future__ import annotations

import operator
from collections import Counter
from enum import StrEnum
from functools import reduce

import pynmea2
from pynmea2.types import talker as _talker

# The standard says 82 characters; receivers send longer proprietary
# sentences (MediaTek's PMTKCHN runs to 203). Beyond this it is noise or
# sentences run together, and the cap keeps a line without an end from growing.
MAX_LINE = 256

# The sentence kinds that carry position, time or fix quality.
DECODED_KINDS = frozenset({"RMC", "GGA", "GSA", "VTG", "GNS", "GLL", "ZDA"})

# Fewest fields (after the address) each kind needs for what we read from it;
# a checksummed but truncated sentence is refused rather than half-read.
MIN_FIELDS = {"RMC": 9, "GGA": 9, "GSA": 16, "VTG": 5, "GNS": 8, "GLL": 6, "ZDA": 4}

_PRINTABLE = bytes(range(0x20, 0x7F))
_PRINTABLE_CR = _PRINTABLE + b"\r"
_PRINTABLE_CRLF = _PRINTABLE + b"\r\n"
_HEX = frozenset(b"0123456789abcdefABCDEF")
_STARTS = (ord("$"), ord("!"))


class Reject(StrEnum):
    """Why a piece of input, a sentence or a second of fixes was not used. Fixed set, counted."""

    # Bytes and lines.
    NOISE = "noise"  # bytes outside any sentence (garbage, wrong baud, banners)
    NON_PRINTABLE = "non_printable"
    OVERLONG = "overlong"
    TRUNCATED = "truncated"  # cut short by the start of another sentence
    NO_CHECKSUM = "no_checksum"
    BAD_CHECKSUM = "bad_checksum"
    MALFORMED = "malformed"  # checksum right, but not a sentence that can be read
    SHORT = "short"  # too few fields for its kind
    # One receiver second (an epoch) that does not give a position.
    VOID = "void"  # receiver says no fix: status V, quality 0, FAA mode N
    SIMULATED = "simulated"  # simulator or demo mode: FAA mode S, GGA quality 8
    NO_POSITION = "no_position"  # empty latitude or longitude, or no position sentence
    BAD_COORDINATES = "bad_coordinates"  # unreadable or out of range
    NULL_ISLAND = "null_island"  # 0,0: a receiver's placeholder, not a place
    BAD_TIME = "bad_time"
    NO_DATE = "no_date"  # no date from the receiver yet
    BAD_DATE = "bad_date"  # unreadable, or plainly wrong (week rollover, 1980, 1999)
    TIME_NOT_ADVANCING = "time_not_advancing"  # same or earlier time than the last fix
    TOO_FAST = "too_fast"  # a jump faster than the ship's top speed


# Counter names that are not rejections.
BYTES = "bytes"
LINES = "lines"  # candidate sentences found by the framer
DECODED = "decoded"  # checksum-valid sentences of the kinds above, decoded
IGNORED = "ignored"  # checksum-valid sentences of other kinds (GSV, proprietary, AIS...)
EPOCHS = "epochs"
FIXES = "fixes"

LINE_REJECTS = (
    Reject.NOISE, Reject.NON_PRINTABLE, Reject.OVERLONG, Reject.TRUNCATED, Reject.NO_CHECKSUM,
    Reject.BAD_CHECKSUM, Reject.MALFORMED, Reject.SHORT,
)


def new_counts() -> Counter[str]:
    """Counters with every name present, so a status shows zeros rather than gaps."""
    counts: Counter[str] = Counter()
    for name in (BYTES, LINES, DECODED, IGNORED, EPOCHS, FIXES, *Reject):
        counts[str(name)] = 0
    return counts


def checksum(body: bytes | str) -> int:
    """XOR of the characters between the leading '$'/'!' and the '*'."""
    data = body.encode("ascii") if isinstance(body, str) else body
    return reduce(operator.xor, data, 0)


_M512 = (1 << 512) - 1
_M128 = (1 << 128) - 1


def _xor_bytes(data: bytes) -> int:
    """The same XOR, folded as one big integer: twice as fast as byte by byte, for lines up to 256 bytes."""
    x = int.from_bytes(data, "little")
    if len(data) > 64:
        if len(data) > 128:
            x ^= x >> 1024
        x = (x >> 512) ^ (x & _M512)
    x ^= x >> 256
    x = (x >> 128) ^ (x & _M128)
    x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    return x & 0xFF


def with_checksum(body: str) -> str:
    """A full sentence from its body (without '$'): '$' + body + '*HH'."""
    return f"${body}*{checksum(body):02X}"


class Framer:
    """Cuts a byte stream into candidate sentences, resynchronising on '$' and '!'.

    A line ends at LF or CR. Inside a line, every '$' or '!' starts a new
    candidate (as gpsd does): two sentences run together yield two candidates,
    the first of which normally fails its checksum. Bytes before the first
    start are noise. Nothing here raises, whatever the input.
    """

    def __init__(self, counts: Counter[str] | None = None, max_line: int = MAX_LINE) -> None:
        self.counts = counts if counts is not None else new_counts()
        self.max_line = max_line
        self._pending = b""

    def reset(self) -> None:
        """Forget a partial line (after a reopen or a baud change)."""
        if self._pending:
            self._reject_tail(self._pending)
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        counts = self.counts
        counts[BYTES] += len(data)
        if b"\r" in data and b"\r\n" not in data:
            data = data.replace(b"\r", b"\n")  # CR alone ends lines (or a CRLF split between reads)
        buf = self._pending + data if self._pending else data
        end = buf.rfind(b"\n")
        tail = buf[end + 1:]
        self._pending = tail if len(tail) <= self.max_line else self._trim_tail(tail)
        if end < 0:
            return []
        whole = buf[:end]
        clean = self._clean_lines(whole)
        if clean is not None:
            counts[LINES] += len(clean)
            return clean
        out: list[bytes] = []
        append = out.append
        limit = self.max_line + 1
        n_clean = 0
        for line in whole.split(b"\n"):
            if not line:
                continue
            # Fast path: one clean sentence on its own line, ended by CRLF or LF.
            if (
                line[0] == 36
                and len(line) <= limit
                and line.find(b"$", 1) < 0
                and line.find(b"!") < 0
                and not line.translate(None, _PRINTABLE_CR)
                and line.find(b"\r", 0, -1) < 0
            ):
                if line[-1] == 13:
                    line = line[:-1]
                    if not line:
                        continue
                elif len(line) == limit:
                    self._split(line, out)
                    continue
                n_clean += 1
                append(line)
            else:
                for part in line.split(b"\r"):
                    if part:
                        self._split(part, out)
        counts[LINES] += n_clean
        return out

    def _clean_lines(self, whole: bytes) -> list[bytes] | None:
        """The lines of a read that holds only clean sentences, checked all at once; else None.

        Counting characters over the whole read answers, in a few C calls,
        what the loop would ask line by line: every line starts with '$', has
        no other '$' or '!', no control character and no excess length.
        """
        if whole.endswith(b"\r"):
            whole = whole[:-1]
        if whole[:1] != b"$":
            return None
        sep = b"\r\n" if b"\r" in whole else b"\n"
        n = whole.count(sep) + 1
        if (
            whole.count(b"\n") != n - 1
            or whole.count(b"$") != n
            or whole.count(sep + b"$") != n - 1
            or (sep == b"\r\n" and whole.count(b"\r") != n - 1)
            or b"!" in whole
            or whole.translate(None, _PRINTABLE_CRLF)
        ):
            return None
        lines = whole.split(sep)
        if max(map(len, lines)) > self.max_line:
            return None
        return lines

    def _split(self, line: bytes, out: list[bytes]) -> None:
        counts = self.counts
        starts = [i for i, b in enumerate(line) if b in _STARTS]
        if not starts:
            counts[Reject.NOISE] += 1
            return
        if starts[0] > 0:
            counts[Reject.NOISE] += 1
        last = len(starts) - 1
        for n, start in enumerate(starts):
            end = starts[n + 1] if n < last else len(line)
            piece = line[start:end]
            counts[LINES] += 1
            if len(piece) > self.max_line:
                counts[Reject.OVERLONG] += 1
            elif piece.translate(None, _PRINTABLE):
                counts[Reject.NON_PRINTABLE] += 1
            elif n < last and not _has_checksum(piece):
                counts[Reject.TRUNCATED] += 1
            else:
                out.append(piece)

    def _trim_tail(self, tail: bytes) -> bytes:
        """A line that keeps growing without an end: keep only a sentence that may still fit."""
        cut = max(tail.rfind(b"$"), tail.rfind(b"!"))
        if cut >= 0 and len(tail) - cut <= self.max_line:
            if cut > 0:
                self._reject_tail(tail[:cut])
            return tail[cut:]
        self._reject_tail(tail)
        return b""

    def _reject_tail(self, data: bytes) -> None:
        if data[0] in _STARTS:
            self.counts[LINES] += 1
            reason = Reject.OVERLONG if len(data) > self.max_line else Reject.TRUNCATED
            self.counts[reason] += 1
        else:
            self.counts[Reject.NOISE] += 1


def _has_checksum(piece: bytes) -> bool:
    return len(piece) >= 4 and piece[-3] == 42 and piece[-2] in _HEX and piece[-1] in _HEX


# A decoded sentence is pynmea2's own object: `.talker` ("GN"), `.sentence_type`
# ("RMC") and `.data`, the raw text fields. Only those are used, never its properties.
Sentence = pynmea2.TalkerSentence


def raw_field(s: Sentence, name: str) -> str:
    """A raw text field by pynmea2's name for it; '' when the sentence is shorter."""
    idx = type(s).name_to_idx[name]
    return s.data[idx] if idx < len(s.data) else ""


# '7D' -> 0x7D for every pair of hex digits, either case: one lookup checks and converts.
_HEX_DIGITS = "0123456789abcdefABCDEF"
_HEX_PAIRS = {f"{a}{b}".encode(): int(f"{a}{b}", 16) for a in _HEX_DIGITS for b in _HEX_DIGITS}


def verify(line: bytes) -> str | Reject:
    """The sentence body (without '$'/'!' and '*HH') if the checksum is right, else why not."""
    if len(line) < 4 or line[-3] != 42:  # '*'
        return Reject.BAD_CHECKSUM if b"*" in line else Reject.NO_CHECKSUM
    given = _HEX_PAIRS.get(line[-2:])
    if given is None:
        return Reject.BAD_CHECKSUM
    body = line[1:-3]
    if _xor_bytes(body) != given:
        return Reject.BAD_CHECKSUM
    return body.decode("ascii")


def decode(line: bytes) -> Sentence | Reject | None:
    """A verified, decoded sentence; None for a valid sentence of a kind we do not use."""
    body = verify(line)
    if type(body) is not str:
        return body  # a Reject
    comma = body.find(",")
    kind = body[2:comma]
    # '!' sentences (AIS and the like) and proprietary '$P...' ones never carry our fix.
    if comma != 5 or kind not in DECODED_KINDS or line[0] != 36 or body[0] == "P":
        address = body if comma < 0 else body[:comma]
        if not address or not address.isalnum():
            return Reject.MALFORMED
        return None
    if not body[:2].isalpha():
        return Reject.MALFORMED
    try:
        # The body alone: the checksum was verified above, pynmea2 need not do it again.
        message = pynmea2.parse(body)
    except pynmea2.ParseError:
        return Reject.MALFORMED
    if len(message.data) < MIN_FIELDS[kind]:
        return Reject.SHORT
    return message


def field_index(kind: str, name: str) -> int:
    """Where pynmea2 puts a named field of a sentence kind."""
    return getattr(_talker, kind).name_to_idx[name]
