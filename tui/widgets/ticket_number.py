"""A ticket's number in large digits, readable from across the desk, with a caption under it.

Textual's Digits draws 0-9 (and A-F) in 3x3 cells; station letters beyond F
have no large glyph, so the station letter goes in the caption instead.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalGroup
from textual.widgets import Digits, Static


class TicketNumber(VerticalGroup):
    DEFAULT_CSS = """
    TicketNumber { height: auto; width: 1fr; }
    TicketNumber > Digits { width: 1fr; text-align: center; color: $accent; text-style: bold; }
    TicketNumber > Static { width: 1fr; text-align: center; text-style: bold; }
    TicketNumber.-empty > Digits { color: $text-muted; }
    """

    def __init__(self, number: int | None = None, caption: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._number = number
        self._caption = caption

    def compose(self) -> ComposeResult:
        yield Digits(self._digits(self._number))
        yield Static(self._caption)

    @staticmethod
    def _digits(number: int | None) -> str:
        return "---" if number is None else f"{number:03d}"

    def show(self, number: int | None, caption: str = "") -> None:
        self._number, self._caption = number, caption
        self.set_class(number is None, "-empty")
        self.query_one(Digits).update(self._digits(number))
        self.query_one(Static).update(caption)
