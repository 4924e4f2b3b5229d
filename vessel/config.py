"""The ship's configuration: one TOML file per ship, read with the stdlib.

Everything that differs between ships or campaigns lives here, so that the code
is the same on every PIAS. A bad file is refused as a whole, with one message
naming the file, the field and what is wrong, before anything is created.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

POLICIES = ("strict", "ageing", "alternate")
LANGUAGES = ("es", "en")


class ConfigError(Exception):
    """A config file that cannot be used; str() is the one line shown to a person."""

    def __init__(self, source: str, field_name: str, problem: str) -> None:
        self.source = source
        self.field = field_name
        self.problem = problem
        super().__init__(f"{source}: {field_name}: {problem}")


@dataclass(frozen=True)
class Station:
    code: str
    letter: str
    name_es: str
    name_en: str
    institution: str
    desks: int

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_es


@dataclass(frozen=True)
class PriorityClass:
    code: str
    name_es: str
    name_en: str
    min_age: int | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_es


@dataclass(frozen=True)
class QueueRules:
    policy: str = "ageing"
    wait_bound_minutes: int = 90
    priority_run: int = 3
    max_recalls: int = 3
    recall_gap_seconds: int = 20
    missed_after_calls: int = 3
    waiting_target_minutes: int = 60


@dataclass(frozen=True)
class GpsSettings:
    port: str = ""
    baud: int | str = "auto"
    keep_distance_m: float = 40.0
    keep_seconds: float = 30.0
    keep_course_deg: float = 12.0
    max_speed_knots: float = 35.0
    stop_radius_m: float = 600.0
    stop_speed_knots: float = 1.5
    stop_minutes: float = 10.0
    stale_seconds: float = 10.0


@dataclass(frozen=True)
class PrinterSettings:
    port: str = ""
    baud: int = 19200


@dataclass(frozen=True)
class Recipient:
    """An institution that may read some kinds of ledger entries ("*" is all)."""

    name: str
    public_key: Path
    kinds: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class PlannedStop:
    community: str
    lat: float
    lon: float
    arrive: date
    depart: date
    stations: tuple[str, ...]


@dataclass(frozen=True)
class ShipConfig:
    source: Path | None
    ship_id: str
    ship_name: str
    language: str
    campaign_code: str
    campaign_name: str
    stations: tuple[Station, ...]
    priority_classes: tuple[PriorityClass, ...]
    queue: QueueRules
    gps: GpsSettings
    printer: PrinterSettings
    signing_key: Path
    recipients: tuple[Recipient, ...]
    stops: tuple[PlannedStop, ...]
    home: Path = field(default=Path("."))

    def station(self, code: str) -> Station:
        for s in self.stations:
            if s.code == code:
                return s
        raise KeyError(code)

    def priority_class(self, code: str) -> PriorityClass:
        for p in self.priority_classes:
            if p.code == code:
                return p
        raise KeyError(code)


def demo_text() -> str:
    """The built-in demo ship's TOML, as shipped inside the package."""
    return resources.files("vessel").joinpath("demo_ship.toml").read_text(encoding="utf-8")


def load(path: Path) -> ShipConfig:
    """Read and validate a ship's config file; raise ConfigError on the first problem."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(src, "(file)", "does not exist") from None
    except UnicodeDecodeError:
        raise ConfigError(src, "(file)", "is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(src, "(file)", f"cannot be read ({exc.strerror})") from None
    return parse(text, src, home=path.parent)


def load_demo(home: Path | None = None) -> ShipConfig:
    return parse(demo_text(), "demo ship", home=home or Path("."))


def parse(text: str, source: str, home: Path) -> ShipConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", str(exc)) from None
    return _Reader(source, home).ship(raw)


class _Reader:
    """Walks the parsed TOML, keeping the dotted field path for error messages."""

    def __init__(self, source: str, home: Path) -> None:
        self.source = source
        self.home = home

    def fail(self, where: str, problem: str) -> ConfigError:
        return ConfigError(self.source, where, problem)

    def table(self, raw: dict[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
        value = raw.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is missing")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{where}{key}", "must be a table")
        return value

    def text(self, raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if value is None:
            raise self.fail(f"{where}{key}", "is missing")
        if not isinstance(value, str):
            raise self.fail(f"{where}{key}", f"must be text (got {value!r})")
        return value

    def nonempty(self, raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = self.text(raw, key, where, default).strip()
        if not value:
            raise self.fail(f"{where}{key}", "must not be empty")
        return value

    def number(
        self, raw: dict[str, Any], key: str, where: str, default: float | None, lo: float, hi: float,
        whole: bool = False,
    ) -> Any:
        value = raw.get(key, default)
        if value is None:
            raise self.fail(f"{where}{key}", "is missing")
        ok = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if whole else "a number"
            raise self.fail(f"{where}{key}", f"must be {kind} from {lo:g} to {hi:g} (got {value!r})")
        if not lo <= value <= hi:
            raise self.fail(f"{where}{key}", f"must be from {lo:g} to {hi:g} (got {value!r})")
        return int(value) if whole else float(value)

    def path(self, raw: dict[str, Any], key: str, where: str, default: str) -> Path:
        value = Path(self.nonempty(raw, key, where, default))
        return value if value.is_absolute() else self.home / value

    def a_date(self, raw: dict[str, Any], key: str, where: str) -> date:
        value = raw.get(key)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(f"{where}{key}", f"must be a date like 2026-11-02 (got {value!r})")

    def items(self, raw: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{where}{key}", "must be a list of tables ([[...]])")
        return value

    def ship(self, raw: dict[str, Any]) -> ShipConfig:
        ship = self.table(raw, "ship", "")
        ship_id = self.nonempty(ship, "id", "ship.")
        if not all(c.isalnum() or c in "-_" for c in ship_id):
            raise self.fail("ship.id", "may hold only letters, digits, '-' and '_'")
        language = self.text(ship, "language", "ship.", "es")
        if language not in LANGUAGES:
            raise self.fail("ship.language", f"must be one of {', '.join(LANGUAGES)} (got {language!r})")
        campaign = self.table(raw, "campaign", "")

        stations = tuple(self.station(s, i) for i, s in enumerate(self.items(raw, "stations", "")))
        if not stations:
            raise self.fail("stations", "at least one station is needed")
        codes = [s.code for s in stations]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise self.fail("stations", f"station code {sorted(dup)[0]!r} is used twice")

        classes = tuple(
            self.priority(p, i) for i, p in enumerate(self.items(raw, "priority_classes", ""))
        )
        stops = tuple(self.stop(s, i, set(codes)) for i, s in enumerate(self.items(raw, "stops", "")))
        for i in range(1, len(stops)):
            if stops[i].arrive < stops[i - 1].arrive:
                raise self.fail(f"stops[{i}].arrive", "stops must be listed in the order of the itinerary")

        keys = self.table(raw, "keys", "", required=False)
        ledger = self.table(raw, "ledger", "", required=False)
        recipients = tuple(
            self.recipient(r, i) for i, r in enumerate(self.items(ledger, "recipients", "ledger."))
        )
        return ShipConfig(
            source=None,
            ship_id=ship_id,
            ship_name=self.nonempty(ship, "name", "ship."),
            language=language,
            campaign_code=self.nonempty(campaign, "code", "campaign."),
            campaign_name=self.nonempty(campaign, "name", "campaign."),
            stations=stations,
            priority_classes=classes,
            queue=self.queue(self.table(raw, "queue", "", required=False)),
            gps=self.gps(self.table(raw, "gps", "", required=False)),
            printer=self.printer(self.table(raw, "printer", "", required=False)),
            signing_key=self.path(keys, "signing", "keys.", "keys/ship.key"),
            recipients=recipients,
            stops=stops,
            home=self.home,
        )

    def station(self, raw: dict[str, Any], i: int) -> Station:
        where = f"stations[{i}]."
        code = self.nonempty(raw, "code", where)
        if not (code.isascii() and all(c.isalnum() or c in "-_" for c in code) and code[0].isalpha()):
            raise self.fail(f"{where}code", "must start with a letter and hold only a-z, 0-9, '-', '_'")
        letter = self.nonempty(raw, "letter", where, code[0].upper())
        if len(letter) != 1 or not letter.isalpha():
            raise self.fail(f"{where}letter", "must be one letter")
        return Station(
            code=code,
            letter=letter.upper(),
            name_es=self.nonempty(raw, "name_es", where),
            name_en=self.nonempty(raw, "name_en", where, raw.get("name_es")),
            institution=self.nonempty(raw, "institution", where),
            desks=self.number(raw, "desks", where, 1, 1, 20, whole=True),
        )

    def priority(self, raw: dict[str, Any], i: int) -> PriorityClass:
        where = f"priority_classes[{i}]."
        min_age = raw.get("min_age")
        if min_age is not None:
            min_age = self.number(raw, "min_age", where, 60, 0, 130, whole=True)
        return PriorityClass(
            code=self.nonempty(raw, "code", where),
            name_es=self.nonempty(raw, "name_es", where),
            name_en=self.nonempty(raw, "name_en", where, raw.get("name_es")),
            min_age=min_age,
        )

    def queue(self, raw: dict[str, Any]) -> QueueRules:
        w = "queue."
        policy = self.text(raw, "policy", w, "ageing")
        if policy not in POLICIES:
            raise self.fail("queue.policy", f"must be one of {', '.join(POLICIES)} (got {policy!r})")
        return QueueRules(
            policy=policy,
            wait_bound_minutes=self.number(raw, "wait_bound_minutes", w, 90, 1, 24 * 60, whole=True),
            priority_run=self.number(raw, "priority_run", w, 3, 1, 100, whole=True),
            max_recalls=self.number(raw, "max_recalls", w, 3, 0, 20, whole=True),
            recall_gap_seconds=self.number(raw, "recall_gap_seconds", w, 20, 0, 3600, whole=True),
            missed_after_calls=self.number(raw, "missed_after_calls", w, 3, 1, 20, whole=True),
            waiting_target_minutes=self.number(raw, "waiting_target_minutes", w, 60, 1, 24 * 60, whole=True),
        )

    def gps(self, raw: dict[str, Any]) -> GpsSettings:
        w = "gps."
        baud: int | str = raw.get("baud", "auto")
        if baud != "auto" and (isinstance(baud, bool) or not isinstance(baud, int) or not 300 <= baud <= 921600):
            raise self.fail("gps.baud", f"must be \"auto\" or a rate such as 4800 or 9600 (got {baud!r})")
        return GpsSettings(
            port=self.text(raw, "port", w, ""),
            baud=baud,
            keep_distance_m=self.number(raw, "keep_distance_m", w, 40, 1, 10000),
            keep_seconds=self.number(raw, "keep_seconds", w, 30, 1, 3600),
            keep_course_deg=self.number(raw, "keep_course_deg", w, 12, 1, 180),
            max_speed_knots=self.number(raw, "max_speed_knots", w, 35, 1, 1000),
            stop_radius_m=self.number(raw, "stop_radius_m", w, 600, 10, 20000),
            stop_speed_knots=self.number(raw, "stop_speed_knots", w, 1.5, 0.1, 20),
            stop_minutes=self.number(raw, "stop_minutes", w, 10, 0, 600),
            stale_seconds=self.number(raw, "stale_seconds", w, 10, 1, 3600),
        )

    def printer(self, raw: dict[str, Any]) -> PrinterSettings:
        return PrinterSettings(
            port=self.text(raw, "port", "printer.", ""),
            baud=self.number(raw, "baud", "printer.", 19200, 300, 921600, whole=True),
        )

    def recipient(self, raw: dict[str, Any], i: int) -> Recipient:
        where = f"ledger.recipients[{i}]."
        kinds = raw.get("kinds", ["*"])
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise self.fail(f"{where}kinds", "must be a non-empty list of entry kinds, or [\"*\"]")
        return Recipient(
            name=self.nonempty(raw, "name", where),
            public_key=self.path(raw, "public_key", where, ""),
            kinds=tuple(kinds),
        )

    def stop(self, raw: dict[str, Any], i: int, station_codes: set[str]) -> PlannedStop:
        where = f"stops[{i}]."
        arrive = self.a_date(raw, "arrive", where)
        depart = self.a_date(raw, "depart", where)
        if depart < arrive:
            raise self.fail(f"{where}depart", "is before the arrival date")
        stations = raw.get("stations")
        if not isinstance(stations, list) or not stations or not all(isinstance(s, str) for s in stations):
            raise self.fail(f"{where}stations", "must be a non-empty list of station codes")
        for s in stations:
            if s not in station_codes:
                raise self.fail(f"{where}stations", f"names an unknown station {s!r}")
        return PlannedStop(
            community=self.nonempty(raw, "community", where),
            lat=self.number(raw, "lat", where, None, -90, 90),
            lon=self.number(raw, "lon", where, None, -180, 180),
            arrive=arrive,
            depart=depart,
            stations=tuple(stations),
        )
