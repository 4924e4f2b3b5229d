"""From verified sentences to fixes: merging one receiver second, and deciding what to trust.

A receiver reports one position in several sentences (RMC, GGA, GSA, VTG...)
stamped with the same UTC time; they are merged into one `Fix`. Validity is
decided here from the raw text fields, never from pynmea2's properties: a
position is only a fix when the receiver says so (RMC status A, GGA quality
1-7, GLL status A, a GNS mode letter), it is not a simulator's, its
coordinates are present, readable, in range and not 0,0, its date is
believable, and it does not imply a jump faster than the ship can go.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from devices.geo import KNOT_MPS, haversine_m
from devices.nmea import EPOCHS, FIXES, Reject, Sentence, field_index

# A receiver cannot be right about a date earlier than this software: older
# dates come from GPS week-number rollovers (1999, 2019) or a cold boot (1980).
DEFAULT_NOT_BEFORE = date(2025, 1, 1)
WEEK_ROLLOVER = timedelta(weeks=1024)

# Slack on the top-speed check: two noisy fixes a second apart may lie this far
# apart without the ship having moved at all.
JUMP_SLACK_M = 25.0
# Consecutive mutually consistent fixes that overrule an earlier anchor (the
# anchor was the outlier, or the receiver's clock was wrong before).
REANCHOR_AFTER = 5

# Seconds in which the receiver said it had no position: the track has a gap there.
_LOSSES = frozenset({Reject.VOID, Reject.NO_POSITION, Reject.SIMULATED})

HDOP_MIN, HDOP_MAX = 0.01, 89.99  # outside: a receiver's "unknown" (99.99, 0.00)


class Mode(StrEnum):
    NO_FIX = "no_fix"
    FIX_2D = "2d"
    FIX_3D = "3d"
    DGPS = "dgps"
    RTK_FLOAT = "rtk_float"
    RTK_FIXED = "rtk_fixed"
    DEAD_RECKONING = "dead_reckoning"
    MANUAL = "manual"
    SIMULATED = "simulated"


# GGA quality indicator -> mode ("1" is plain GPS: 2D or 3D, decided later).
_GGA_MODES = {
    "1": None, "2": Mode.DGPS, "3": Mode.FIX_3D, "4": Mode.RTK_FIXED, "5": Mode.RTK_FLOAT,
    "6": Mode.DEAD_RECKONING, "7": Mode.MANUAL,
}
# FAA mode indicator (NMEA 2.3+) -> mode ("A" is autonomous: 2D or 3D).
_FAA_MODES = {
    "A": None, "D": Mode.DGPS, "E": Mode.DEAD_RECKONING, "F": Mode.RTK_FLOAT, "R": Mode.RTK_FIXED,
    "M": Mode.MANUAL, "P": Mode.FIX_3D,
}


class Fix(NamedTuple):
    """One position: the receiver's UTC time and the host's time of reception.

    A named tuple rather than a dataclass: one is built every second, for ever,
    and a tuple is several times cheaper to make than a frozen dataclass.
    """

    time: datetime
    received: datetime
    lat: float
    lon: float
    speed_kn: float | None
    course: float | None
    mode: Mode
    sats: int | None
    hdop: float | None
    # The receiver said it had no fix (or was silent) since the previous fix: a gap in the track.
    after_loss: bool = False


# Raw field positions, from pynmea2's own field tables.
_I = field_index
RMC_TIME, RMC_STATUS = _I("RMC", "timestamp"), _I("RMC", "status")
RMC_LAT, RMC_LAT_DIR, RMC_LON, RMC_LON_DIR = (_I("RMC", n) for n in ("lat", "lat_dir", "lon", "lon_dir"))
RMC_SPEED, RMC_COURSE, RMC_DATE = _I("RMC", "spd_over_grnd"), _I("RMC", "true_course"), _I("RMC", "datestamp")
RMC_FAA = _I("RMC", "mode_indicator")
GGA_TIME, GGA_QUAL, GGA_SATS = _I("GGA", "timestamp"), _I("GGA", "gps_qual"), _I("GGA", "num_sats")
GGA_LAT, GGA_LAT_DIR, GGA_LON, GGA_LON_DIR = (_I("GGA", n) for n in ("lat", "lat_dir", "lon", "lon_dir"))
GGA_HDOP, GGA_ALT = _I("GGA", "horizontal_dil"), _I("GGA", "altitude")
GNS_TIME, GNS_MODE, GNS_SATS, GNS_HDOP = (_I("GNS", n) for n in ("timestamp", "mode_indicator", "num_sats", "hdop"))
GNS_LAT, GNS_LAT_DIR, GNS_LON, GNS_LON_DIR = (_I("GNS", n) for n in ("lat", "lat_dir", "lon", "lon_dir"))
GNS_ALT = _I("GNS", "altitude")
GLL_LAT, GLL_LAT_DIR, GLL_LON, GLL_LON_DIR = (_I("GLL", n) for n in ("lat", "lat_dir", "lon", "lon_dir"))
GLL_TIME, GLL_STATUS, GLL_FAA = _I("GLL", "timestamp"), _I("GLL", "status"), _I("GLL", "faa_mode")
GSA_FIX, GSA_HDOP = _I("GSA", "mode_fix_type"), _I("GSA", "hdop")
GSA_SATS = tuple(_I("GSA", f"sv_id{n:02d}") for n in range(1, 13))
VTG_TRACK, VTG_KNOTS, VTG_FAA = _I("VTG", "true_track"), _I("VTG", "spd_over_grnd_kts"), _I("VTG", "faa_mode")
ZDA_TIME, ZDA_DAY, ZDA_MONTH, ZDA_YEAR = (_I("ZDA", n) for n in ("timestamp", "day", "month", "year"))

_TIME_FIELD = {"RMC": RMC_TIME, "GGA": GGA_TIME, "GNS": GNS_TIME, "GLL": GLL_TIME, "ZDA": ZDA_TIME}
_POSITION_KINDS = ("RMC", "GGA", "GNS", "GLL")


def parse_time(text: str) -> tuple[int, int, int, int] | None:
    """'hhmmss[.ffffff]' -> (h, m, s, microseconds); None if unreadable. Second 60 (leap) is allowed."""
    n = len(text)
    if n < 6 or not text[:6].isdigit():
        return None
    us = 0
    if n > 6:
        frac = text[7:]
        if text[6] != "." or len(frac) > 6 or (frac and not frac.isdigit()):
            return None
        if frac:
            us = int(frac) * 10 ** (6 - len(frac))
    h, mi, sec = int(text[0:2]), int(text[2:4]), int(text[4:6])
    if h > 23 or mi > 59 or sec > 60:
        return None
    return h, mi, sec, us


def _is_decimal(text: str) -> bool:
    """Digits with at most one dot (the text is ASCII: the framer let nothing else through)."""
    return text.replace(".", "", 1).isdigit()


_SIGNS = ({"N": 1.0, "S": -1.0}, {"E": 1.0, "W": -1.0})


def parse_coordinate(value: str, hemisphere: str, degree_digits: int) -> float | None:
    """NMEA 'ddmm.mmmm' / 'dddmm.mmmm' plus N/S/E/W -> signed degrees; None if unreadable or out of range."""
    sign = _SIGNS[degree_digits == 3].get(hemisphere)
    if sign is None or not value.replace(".", "", 1).isdigit():
        return None
    dot = value.find(".")
    if (len(value) if dot < 0 else dot) > degree_digits + 2:
        return None
    degrees, minutes = divmod(float(value), 100.0)
    if minutes >= 60.0:
        return None
    result = degrees + minutes / 60.0
    if result > (90.0 if degree_digits == 2 else 180.0):
        return None
    return sign * result


def _number(text: str) -> float | None:
    return float(text) if text and _is_decimal(text) else None


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 3 else None


def _dop(text: str) -> float | None:
    value = _number(text)
    return value if value is not None and HDOP_MIN <= value <= HDOP_MAX else None


def parse_ddmmyy(text: str) -> date | None:
    """RMC date 'ddmmyy'; two-digit years pivot at 80 (1980-2079), as receivers of that era intend."""
    if len(text) != 6 or not text.isdigit():
        return None
    yy = int(text[4:6])
    try:
        return date(2000 + yy if yy < 80 else 1900 + yy, int(text[2:4]), int(text[0:2]))
    except ValueError:
        return None


def _zda_date(s: Sentence) -> date | None:
    f = s.data
    if not (f[ZDA_DAY].isdigit() and f[ZDA_MONTH].isdigit() and f[ZDA_YEAR].isdigit()):
        return None
    if len(f[ZDA_YEAR]) != 4:
        return None
    try:
        return date(int(f[ZDA_YEAR]), int(f[ZDA_MONTH]), int(f[ZDA_DAY]))
    except ValueError:
        return None


class Epoch:
    """The sentences of one receiver second, as they arrive, by kind (GSAs in a list: one per constellation)."""

    __slots__ = ("by_kind", "gsas", "key", "received", "text", "tod")

    def __init__(
        self, text: str | None, key: int | None, tod: tuple[int, int, int, int] | None, received: datetime
    ) -> None:
        self.text = text
        self.key = key
        self.tod = tod
        self.received = received
        self.by_kind: dict[str, Sentence] = {}
        self.gsas: list[Sentence] = []

    def put(self, s: Sentence) -> None:
        kind = s.sentence_type
        if kind == "GSA":
            self.gsas.append(s)
            return
        old = self.by_kind.get(kind)
        # Several constellations may each send one; the combined (GN) one wins.
        if old is None or (s.talker == "GN" and old.talker != "GN"):
            self.by_kind[kind] = s

    @property
    def has_position_sentence(self) -> bool:
        return any(k in self.by_kind for k in _POSITION_KINDS)


class FixAssembler:
    """Turns a stream of decoded sentences into fixes, counting every second it refuses.

    `not_before` is the earliest believable receiver date. A date before it is
    moved forward by whole 1024-week GPS rollovers only when the host clock is
    itself believable and agrees with the repaired date within a day (a
    trustworthy second source); otherwise the fix is refused.
    """

    def __init__(
        self,
        counts: Counter[str],
        *,
        max_speed_knots: float = 35.0,
        not_before: date = DEFAULT_NOT_BEFORE,
        repair_dates: bool = True,
    ) -> None:
        self.counts = counts
        self.max_speed_mps = max_speed_knots * KNOT_MPS
        self.not_before = not_before
        self.repair_dates = repair_dates
        self._epoch: Epoch | None = None
        self._anchor: Fix | None = None
        self._challenger: Fix | None = None
        self._challenges = 0
        self._lost = False
        self._date_text = ""
        self._date: date | None = None

    @property
    def has_open_epoch(self) -> bool:
        return self._epoch is not None

    def add(self, s: Sentence, received: datetime) -> Fix | None:
        """Take one sentence; return the fix of the previous second when this one starts a new second."""
        field = _TIME_FIELD.get(s.sentence_type)
        epoch = self._epoch
        if field is None:  # GSA, VTG: no time of their own, they belong to the second in progress
            if epoch is None:
                epoch = self._epoch = Epoch(None, None, None, received)
            epoch.put(s)
            return None
        text = s.data[field]
        if epoch is not None and text == epoch.text:
            epoch.put(s)  # the same second, written the same way: nothing to parse
            return None
        tod = parse_time(text) if text else None
        if tod is None:
            # No usable time: judged on its own, never mixed into a timed second.
            done = self.flush()
            lone = Epoch(None, None, None, received)
            lone.put(s)
            self._finish(lone)
            return done
        key = ((tod[0] * 60 + tod[1]) * 60 + tod[2]) * 1_000_000 + tod[3]
        if epoch is not None and epoch.key is None:
            # Only untimed sentences so far: they open this second.
            epoch.text, epoch.key, epoch.tod = text, key, tod
        elif epoch is None or epoch.key != key:
            done = self.flush()
            epoch = self._epoch = Epoch(text, key, tod, received)
            epoch.put(s)
            return done
        epoch.put(s)
        return None

    def flush(self) -> Fix | None:
        """Close the second in progress (the stream went quiet or ends) and return its fix, if any."""
        epoch = self._epoch
        self._epoch = None
        if epoch is None:
            return None
        return self._finish(epoch)

    def _finish(self, epoch: Epoch) -> Fix | None:
        counts = self.counts
        counts[EPOCHS] += 1
        result = self.evaluate(epoch)
        if type(result) is Fix:
            reason = self.plausible(result)
            if reason is None:
                counts[FIXES] += 1
                if self._lost:
                    self._lost = False
                    result = result._replace(after_loss=True)
                return result
            result = reason
        elif result in _LOSSES and epoch.has_position_sentence:
            self._lost = True
        counts[result] += 1
        return None

    # -- what one second says --------------------------------------------------------

    def evaluate(self, e: Epoch) -> Fix | Reject:
        d = e.by_kind
        rmc, gga, gns, gll, vtg = d.get("RMC"), d.get("GGA"), d.get("GNS"), d.get("GLL"), d.get("VTG")
        if rmc is None and gga is None and gns is None and gll is None:
            return Reject.NO_POSITION
        rd = rmc.data if rmc is not None else None
        faa = rd[RMC_FAA] if rd is not None and len(rd) > RMC_FAA else ""
        gll_faa = gll.data[GLL_FAA] if gll is not None and len(gll.data) > GLL_FAA else ""
        vtg_faa = vtg.data[VTG_FAA] if vtg is not None and len(vtg.data) > VTG_FAA else ""
        quality = gga.data[GGA_QUAL] if gga is not None else ""
        gns_mode = gns.data[GNS_MODE] if gns is not None else ""
        if quality == "8" or "S" in (faa, gll_faa, vtg_faa) or (gns_mode and "S" in gns_mode):
            return Reject.SIMULATED
        if (
            (rd is not None and rd[RMC_STATUS] != "A")
            or quality == "0"
            or (gll is not None and gll.data[GLL_STATUS] != "A")
            or "N" in (faa, gll_faa)
            or (gns_mode and gns_mode.strip("N") == "")
        ):
            return Reject.VOID
        # A positive word from at least one sentence, not mere silence.
        if rd is not None:
            lat_t, ns, lon_t, ew = rd[RMC_LAT], rd[RMC_LAT_DIR], rd[RMC_LON], rd[RMC_LON_DIR]
        elif gga is not None and quality in _GGA_MODES:
            f = gga.data
            lat_t, ns, lon_t, ew = f[GGA_LAT], f[GGA_LAT_DIR], f[GGA_LON], f[GGA_LON_DIR]
        elif gns is not None and gns_mode:
            f = gns.data
            lat_t, ns, lon_t, ew = f[GNS_LAT], f[GNS_LAT_DIR], f[GNS_LON], f[GNS_LON_DIR]
        elif gll is not None:
            f = gll.data
            lat_t, ns, lon_t, ew = f[GLL_LAT], f[GLL_LAT_DIR], f[GLL_LON], f[GLL_LON_DIR]
        else:
            return Reject.VOID
        if not lat_t or not lon_t:
            return Reject.NO_POSITION
        lat = parse_coordinate(lat_t, ns, 2)
        lon = parse_coordinate(lon_t, ew, 3)
        if lat is None or lon is None:
            return Reject.BAD_COORDINATES
        if -1e-3 < lat < 1e-3 and -1e-3 < lon < 1e-3:
            return Reject.NULL_ISLAND
        when = self._when(e, rd)
        if type(when) is not datetime:
            return when

        mode = self._mode(e, quality, faa or gll_faa or vtg_faa or gns_mode[:1])
        sats = hdop = None
        if gga is not None:
            f = gga.data
            sats, hdop = _count(f[GGA_SATS]), _dop(f[GGA_HDOP])
        if gns is not None:
            f = gns.data
            sats = sats if sats is not None else _count(f[GNS_SATS])
            hdop = hdop if hdop is not None else _dop(f[GNS_HDOP])
        gsas = e.gsas
        if gsas and (sats is None or hdop is None):
            if sats is None:
                used = sum(1 for g in gsas for i in GSA_SATS if i < len(g.data) and g.data[i])
                sats = used or None
            if hdop is None:
                hdop = _dop(gsas[0].data[GSA_HDOP])
        speed = course = None
        if rd is not None:
            speed, course = _number(rd[RMC_SPEED]), _number(rd[RMC_COURSE])
        if vtg is not None and (speed is None or course is None):
            f = vtg.data
            speed = speed if speed is not None else _number(f[VTG_KNOTS])
            course = course if course is not None else _number(f[VTG_TRACK])
        if speed is not None and speed > 1000.0:
            speed = None
        if course is not None:
            course = course % 360.0 if course <= 360.0 else None
        return Fix(when, e.received, lat, lon, speed, course, mode, sats, hdop)

    def _mode(self, e: Epoch, quality: str, faa: str) -> Mode:
        if quality in _GGA_MODES:
            mode = _GGA_MODES[quality]
        elif faa in _FAA_MODES:
            mode = _FAA_MODES[faa]
        else:
            mode = None
        if mode is not None:
            return mode
        fix_types = [g.data[GSA_FIX] for g in e.gsas]
        if "3" in fix_types:
            return Mode.FIX_3D
        if "2" in fix_types:
            return Mode.FIX_2D
        alt = ""
        gga, gns = e.by_kind.get("GGA"), e.by_kind.get("GNS")
        if gga is not None:
            alt = gga.data[GGA_ALT]
        elif gns is not None and len(gns.data) > GNS_ALT:
            alt = gns.data[GNS_ALT]
        return Mode.FIX_3D if alt else Mode.FIX_2D

    def _when(self, e: Epoch, rd: list[str] | None) -> datetime | Reject:
        tod = e.tod
        if tod is None:
            return Reject.BAD_TIME
        day: date | None = None
        if rd is not None and rd[RMC_DATE]:
            text = rd[RMC_DATE]
            if text == self._date_text:  # the same day as the last second: most seconds
                day = self._date
            else:
                day = parse_ddmmyy(text)
                if day is None:
                    return Reject.BAD_DATE
                self._date_text, self._date = text, day
        elif "ZDA" in e.by_kind:
            day = _zda_date(e.by_kind["ZDA"])
            if day is None:
                return Reject.BAD_DATE
        elif self._anchor is not None:
            last = self._anchor.time
            day = last.date()
            if tod[0] < 12 <= last.hour and tod < (last.hour, last.minute, last.second, last.microsecond):
                day += timedelta(days=1)  # past midnight since the last dated fix
        else:
            return Reject.NO_DATE
        if day < self.not_before:
            repaired = self._repair(day, e.received)
            if repaired is None:
                return Reject.BAD_DATE
            day = repaired
        h, mi, s, us = tod
        if s == 60:  # a leap second: datetime cannot hold it
            s, us = 59, 999_999
        return datetime(day.year, day.month, day.day, h, mi, s, us, tzinfo=UTC)

    def _repair(self, day: date, received: datetime) -> date | None:
        if not self.repair_dates or received.date() < self.not_before:
            return None
        repaired = day
        while repaired < self.not_before:
            repaired = repaired + WEEK_ROLLOVER
        if abs((repaired - received.date()).days) <= 1:
            return repaired
        return None

    # -- whether it fits the fixes before it ----------------------------------------------

    def plausible(self, fix: Fix) -> Reject | None:
        """Refuse a fix that does not follow the last one in time or is too far to reach."""
        anchor = self._anchor
        reason = None if anchor is None else self._follows(anchor, fix)
        if reason is None:
            self._anchor = fix
            if self._challenger is not None:
                self._challenger = None
                self._challenges = 0
            return None
        # A run of fixes that agree with each other overrules a lonely anchor.
        challenger = self._challenger
        if challenger is not None and self._follows(challenger, fix) is None:
            self._challenges += 1
        else:
            self._challenges = 1
        self._challenger = fix
        if self._challenges >= REANCHOR_AFTER:
            self._accept(fix)
            return None
        return reason

    def _follows(self, before: Fix, fix: Fix) -> Reject | None:
        dt = (fix.time - before.time).total_seconds()
        if dt <= 0:
            return Reject.TIME_NOT_ADVANCING
        distance = haversine_m(before.lat, before.lon, fix.lat, fix.lon)
        if distance > self.max_speed_mps * dt + JUMP_SLACK_M:
            return Reject.TOO_FAST
        return None

    def _accept(self, fix: Fix) -> None:
        self._anchor = fix
        self._challenger = None
        self._challenges = 0

