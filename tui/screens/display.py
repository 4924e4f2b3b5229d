"""The public display in the waiting area: who is called, to which desk, and who missed a call.

No one logs in here and no one types: it runs all day on a screen facing the
benches. Each station shows the number most recently called in large digits
with its desk; a new call lights its station up for a few seconds and is
announced (chime, then the number and desk spoken) through the announcer's
queue, one call after another. Calls are found by the history id of the last
one announced, so a call made at any terminal is announced exactly once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Digits, Static

from tui.announcer import Announcer, Played, find_chime_player, find_speech_command
from tui.screens.base import ShipScreen
from vessel import board, campaign, store
from vessel.board import Board, Call, StationBoard
from vessel.config import Station
from vessel.i18n import language, t
from vessel.local_time import day, hhmm

HIGHLIGHT_SECONDS = 8.0
TICK_SECONDS = 1.0
RECENT_CALLS = 15  # as many as fit on a tall screen; a short one shows the first few


class StationCard(Vertical):
    """One station: its letter, the number called in large digits, and the desk to go to."""

    def __init__(self, station: Station, **kw: Any) -> None:
        super().__init__(id=f"card-{station.code}", classes="station-card", **kw)
        self.station = station
        self.entry: StationBoard | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-number"):
            yield Static(self.station.letter, classes="card-letter")
            yield Digits("---", classes="card-digits")
        yield Static("", markup=False, classes="card-desk")
        yield Static("", markup=False, classes="card-others")

    def on_mount(self) -> None:
        self.border_title = self.station.name(language())
        self._apply()

    def show(self, entry: StationBoard) -> None:
        self.entry = entry
        if self.is_mounted:
            self._apply()

    def _apply(self) -> None:
        entry = self.entry
        if entry is None:
            return
        latest = entry.latest
        digits = self.query_one(".card-digits", Digits)
        desk = self.query_one(".card-desk", Static)
        others = self.query_one(".card-others", Static)
        if latest is None:
            digits.update("---")
            desk.update(t("tui.display.no_call"))
        else:
            digits.update(f"{latest.number:03d}")
            key = "tui.display.serving_at" if latest.state == "serving" else "tui.display.go_to"
            desk.update(t(key, desk=latest.desk_number))
        desk.set_class(latest is not None and latest.state == "serving", "-serving")
        more = [t("tui.display.also", ticket=a.label, desk=a.desk_number) for a in entry.at_desks[1:]]
        others.update("  ".join(more) if more else t("tui.display.waiting", count=entry.waiting))
        self.border_subtitle = latest.label if latest else ""


class DisplayScreen(ShipScreen):
    """Full screen for the waiting area; refreshes itself, announces each new call once."""

    CSS_PATH = "../display.tcss"
    BINDINGS = [
        Binding("m", "toggle_sound", "tui.display.key.sound", tooltip="tui.display.key.sound_tip",
                id="display.sound", show=False),
        Binding("a", "announce_again", "tui.display.key.again", tooltip="tui.display.key.again_tip",
                id="display.again", show=False),
    ]

    @dataclass
    class Chimed(Message):
        """The announcer is about to speak: ring the terminal bell."""

    @dataclass
    class CallAnnounced(Message):
        """One announcement finished (spoken, or only chimed when no speech program is installed)."""

        played: Played

    @dataclass
    class CallsArrived(Message):
        """New calls were found in the database, oldest first."""

        calls: list[Call]

    def __init__(self, ship, actor=None, *, announcer: Announcer | None = None, **kw: Any) -> None:
        super().__init__(ship, actor, **kw)
        self.announcer = announcer
        self.sound_on = True
        self.last_board: Board | None = None
        self._seen_call = board.last_call_id(ship)
        self._seen_version = store.data_version(ship.db)
        self._fresh: dict[str, float] = {}  # station code -> monotonic time its highlight ends
        self._stations_shown: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        # The stations of the stop are known now: the first frame already shows them.
        stop = campaign.current(self.ship)
        stations = [s for s in self.ship.config.stations if stop is not None and s.code in stop.stations]
        self._stations_shown = tuple(s.code for s in stations)
        with Horizontal(id="display-top"):
            yield Static(self.ship.config.ship_name, markup=False, id="display-title")
            yield Static("", markup=False, id="display-clock")
        with Grid(id="display-cards"):
            for station in stations:
                yield StationCard(station)
        yield Static("", markup=False, id="display-closed")
        with Horizontal(id="display-bottom"):
            yield Static("", markup=False, id="display-recent")
            yield Static("", markup=False, id="display-missed")

    def on_mount(self) -> None:
        if self.announcer is None:
            self.announcer = Announcer(
                speech=find_speech_command(language()), chime_player=find_chime_player(),
                bell=self._bell, played=self._played,
            )
        else:
            self.announcer.bell = self.announcer.bell or self._bell
            self.announcer.played = self.announcer.played or self._played
        self.run_worker(self.announcer.serve, thread=True, group="announcer", name="announcer",
                        exit_on_error=False)
        self.query_one("#display-recent").border_title = t("tui.display.recent_title")
        self.query_one("#display-missed").border_title = t("tui.display.missed_title")
        self.set_interval(TICK_SECONDS, self._tick, name="display-tick")
        # ShipScreen.on_mount runs after this one and reads the ship for the first time.

    def on_unmount(self) -> None:
        if self.announcer is not None:
            self.announcer.close()

    # --- reading the ship ----------------------------------------------------------------

    def refresh_data(self) -> None:
        self._seen_version = store.data_version(self.ship.db)
        b = board.board(self.ship, recent=RECENT_CALLS)
        self.last_board = b
        new_calls = board.calls_since(self.ship, self._seen_call, b.stop.id) if b.stop else []
        self._seen_call = max([self._seen_call, b.last_call_id, *(c.history_id for c in new_calls)])
        self._show(b)
        if new_calls:
            self.post_message(self.CallsArrived(new_calls))

    def _tick(self) -> None:
        # Time moves even when nobody writes: the clock, the end of highlights. And when this
        # screen runs without the app's change watcher, it still sees other terminals' calls.
        if store.data_version(self.ship.db) != self._seen_version:
            self.refresh_data()
        else:
            self._show_clock()
            self._expire_highlights()

    def _show(self, b: Board) -> None:
        cfg = self.ship.config
        title = cfg.ship_name if b.stop is None else f"{cfg.ship_name} · {b.stop.community}"
        self.query_one("#display-title", Static).update(title)
        self._show_clock()
        closed = self.query_one("#display-closed", Static)
        cards = self.query_one("#display-cards", Grid)
        bottom = self.query_one("#display-bottom")
        if b.stop is None:
            closed.update(t("tui.display.closed", ship=cfg.ship_name))
            closed.display = True
            cards.display = bottom.display = False
            return
        closed.display = False
        cards.display = bottom.display = True
        codes = tuple(s.station.code for s in b.stations)
        if codes != self._stations_shown:
            cards.remove_children()
            cards.mount_all(StationCard(s.station) for s in b.stations)
            self._stations_shown = codes
        self._fill_cards(b)
        self._show_lists(b)

    def _fill_cards(self, b: Board) -> None:
        cards = {card.station.code: card for card in self.query(StationCard)}
        for entry in b.stations:
            if entry.station.code in cards:
                cards[entry.station.code].show(entry)
        self._expire_highlights()

    def _show_lists(self, b: Board) -> None:
        names = {s.code: s.name(language()) for s in self.ship.config.stations}
        lines = [
            t("tui.display.call_line", time=hhmm(c.at), ticket=c.label, station=names.get(c.station, c.station),
              desk=c.desk_number) + (f" {t('tui.display.recall_mark')}" if c.recall else "")
            for c in b.recent
        ]
        self.query_one("#display-recent", Static).update("\n".join(lines) or t("tui.display.no_calls_yet"))
        missed = self.query_one("#display-missed", Static)
        if b.missed:
            missed.update(t("tui.display.missed_help") + "\n" + "  ".join(b.missed))
        else:
            missed.update(t("tui.display.no_missed"))

    def _show_clock(self) -> None:
        now = self.ship.now()
        self.query_one("#display-clock", Static).update(f"{day(now)}  {hhmm(now)}")

    # --- new calls: highlight and announce ---------------------------------------------

    @on(CallsArrived)
    def _calls_arrived(self, event: CallsArrived) -> None:
        names = {s.code: s.name(language()) for s in self.ship.config.stations}
        for call in event.calls:
            self._fresh[call.station] = time.monotonic() + HIGHLIGHT_SECONDS
            if self.sound_on and self.announcer is not None:
                station = names.get(call.station, call.station)
                self.announcer.announce(
                    t("tui.display.spoken", letter=call.letter, number=call.number, station=station,
                      desk=call.desk_number),
                    t("tui.display.call_line", time=hhmm(call.at), ticket=call.label, station=station,
                      desk=call.desk_number),
                )
        self._expire_highlights()

    def _expire_highlights(self) -> None:
        now = time.monotonic()
        for card in self.query(StationCard):
            fresh = self._fresh.get(card.station.code, 0) > now
            card.set_class(fresh, "-fresh")
        self._fresh = {k: v for k, v in self._fresh.items() if v > now}

    def highlighted(self) -> set[str]:
        """Station codes lit up for a new call right now."""
        return {card.station.code for card in self.query(StationCard) if card.has_class("-fresh")}

    def _bell(self) -> None:
        self.post_message(self.Chimed())

    def _played(self, played: Played) -> None:
        self.post_message(self.CallAnnounced(played))

    @on(Chimed)
    def _ring(self, event: Chimed) -> None:
        self.app.bell()

    # --- keys ----------------------------------------------------------------------------

    def action_toggle_sound(self) -> None:
        self.sound_on = not self.sound_on
        self.notify(t("tui.display.sound_on" if self.sound_on else "tui.display.sound_off"), timeout=3)

    def action_announce_again(self) -> None:
        """Repeat the last call (someone asks: which number was that?)."""
        b = self.last_board
        if b is None or not b.recent:
            self.notify(t("tui.display.no_calls_yet"), timeout=3)
            return
        self.post_message(self.CallsArrived([b.recent[0]]))
