"""Ledger and reports: verify the chain, see what waits for offload, offload it, read and export reports.

Verifying walks every entry and offloading seals and writes bundles, which
can take a while on a long campaign, so both run in worker threads that post
their progress; the screen stays usable and shows a progress bar. Reports
are per stop (or the whole campaign), as the ministry receives them, and
export to CSV for a spreadsheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static

from tui.screens.base import ShipScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.modals import TextModal
from tui.widgets.ship_panels import ledger_lines
from vessel import ledger_view, report_export, reports, store
from vessel.errors import Refused
from vessel.i18n import language, t
from vessel.ledger_view import OffloadResult, VerifyResult
from vessel.local_time import hhmm

NARROW_COLUMNS = (
    "station", "issued", "served", "missed", "wait_mean_min", "wait_p90_min", "service_mean_min", "over_target_pct",
)
NARROW_NAME = 14  # station names are cut to this on an 80-column terminal
WIDE_COLUMNS = (
    "station", "issued", "served", "missed", "cancelled", "transferred", "waiting_now", "wait_mean_min",
    "wait_median_min", "wait_p90_min", "service_mean_min", "service_p90_min", "over_target_pct",
)
# The wide columns a terminal too narrow for all of them goes without, first to last.
DROPPED_FIRST = ("wait_median_min", "cancelled", "service_p90_min", "transferred", "waiting_now")
assert set(WIDE_COLUMNS) - set(DROPPED_FIRST) == set(NARROW_COLUMNS)


class LedgerReportsScreen(ShipScreen):
    """The ledger's state and actions, and the reports of one stop at a time."""

    CSS_PATH = "../ledger.tcss"
    BINDINGS = [
        Binding("v", "verify", "tui.ledger.key.verify", tooltip="tui.ledger.key.verify_tip", id="ledger.verify"),
        Binding("o", "offload", "tui.ledger.key.offload", tooltip="tui.ledger.key.offload_tip",
                id="ledger.offload"),
        Binding("left_square_bracket", "stop(-1)", "tui.ledger.key.previous", tooltip="tui.ledger.key.previous_tip",
                id="ledger.previous_stop", key_display="["),
        Binding("right_square_bracket", "stop(1)", "tui.ledger.key.next", tooltip="tui.ledger.key.next_tip",
                id="ledger.next_stop", key_display="]"),
        Binding("e", "export", "tui.ledger.key.export", tooltip="tui.ledger.key.export_tip", id="ledger.export"),
    ]

    @dataclass
    class Verified(Message):
        result: VerifyResult

    @dataclass
    class OffloadProgressed(Message):
        first: int
        last: int
        sent: int
        total: int

        def can_replace(self, message: Message) -> bool:
            # Only the latest progress matters: older ones still queued are dropped.
            return isinstance(message, LedgerReportsScreen.OffloadProgressed)

    @dataclass
    class Offloaded(Message):
        result: OffloadResult

    @dataclass
    class Exported(Message):
        path: Path
        rows: int

    @dataclass
    class LedgerRefused(Message):
        """A ledger action or an export was refused; `message` is the reason in the operator's language."""

        action: str
        message: str

    def __init__(self, ship, actor, **kw: Any) -> None:
        super().__init__(ship, actor, **kw)
        self.choices: list[report_export.Choice] = []
        self.choice = 0
        self.rows: list[reports.Figures] = []
        self.verify_result: VerifyResult | None = None
        self.busy: str | None = None  # "verify" or "offload" while a worker runs
        self._seen_version = store.data_version(ship.db)

    def compose(self) -> ComposeResult:
        with Horizontal(id="ledger-top"):
            yield Static(t("tui.ledger.title"), markup=False, id="ledger-title")
            yield Static("", markup=False, id="ledger-clock")
        with Horizontal(id="ledger-panels"):
            yield Static("", markup=False, id="ledger-status", classes="panel")
            yield Static("", markup=False, id="ledger-verify", classes="panel")
        with Horizontal(id="ledger-progress-row"):
            yield ProgressBar(id="ledger-progress", show_eta=False)
            yield Static("", markup=False, id="ledger-progress-text")
        yield Static("", markup=False, id="ledger-report-title")
        yield DataTable(id="ledger-report", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#ledger-status").border_title = t("tui.ledger.status_title")
        self.query_one("#ledger-verify").border_title = t("tui.ledger.verify_title")
        self.query_one("#ledger-verify", Static).update(t("tui.ledger.not_verified"))
        self.query_one("#ledger-progress-row").display = False
        self.choices = report_export.choices(self.ship)
        self.choice = report_export.default_choice(self.ship, self.choices)

    # --- reading ---------------------------------------------------------------------

    def refresh_data(self) -> None:
        self._seen_version = store.data_version(self.ship.db)
        self.query_one("#ledger-clock", Static).update(hhmm(self.ship.now()))
        self.query_one("#ledger-status", Static).update("\n".join(ledger_lines(ledger_view.status(self.ship))))
        chosen = self.choices[self.choice].stop if self.choices else None
        self.choices = report_export.choices(self.ship)
        if chosen is not None:
            self.choice = next((i for i, c in enumerate(self.choices) if c.stop and c.stop.id == chosen.id),
                               min(self.choice, len(self.choices) - 1))
        self._show_report()

    def _stop_name(self, choice: report_export.Choice) -> str:
        return choice.stop.community if choice.stop else t("tui.ledger.whole_campaign")

    def _show_report(self) -> None:
        choice = self.choices[self.choice]
        title = self.query_one("#ledger-report-title", Static)
        title.update(t("tui.ledger.report_title", stop=self._stop_name(choice), tickets=choice.tickets,
                       position=self.choice + 1, count=len(self.choices)))
        table = self.query_one("#ledger-report", DataTable)
        try:
            self.rows = report_export.figures(self.ship, self.actor, choice.stop.id if choice.stop else None)
        except Refused as exc:
            table.clear()
            title.update(exc.message())
            return
        names = {s.code: s.name(language()) for s in self.ship.config.stations}
        shown = []
        for r in self.rows:
            if r.stop == reports.ALL and choice.stop is not None:
                continue  # the campaign's totals row adds nothing when one stop is shown
            cells = {}
            for name in WIDE_COLUMNS:
                value = getattr(r, name)
                if name == "station":
                    label = t("report.all") if value == reports.ALL else names.get(value, value)
                    cells[name] = t("tui.ledger.campaign_total") if r.stop == reports.ALL else label
                else:
                    cells[name] = "—" if value is None else str(value)
            shown.append(cells)
        columns = self._columns_that_fit(table, shown)
        if columns is None:  # not even the narrow set with whole station names: cut the names
            columns = NARROW_COLUMNS
            for cells in shown:
                if len(cells["station"]) > NARROW_NAME:
                    cells["station"] = cells["station"][: NARROW_NAME - 1] + "…"
        if tuple(c.key.value for c in table.ordered_columns) != columns:
            table.clear(columns=True)
            for name in columns:
                table.add_column(t(f"report.col.{name}"), key=name)
        else:
            table.clear()
        for cells in shown:
            table.add_row(*(cells[name] for name in columns))

    def _columns_that_fit(self, table: DataTable, shown: list[dict[str, str]]) -> tuple[str, ...] | None:
        """As many of the wide columns as the terminal shows whole (a column cut at the edge helps nobody)."""
        room = self.size.width - table.styles.scrollbar_size_vertical

        def width(name: str) -> int:
            content = max([cell_len(t(f"report.col.{name}"))] + [cell_len(cells[name]) for cells in shown])
            return content + 2 * table.cell_padding

        for dropped in range(len(DROPPED_FIRST) + 1):
            columns = tuple(c for c in WIDE_COLUMNS if c not in DROPPED_FIRST[:dropped])
            if sum(width(c) for c in columns) <= room:
                return columns
        return None

    def on_resize(self) -> None:
        if self.choices:
            self._show_report()

    def action_stop(self, step: int) -> None:
        if not self.choices:
            return
        self.choice = (self.choice + step) % len(self.choices)
        self._show_report()

    # --- verify ---------------------------------------------------------------------------

    def action_verify(self) -> None:
        if self.busy:
            self.notify(t("tui.ledger.busy"), severity="warning")
            return
        self.busy = "verify"
        self.query_one("#ledger-verify", Static).update(t("tui.ledger.verifying"))
        self._verify()

    @work(thread=True, group="ledger", exclusive=True, exit_on_error=False)
    def _verify(self) -> None:
        try:
            result = ledger_view.verify(self.ship, self.actor)
        except Refused as exc:
            self.post_message(self.LedgerRefused("verify", exc.message()))
            return
        self.post_message(self.Verified(result))

    @on(Verified)
    def _verified(self, event: Verified) -> None:
        self.busy = None
        self.verify_result = event.result
        r = event.result
        box = self.query_one("#ledger-verify", Static)
        if r.ok:
            lines = [t("tui.ledger.verify_ok", entries=r.entries)]
            if r.fingerprint:
                lines.append(t("tui.ledger.panel.head", fingerprint=r.fingerprint))
        else:
            lines = [t("tui.ledger.verify_bad"), r.problem or ""]
        lines.append(t("tui.ledger.verified_at", time=hhmm(self.ship.now())))
        box.update("\n".join(lines))
        box.set_class(not r.ok, "-bad")
        box.set_class(r.ok, "-good")

    # --- offload --------------------------------------------------------------------------

    def action_offload(self) -> None:
        if self.busy:
            self.notify(t("tui.ledger.busy"), severity="warning")
            return
        self.busy = "offload"
        row = self.query_one("#ledger-progress-row")
        row.display = True
        self.query_one("#ledger-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#ledger-progress-text", Static).update(t("tui.ledger.offloading"))
        self._offload()

    @work(thread=True, group="ledger", exclusive=True, exit_on_error=False)
    def _offload(self) -> None:
        def progress(first: int, last: int, sent: int, total: int) -> None:
            self.post_message(self.OffloadProgressed(first, last, sent, total))

        try:
            result = ledger_view.offload(self.ship, self.actor, progress)
        except Refused as exc:
            self.post_message(self.LedgerRefused("offload", exc.message()))
            return
        self.post_message(self.Offloaded(result))

    @on(OffloadProgressed)
    def _progressed(self, event: OffloadProgressed) -> None:
        bar = self.query_one("#ledger-progress", ProgressBar)
        bar.update(total=max(event.total, 1), progress=event.sent)
        self.query_one("#ledger-progress-text", Static).update(
            t("tui.ledger.offload_progress", first=event.first, last=event.last,
              kb=f"{event.sent / 1024:.0f}", total_kb=f"{event.total / 1024:.0f}")
        )

    @on(Offloaded)
    def _offloaded(self, event: Offloaded) -> None:
        self.busy = None
        r = event.result
        bar = self.query_one("#ledger-progress", ProgressBar)
        bar.update(total=1, progress=1 if r.ok else 0)
        if r.link_error is not None:
            text = t("tui.ledger.offload_link_down", problem=r.link_error)
        elif r.failed:
            text = t("tui.ledger.offload_failed", count=r.failed)
        elif r.bundles:
            text = t("tui.ledger.offload_done", entries=r.entries, bundles=r.bundles, target=r.target,
                     confirmed=r.confirmed_through)
        else:
            text = t("tui.ledger.offload_nothing", confirmed=r.confirmed_through)
        if r.purged_stops:
            text += " " + t("tui.ledger.purged", stops=", ".join(r.purged_stops))
        self.query_one("#ledger-progress-text", Static).update(text)
        self.notify(text, severity="information" if r.ok else "error", timeout=10, markup=False)
        self.refresh_data()

    @on(LedgerRefused)
    def _ledger_refused(self, event: LedgerRefused) -> None:
        self.busy = None
        self.notify(event.message, severity="error", timeout=8, markup=False)
        if event.action == "verify":
            self.query_one("#ledger-verify", Static).update(event.message)
        elif event.action == "offload":
            self.query_one("#ledger-progress", ProgressBar).update(total=1, progress=0)
            self.query_one("#ledger-progress-text", Static).update(event.message)

    # --- export ---------------------------------------------------------------------------

    def action_export(self) -> None:
        choice = self.choices[self.choice] if self.choices else None
        if choice is None:
            return
        stop = choice.stop
        default = report_export.default_path(self.ship, stop)

        def answered(text: str | None) -> None:
            if text:
                self._export(stop.id if stop else None, Path(text))

        self.app.push_screen(
            TextModal(t("tui.ledger.export_title", stop=self._stop_name(choice)), t("tui.ledger.export_prompt"),
                      required=True, value=str(default), max_length=400),
            answered,
        )

    @work(thread=True, group="export", exclusive=True, exit_on_error=False)
    def _export(self, stop_id: int | None, path: Path) -> None:
        try:
            # Its own connection: this thread must not share the screen's while it reads.
            with ledger_view.own_connection(self.ship) as mine:
                written, rows = report_export.export_csv(mine, self.actor, stop_id, path)
        except Refused as exc:
            self.post_message(self.LedgerRefused("export", exc.message()))
            return
        self.post_message(self.Exported(written, rows))

    @on(Exported)
    def _exported(self, event: Exported) -> None:
        self.notify(t("cli.csv_written", path=str(event.path), rows=event.rows), timeout=8, markup=False)
