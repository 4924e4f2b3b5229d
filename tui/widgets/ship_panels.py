"""The small status panels the coordinator and the bridge share: stop, GPS, ledger.

Each function turns a domain reading into the lines of a panel, in the
catalogue's language, so both screens word the same fact the same way.
"""

from __future__ import annotations

from vessel import track
from vessel.campaign import Stop
from vessel.i18n import t
from vessel.ledger_view import LedgerStatus
from vessel.local_time import day_month, hhmm
from vessel.track import GpsView

NO_DAEMON = frozenset({track.STALE, track.STOPPED, track.NOT_RUNNING})


def degrees_minutes(value: float, positive: str, negative: str) -> str:
    """Degrees and decimal minutes with the hemisphere letter, as positions are read aloud on a bridge."""
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    whole = int(value)
    return f"{whole}°{(value - whole) * 60:05.2f}′{hemisphere}"


def position(lat: float, lon: float) -> str:
    return f"{degrees_minutes(lat, 'N', 'S')} {degrees_minutes(lon, 'E', 'W')}"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return t("tui.bridge.gps.age_s", seconds=int(seconds))
    if seconds < 90 * 60:
        return t("tui.bridge.gps.age_min", minutes=int(seconds // 60))
    return t("tui.bridge.gps.age_h", hours=int(seconds // 3600))


def gps_is_stale(view: GpsView, stale_seconds: float) -> bool:
    """True when the position on screen cannot be trusted as the ship's position now."""
    if view.state in NO_DAEMON or not view.has_fix:
        return True
    return view.fix_age_s is None or view.fix_age_s > stale_seconds


def gps_lines(view: GpsView, stale_seconds: float, full: bool = False) -> tuple[list[str], bool]:
    """The GPS panel's lines, and whether it should be shown as a warning."""
    stale = gps_is_stale(view, stale_seconds)
    lines = [view.label()]
    if view.lat is not None and view.lon is not None:
        lines.append(position(view.lat, view.lon))
        speed = "—" if view.speed_kn is None else f"{view.speed_kn:.1f} kn"
        course = "—" if view.course is None else f"{view.course:03.0f}°"
        lines.append(t("tui.bridge.gps.speed_course", speed=speed, course=course))
    if full and view.mode is not None:
        lines.append(t("tui.bridge.gps.quality", mode=view.mode.upper(),
                       sats="—" if view.sats is None else view.sats,
                       hdop="—" if view.hdop is None else f"{view.hdop:.1f}"))
    if view.last_fix_at is not None:
        lines.append(t("tui.bridge.gps.fix_age", age=age(view.fix_age_s)))
    if stale:
        if view.last_fix_at is None:
            lines.append(t("tui.bridge.gps.warn_no_fix"))
        else:
            lines.append(t("tui.bridge.gps.warn_stale", age=age(view.fix_age_s)))
    return lines, stale


def stop_lines(current: Stop | None, nxt: Stop | None) -> list[str]:
    lines = []
    if current is not None:
        lines.append(t("tui.bridge.stop.at", community=current.community))
        lines.append(t("tui.bridge.stop.arrived", time=hhmm(current.arrived_at), day=day_month(current.arrived_at)))
        lines.append(t("tui.bridge.stop.planned_departure", day=day_month(current.planned_depart)))
    else:
        lines.append(t("tui.bridge.stop.under_way"))
    if nxt is not None:
        lines.append(t("tui.bridge.stop.next", community=nxt.community, day=day_month(nxt.planned_arrive)))
    else:
        lines.append(t("tui.bridge.stop.no_next"))
    return lines


def ledger_lines(status: LedgerStatus | None) -> list[str]:
    if status is None:
        return [t("tui.ledger.panel.not_available")]
    lines = [
        t("tui.ledger.panel.entries", count=status.entries),
        t("tui.ledger.panel.pending", count=status.pending),
    ]
    if status.failed_bundles:
        lines.append(t("tui.ledger.panel.failed", count=status.failed_bundles))
    if status.last_offload_at is None:
        lines.append(t("tui.ledger.panel.never_offloaded"))
    else:
        lines.append(t("tui.ledger.panel.last_offload", day=day_month(status.last_offload_at),
                       time=hhmm(status.last_offload_at)))
    if status.head_fingerprint:
        lines.append(t("tui.ledger.panel.head", fingerprint=status.head_fingerprint))
    return lines
