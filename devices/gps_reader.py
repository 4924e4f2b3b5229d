"""The serial GPS reader: a port that may be missing, unplugged, at the wrong speed or full of noise.

It owns the port and nothing else: bytes go through devices.nmea and
devices.fix, and what comes out (fixes, and a status saying plainly which
state the receiver is in) goes to callbacks. It knows nothing of ships,
tracks or databases. A plain threading.Event stops it; every wait in here is
bounded by the read timeout or the event itself.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

import serial

from devices.fix import DEFAULT_NOT_BEFORE, Fix, FixAssembler, Mode
from devices.nmea import DECODED, IGNORED, Framer, Reject, decode, new_counts

DECODED_CACHE = 256  # distinct repeated lines remembered (a receiver has a few dozen)
_TIMED = frozenset({b"RMC", b"GGA", b"GNS", b"GLL", b"ZDA"})
_MISSING = object()

# The rates receivers use, in gpsd's hunting order.
BAUD_RATES = (4800, 9600, 19200, 38400, 57600, 115200)
DEFAULT_BAUD = 9600
SENTENCE_GRACE = 1.5  # seconds of bytes without a sentence before calling it "no valid sentence"


class State(StrEnum):
    NO_PORT = "no_port"  # the port cannot be opened (missing, unplugged, in use)
    NO_BYTES = "no_bytes"  # open, but nothing arrives (cable, power)
    NO_VALID_SENTENCE = "no_valid_sentence"  # bytes, but no sentence passes (wrong baud?)
    NO_FIX = "no_fix"  # sentences, but no usable position
    FIX_2D = "2d"
    FIX_3D = "3d"


_2D_MODES = frozenset({Mode.FIX_2D, Mode.DEAD_RECKONING, Mode.MANUAL})


@dataclass(frozen=True)
class Status:
    """What the reader can say about the receiver right now."""

    state: State
    port: str
    baud: int | None
    at: datetime
    last_fix: Fix | None = None
    fix_age: float | None = None  # seconds since the last fix arrived (host clock)
    counters: dict[str, int] = field(default_factory=dict)
    detail: str = ""  # the last port error, for the log


class Pipeline:
    """Bytes in, fixes out: framing, checksums, decoding, merging and plausibility, all counted.

    Receivers repeat many sentences word for word every second (GSA while the
    same satellites are in use, GSV, VTG at a steady speed, proprietary
    status lines); their decoding is remembered, keyed by the exact bytes, so
    each is checked and decoded once. Every line is still counted.
    """

    def __init__(
        self,
        *,
        max_speed_knots: float = 35.0,
        not_before: date = DEFAULT_NOT_BEFORE,
        repair_dates: bool = True,
        remember_lines: int = DECODED_CACHE,
    ) -> None:
        self.remember_lines = remember_lines
        self.counts = new_counts()
        self.framer = Framer(self.counts)
        self._decoded: dict[bytes, object] = {}
        self.assembler = FixAssembler(
            self.counts, max_speed_knots=max_speed_knots, not_before=not_before, repair_dates=repair_dates
        )

    def feed(self, data: bytes, received: datetime) -> list[Fix]:
        fixes: list[Fix] = []
        counts = self.counts
        add = self.assembler.add
        cache = self._decoded
        decoded = ignored = 0
        for line in self.framer.feed(data):
            s = cache.get(line, _MISSING)
            if s is _MISSING:
                s = decode(line)
                if line[3:6] not in _TIMED:  # a timestamped sentence never comes twice
                    if len(cache) >= self.remember_lines:
                        cache.clear()
                    cache[line] = s
            if s is None:
                ignored += 1
            elif type(s) is Reject:
                counts[s] += 1
            else:
                decoded += 1
                fix = add(s, received)
                if fix is not None:
                    fixes.append(fix)
        counts[DECODED] += decoded
        counts[IGNORED] += ignored
        return fixes

    def flush(self) -> list[Fix]:
        fix = self.assembler.flush()
        return [] if fix is None else [fix]

    def reset(self) -> list[Fix]:
        """After a reopen or a speed change: drop the partial line, close the second in progress."""
        self.framer.reset()
        return self.flush()

    @property
    def pending(self) -> bool:
        return self.assembler.has_open_epoch

    @property
    def valid_sentences(self) -> int:
        return self.counts[DECODED] + self.counts[IGNORED]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class GpsReader:
    """Reads one serial port until stopped, reopening it whenever it goes away.

    `baud` is a rate, or "auto": then the rates in BAUD_RATES are tried in turn
    whenever bytes arrive for `hunt_seconds` without one valid sentence, and the
    rate that worked is kept for reopening (`good_baud`).
    """

    def __init__(
        self,
        port: str,
        baud: int | str = "auto",
        *,
        on_fix: Callable[[Fix], None],
        on_status: Callable[[Status], None] | None = None,
        stop: threading.Event | None = None,
        initial_baud: int | None = None,
        max_speed_knots: float = 35.0,
        not_before: date = DEFAULT_NOT_BEFORE,
        stale_seconds: float = 10.0,
        hunt_seconds: float = 3.0,
        quiet_seconds: float = 3.0,
        status_interval: float = 1.0,
        backoff_start: float = 1.0,
        backoff_max: float = 30.0,
        read_timeout: float = 0.25,
        epoch_idle: float = 0.4,
        monotonic: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if baud != "auto" and not isinstance(baud, int):
            raise ValueError(f"baud must be a rate or 'auto', not {baud!r}")
        self.port = port
        self.auto = baud == "auto"
        self.bauds = BAUD_RATES
        start = baud if isinstance(baud, int) else (initial_baud or DEFAULT_BAUD)
        self.baud: int = start
        self.good_baud: int | None = None if self.auto else start
        self.on_fix = on_fix
        self.on_status = on_status
        self.stop = stop or threading.Event()
        self.pipeline = Pipeline(max_speed_knots=max_speed_knots, not_before=not_before)
        self.stale_seconds = stale_seconds
        self.hunt_seconds = hunt_seconds
        self.quiet_seconds = quiet_seconds
        self.status_interval = status_interval
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self.read_timeout = read_timeout
        self.epoch_idle = epoch_idle
        self.monotonic = monotonic
        self.wallclock = wallclock
        self.opens = 0
        self.detail = ""
        self._serial: serial.Serial | None = None
        self._last_bytes: float | None = None
        self._first_bytes: float | None = None
        self._last_valid: float | None = None
        self._last_fix: Fix | None = None
        self._last_fix_at: float | None = None
        self._last_status_at = float("-inf")
        self._last_state: State | None = None
        self._reopened = False

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        """Read until the stop event is set; never raises for anything the port or the input does."""
        delay = self.backoff_start
        while not self.stop.is_set():
            try:
                self._serial = self._open()
            except (serial.SerialException, OSError, ValueError) as exc:
                self.detail = str(exc)
                self._status(force=True)
                self.stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            self.opens += 1
            self._reopened = self.opens > 1
            self.detail = ""
            valid_before = self.pipeline.valid_sentences
            try:
                self._read_until_lost()
            except (serial.SerialException, OSError) as exc:
                self.detail = str(exc)
            finally:
                self._close()
            if self.pipeline.valid_sentences > valid_before:
                delay = self.backoff_start  # it worked: come back quickly
            self._status(force=True)
            if not self.stop.is_set():
                self.stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
        self._status(force=True)

    def _open(self) -> serial.Serial:
        baud = self.good_baud or self.baud
        ser = serial.Serial(self.port, baud, timeout=self.read_timeout, exclusive=True)
        self.baud = baud
        return ser

    def _close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                ser.close()
        self._deliver(self.pipeline.reset())

    def _read_until_lost(self) -> None:
        ser = self._serial
        assert ser is not None
        pipeline = self.pipeline
        now = self.monotonic()
        self._last_bytes = None
        self._first_bytes = None
        self._last_valid = None
        hunt_from = now
        bytes_since_hunt = False
        self._status(force=True)
        while not self.stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            now = self.monotonic()
            if data:
                if self._first_bytes is None:
                    self._first_bytes = now
                self._last_bytes = now
                bytes_since_hunt = True
                before = pipeline.valid_sentences
                fixes = pipeline.feed(data, self.wallclock())
                if pipeline.valid_sentences > before:
                    self._last_valid = now
                    self.good_baud = self.baud
                    hunt_from = now
                self._deliver(fixes)
            elif pipeline.pending and self._last_bytes is not None and now - self._last_bytes >= self.epoch_idle:
                self._deliver(pipeline.flush())
            if (
                self.auto
                and bytes_since_hunt
                and now - max(hunt_from, self._last_valid or hunt_from) >= self.hunt_seconds
            ):
                self._next_baud(ser)
                hunt_from = now
                bytes_since_hunt = False
            self._status()

    def _next_baud(self, ser: serial.Serial) -> None:
        rates = self.bauds
        i = rates.index(self.baud) if self.baud in rates else -1
        self.baud = rates[(i + 1) % len(rates)]
        self.good_baud = None
        self._first_bytes = None
        ser.baudrate = self.baud
        ser.reset_input_buffer()
        self._deliver(self.pipeline.reset())

    def _deliver(self, fixes: list[Fix]) -> None:
        for fix in fixes:
            now = self.monotonic()
            gap = self._last_fix_at is not None and now - self._last_fix_at > self.stale_seconds
            if (gap or self._reopened) and self._last_fix is not None and not fix.after_loss:
                fix = fix._replace(after_loss=True)
            self._reopened = False
            self._last_fix = fix
            self._last_fix_at = now
            self.on_fix(fix)

    # -- status -------------------------------------------------------------------------

    def state(self, now: float | None = None) -> State:
        now = self.monotonic() if now is None else now
        if self._serial is None:
            return State.NO_PORT
        if self._last_bytes is None or now - self._last_bytes > self.quiet_seconds:
            return State.NO_BYTES
        if self._last_valid is None or now - self._last_valid > self.quiet_seconds:
            # The first line after opening is usually cut: give a whole sentence time to arrive.
            if self._first_bytes is not None and now - self._first_bytes < SENTENCE_GRACE:
                return State.NO_BYTES
            return State.NO_VALID_SENTENCE
        fix = self._last_fix
        if fix is None or self._last_fix_at is None or now - self._last_fix_at > self.stale_seconds:
            return State.NO_FIX
        return State.FIX_2D if fix.mode in _2D_MODES else State.FIX_3D

    def status(self) -> Status:
        now = self.monotonic()
        age = None if self._last_fix_at is None else max(0.0, now - self._last_fix_at)
        return Status(
            state=self.state(now),
            port=self.port,
            baud=self.baud if self._serial is not None else self.good_baud,
            at=self.wallclock(),
            last_fix=self._last_fix,
            fix_age=age,
            counters=dict(self.pipeline.counts),
            detail=self.detail,
        )

    def _status(self, force: bool = False) -> None:
        if self.on_status is None:
            return
        now = self.monotonic()
        state = self.state(now)
        if force or state != self._last_state or now - self._last_status_at >= self.status_interval:
            self._last_state = state
            self._last_status_at = now
            self.on_status(self.status())
