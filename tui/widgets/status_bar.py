"""The top line of every staff screen: which ship, which stop, where this terminal is, who is signed in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Static

from vessel import campaign
from vessel.i18n import t
from vessel.operators import Actor
from vessel.ship import Ship


class StatusBar(HorizontalGroup):
    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $primary;
        color: $text;
    }
    StatusBar > Static { width: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #status-where { width: 1fr; text-style: bold; }
    """

    def __init__(self, ship: Ship, actor: Actor | None, where: str = "") -> None:
        super().__init__()
        self.ship = ship
        self.actor = actor
        self.where = where

    def compose(self) -> ComposeResult:
        yield Static(id="status-ship")
        yield Static(self.where, id="status-where")
        yield Static(self._who(), id="status-who")

    def on_mount(self) -> None:
        self.refresh_status()

    def _who(self) -> str:
        if self.actor is None:
            return ""
        return self.actor.name

    def refresh_status(self) -> None:
        stop = campaign.current(self.ship)
        place = stop.community if stop is not None else t("tui.status.no_stop")
        self.query_one("#status-ship", Static).update(f"{self.ship.config.ship_name} · {place}")

    def set_where(self, where: str) -> None:
        self.where = where
        self.query_one("#status-where", Static).update(where)
