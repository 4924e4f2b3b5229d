"""The coordinator's dashboard: every station's queue at a glance, and the ship's GPS and ledger.

What the campaign coordinator watches through the day: where people wait,
how long, which desks are open, and which tickets have waited past the
queue's bound (those stand out, because the policy promises nobody waits
longer unseen). The figures are re-read when any terminal writes and every
few seconds, since waiting times grow while nobody types.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from tui.screens.base import ShipScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.ship_panels import gps_lines, ledger_lines, stop_lines
from vessel import campaign, dashboard, ledger_view, store, track
from vessel.dashboard import Dashboard
from vessel.i18n import language, t
from vessel.local_time import hhmm

TICK_SECONDS = 1.0
FULL_REFRESH_SECONDS = 5.0
NARROW_NAME = 14  # station names are cut to this on an 80-column terminal
COLUMNS = ("station", "waiting", "in_service", "served", "missed", "wait_mean", "estimate", "desks", "overdue")


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


class CoordinatorScreen(ShipScreen):
    """Dashboard of the current stop; read-only, so any role allowed to see it may open it."""

    CSS_PATH = "../coordinator.tcss"
    BINDINGS = [
        Binding("r", "refresh", "tui.coordinator.key.refresh", tooltip="tui.coordinator.key.refresh_tip",
                id="coordinator.refresh"),
    ]

    def __init__(self, ship, actor, **kw: Any) -> None:
        super().__init__(ship, actor, **kw)
        self.last: Dashboard | None = None
        self._seen_version = store.data_version(ship.db)

    def compose(self) -> ComposeResult:
        with Horizontal(id="coord-top"):
            yield Static("", markup=False, id="coord-title")
            yield Static("", markup=False, id="coord-clock")
        yield DataTable(id="coord-stations", cursor_type="row", zebra_stripes=True)
        yield Static("", markup=False, id="coord-overdue")
        with Horizontal(id="coord-panels"):
            yield Static("", markup=False, id="coord-stop", classes="panel")
            yield Static("", markup=False, id="coord-gps", classes="panel")
            yield Static("", markup=False, id="coord-ledger", classes="panel")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#coord-stations", DataTable)
        for key in COLUMNS:
            table.add_column(t(f"tui.coordinator.col.{key}"), key=key)
        self.query_one("#coord-stop").border_title = t("tui.coordinator.stop_title")
        self.query_one("#coord-gps").border_title = t("tui.coordinator.gps_title")
        self.query_one("#coord-ledger").border_title = t("tui.coordinator.ledger_title")
        self.set_interval(TICK_SECONDS, self._tick, name="coordinator-tick")

    def _tick(self) -> None:
        # Another terminal wrote (when no change watcher told us), or waits have grown: read again.
        if self.last is None:
            return
        elapsed = (self.ship.now() - self.last.at).total_seconds()
        if store.data_version(self.ship.db) != self._seen_version or elapsed >= FULL_REFRESH_SECONDS:
            self.refresh_data()

    def on_resize(self) -> None:
        if self.last is not None:
            self._show_table(self.last)

    def action_refresh(self) -> None:
        self.refresh_data(fresh=True)

    def refresh_data(self, fresh: bool = False) -> None:
        self._seen_version = store.data_version(self.ship.db)
        d = dashboard.summary(self.ship, fresh=fresh)
        self.last = d
        self._show_title(d)
        self._show_table(d)
        self._show_overdue(d)
        self.query_one("#coord-stop", Static).update(
            "\n".join(stop_lines(d.stop, campaign.next_planned(self.ship)))
        )
        gps = self.query_one("#coord-gps", Static)
        gps_text, gps_bad = gps_lines(track.latest_status(self.ship), self.ship.config.gps.stale_seconds)
        gps.update("\n".join(gps_text))
        gps.set_class(gps_bad, "-warning")
        self.query_one("#coord-ledger", Static).update("\n".join(ledger_lines(ledger_view.status(self.ship))))

    def _show_title(self, d: Dashboard) -> None:
        if d.stop is None:
            title = t("tui.coordinator.title_no_stop")
        else:
            title = t("tui.coordinator.title", community=d.stop.community, waiting=d.waiting,
                      in_service=d.in_service, served=d.served)
        self.query_one("#coord-title", Static).update(title)
        self.query_one("#coord-clock", Static).update(hhmm(d.at))

    def _show_table(self, d: Dashboard) -> None:
        table = self.query_one("#coord-stations", DataTable)
        cursor = table.cursor_row
        table.clear()
        lang = language()
        narrow = self.size.width < 100
        for r in d.rows:
            name = r.station.name(lang)
            if narrow and len(name) > NARROW_NAME:
                name = name[: NARROW_NAME - 1] + "…"
            overdue = Text(str(r.overdue), style="bold reverse" if r.overdue else "")
            desks = t("tui.coordinator.desks_cell", open=r.open_desks, total=r.desks)
            if r.paused_desks:
                desks += t("tui.coordinator.paused_cell", paused=r.paused_desks)
            table.add_row(
                name, str(r.waiting), str(r.in_service), str(r.served), str(r.missed),
                minutes(r.wait_mean_min), f"{r.wait_low_min:.0f}–{r.wait_high_min:.0f}", desks, overdue,
                key=r.station.code,
            )
        if d.rows:
            table.move_cursor(row=min(cursor, len(d.rows) - 1))

    def _show_overdue(self, d: Dashboard) -> None:
        box = self.query_one("#coord-overdue", Static)
        box.border_title = t("tui.coordinator.overdue_title", minutes=d.wait_bound_min, count=d.overdue_total)
        box.set_class(bool(d.overdue_total), "-alert")
        if not d.overdue:
            box.update(t("tui.coordinator.no_overdue"))
            return
        items = [
            t("tui.coordinator.overdue_item", ticket=o.label, minutes=f"{o.waited_min:.0f}")
            + (" ★" if o.priority else "")
            for o in d.overdue
        ]
        box.update("  ".join(items))
