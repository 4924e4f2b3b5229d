"""The bridge: the itinerary as planned and as sailed, the GPS, the way to the next stop, the bulletin.

The officer of the watch records arrival and departure here (the GPS daemon
also does when it sees the ship settle at or leave a stop), after a
confirmation, since every ticket is attributed to the stop the ship is at.
The awareness bulletin for the next communities is shown ready to read on
the local radio, and saved as a text file for printing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.localise import localise_bindings
from tui.screens.base import ShipScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.modals import ConfirmModal
from tui.widgets.ship_panels import gps_lines, stop_lines
from vessel import bulletin, campaign, dashboard, store, track
from vessel.bulletin import save_text
from vessel.campaign import Stop
from vessel.i18n import t
from vessel.local_time import day_month, hhmm

TICK_SECONDS = 2.0
TRACK_ROWS = 12
BULLETIN_FOLDER = "bulletins"


def kilometres(metres: float) -> str:
    return f"{metres / 1000:.1f} km"


def hours_minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return t("tui.bridge.duration", h=minutes // 60, m=f"{minutes % 60:02d}")


class BulletinModal(ModalScreen[None]):
    """The bulletin in full, to read aloud; `s` saves it as a text file."""

    DEFAULT_CSS = """
    BulletinModal { align: center middle; }
    BulletinModal > VerticalScroll {
        width: 80; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    BulletinModal #bulletin-hint { color: $text-muted; dock: bottom; height: 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "tui.bridge.key.close", tooltip="tui.bridge.key.close_tip",
                id="bulletin.close"),
        Binding("s", "save", "tui.bridge.key.save", tooltip="tui.bridge.key.save_tip", id="bulletin.save"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        localise_bindings(self)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="bulletin-scroll"):
            yield Static(self.text, id="bulletin-text", markup=False)
        yield Static(t("tui.bridge.bulletin_hint"), id="bulletin-hint")

    def on_mount(self) -> None:
        self.query_one("#bulletin-scroll").border_title = t("tui.bridge.bulletin_title")
        self.query_one("#bulletin-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        screen = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        if isinstance(screen, BridgeScreen):
            screen.action_save_bulletin()


class BridgeScreen(ShipScreen):
    """Itinerary, GPS, way ahead and recent track; arrival, departure and the bulletin."""

    CSS_PATH = "../bridge.tcss"
    BINDINGS = [
        Binding("a", "arrive", "tui.bridge.key.arrive", tooltip="tui.bridge.key.arrive_tip", id="bridge.arrive"),
        Binding("d", "depart", "tui.bridge.key.depart", tooltip="tui.bridge.key.depart_tip", id="bridge.depart"),
        Binding("b", "bulletin", "tui.bridge.key.bulletin", tooltip="tui.bridge.key.bulletin_tip",
                id="bridge.bulletin"),
        Binding("s", "save_bulletin", "tui.bridge.key.save", tooltip="tui.bridge.key.save_tip",
                id="bridge.save_bulletin"),
    ]

    @dataclass
    class BulletinSaved(Message):
        path: Path

    @dataclass
    class BulletinNotSaved(Message):
        problem: str

    def __init__(self, ship, actor, **kw: Any) -> None:
        super().__init__(ship, actor, **kw)
        self._seen_version = store.data_version(ship.db)
        self.stops: list[Stop] = []
        self.gps_stale = True

    def compose(self) -> ComposeResult:
        with Horizontal(id="bridge-top"):
            yield Static("", markup=False, id="bridge-title")
            yield Static("", markup=False, id="bridge-clock")
        yield DataTable(id="bridge-itinerary", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="bridge-lower"):
            yield Static("", markup=False, id="bridge-gps", classes="panel")
            yield Static("", markup=False, id="bridge-ahead", classes="panel")
            yield DataTable(id="bridge-track", cursor_type="none", show_cursor=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#bridge-itinerary", DataTable)
        for key in ("seq", "community", "plan", "arrived", "departed", "state"):
            table.add_column(t(f"tui.bridge.col.{key}"), key=key)
        track_table = self.query_one("#bridge-track", DataTable)
        for key in ("time", "speed", "course"):
            track_table.add_column(t(f"tui.bridge.track_col.{key}"), key=key)
        track_table.border_title = t("tui.bridge.track_title")
        self.query_one("#bridge-gps").border_title = t("tui.bridge.gps_title")
        self.query_one("#bridge-ahead").border_title = t("tui.bridge.ahead_title")
        self.set_interval(TICK_SECONDS, self._tick, name="bridge-tick")

    def _tick(self) -> None:
        # The GPS row changes every few seconds and fixes age: re-read the moving parts.
        if store.data_version(self.ship.db) != self._seen_version:
            self.refresh_data()
        else:
            self.query_one("#bridge-clock", Static).update(hhmm(self.ship.now()))
            self._show_gps()

    # --- reading the ship ----------------------------------------------------------------

    def refresh_data(self) -> None:
        self._seen_version = store.data_version(self.ship.db)
        self.stops = campaign.stops(self.ship)
        current = next((s for s in self.stops if s.is_current), None)
        cfg = self.ship.config
        where = current.community if current else t("tui.bridge.under_way")
        self.query_one("#bridge-title", Static).update(t("tui.bridge.title", ship=cfg.ship_name, where=where))
        self.query_one("#bridge-clock", Static).update(hhmm(self.ship.now()))
        self._show_itinerary(current)
        self._show_gps()

    def _show_itinerary(self, current: Stop | None) -> None:
        table = self.query_one("#bridge-itinerary", DataTable)
        cursor = table.cursor_row
        table.clear()
        nxt = next((s for s in self.stops if s.arrived_at is None), None)
        for s in self.stops:
            if s.is_current:
                state = t("tui.bridge.state.here")
            elif s.visited:
                state = t("tui.bridge.state.visited")
            elif nxt is not None and s.id == nxt.id:
                state = t("tui.bridge.state.next")
            else:
                state = ""
            plan = f"{day_month(s.planned_arrive)}–{day_month(s.planned_depart)}"
            arrived = f"{day_month(s.arrived_at)} {hhmm(s.arrived_at)}" if s.arrived_at else "—"
            departed = f"{day_month(s.departed_at)} {hhmm(s.departed_at)}" if s.departed_at else "—"
            table.add_row(str(s.seq), s.community, plan, arrived, departed, state, key=str(s.id))
        if self.stops:
            here = next((i for i, s in enumerate(self.stops) if s.is_current), None)
            target = here if here is not None and cursor == 0 else cursor
            table.move_cursor(row=min(target, len(self.stops) - 1))

    def _show_gps(self) -> None:
        view = track.latest_status(self.ship)
        lines, stale = gps_lines(view, self.ship.config.gps.stale_seconds, full=True)
        self.gps_stale = stale
        panel = self.query_one("#bridge-gps", Static)
        panel.update("\n".join(lines))
        panel.set_class(stale, "-warning")
        current = next((s for s in self.stops if s.is_current), None)
        nxt = next((s for s in self.stops if s.arrived_at is None), None)
        ahead = stop_lines(current, nxt)
        way = track.next_stop(self.ship)
        if way is not None and nxt is not None:
            ahead.append(t("tui.bridge.distance", distance=kilometres(way.distance_m)))
            if way.eta is not None:
                ahead.append(t("tui.bridge.eta", duration=hours_minutes((way.eta - self.ship.now()).total_seconds()),
                               day=day_month(way.eta), time=hhmm(way.eta)))
            else:
                ahead.append(t("tui.bridge.eta_unknown"))
            if stale:
                ahead.append(t("tui.bridge.ahead_from_old_fix"))
        elif nxt is not None:
            ahead.append(t("tui.bridge.distance_unknown"))
        self.query_one("#bridge-ahead", Static).update("\n".join(ahead))
        self._show_track()

    def _show_track(self) -> None:
        table = self.query_one("#bridge-track", DataTable)
        table.clear()
        for p in reversed(track.recent(self.ship, TRACK_ROWS)):
            speed = "—" if p.speed_kn is None else f"{p.speed_kn:.1f}"
            course = "—" if p.course is None else f"{p.course:03.0f}°"
            table.add_row(hhmm(p.time), speed, course)

    # --- arrival and departure -------------------------------------------------------------

    def action_arrive(self) -> None:
        nxt = campaign.next_planned(self.ship)
        here = campaign.current(self.ship)
        if here is not None:
            self.notify(t("refusal.still_at_stop", community=here.community), severity="error")
            return
        if nxt is None:
            self.notify(t("tui.bridge.stop.no_next"), severity="error")
            return
        question = t("tui.bridge.confirm_arrive", community=nxt.community, time=hhmm(self.ship.now()))
        detail = t("tui.bridge.confirm_arrive_detail", day=day_month(nxt.planned_arrive))

        def answered(yes: bool | None) -> None:
            if yes:
                self.act("arrive", campaign.arrive, self.actor, nxt.id)

        self.app.push_screen(ConfirmModal(question, detail), answered)

    def action_depart(self) -> None:
        here = campaign.current(self.ship)
        if here is None:
            self.notify(t("refusal.no_current_stop"), severity="error")
            return
        open_now = dashboard.summary(self.ship)
        question = t("tui.bridge.confirm_depart", community=here.community, time=hhmm(self.ship.now()))
        detail = t("tui.bridge.confirm_depart_detail", waiting=open_now.waiting, in_service=open_now.in_service)

        def answered(yes: bool | None) -> None:
            if yes:
                self.act("depart", campaign.depart, self.actor)

        self.app.push_screen(ConfirmModal(question, detail), answered)

    def after_action(self, action: str, result: Any) -> None:
        if action == "arrive":
            self.notify(t("cli.arrived", community=result.community))
        elif action == "depart":
            self.notify(t("cli.departed", community=result.community))

    # --- the bulletin --------------------------------------------------------------------

    def bulletin_text(self) -> str:
        return bulletin.text(self.ship)

    def action_bulletin(self) -> None:
        self.app.push_screen(BulletinModal(self.bulletin_text()))

    def action_save_bulletin(self) -> None:
        self._save_bulletin(self.bulletin_text(), self.ship.config.home / BULLETIN_FOLDER,
                            bulletin.file_name(self.ship))

    @work(thread=True, group="bulletin", exclusive=True, exit_on_error=False)
    def _save_bulletin(self, text: str, folder: Path, name: str) -> None:
        try:
            path = save_text(folder, name, text)
        except OSError as exc:
            self.post_message(self.BulletinNotSaved(f"{folder / name}: {exc.strerror or exc}"))
            return
        self.post_message(self.BulletinSaved(path))

    @on(BulletinSaved)
    def _saved(self, event: BulletinSaved) -> None:
        self.notify(t("tui.bridge.bulletin_saved", path=str(event.path)), timeout=8, markup=False)

    @on(BulletinNotSaved)
    def _not_saved(self, event: BulletinNotSaved) -> None:
        self.notify(t("tui.bridge.bulletin_not_saved", problem=event.problem), severity="error", timeout=10,
                    markup=False)
