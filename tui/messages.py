"""Messages shared by several screens. A screen's own messages live in its class.

Domain calls run in worker threads (see screens/base.py) and report back with
ActionDone or ActionRefused; the change watcher (refresh.py) posts
DataChanged. Handlers on the main thread own the widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class DataChanged(Message):
    """The ship's database changed (another terminal wrote): screens re-read what they show."""

    def can_replace(self, message: Message) -> bool:
        # Several changes queued while a screen was busy need one re-read, not several.
        return isinstance(message, DataChanged)


@dataclass
class ActionDone(Message):
    """A domain action finished; `result` is what the vessel function returned."""

    action: str
    result: Any


@dataclass
class ActionRefused(Message):
    """The domain said no; `message` is the reason in the operator's language."""

    action: str
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketPrinted(Message):
    """The ticket slip left the printer."""

    label: str


@dataclass
class TicketNotPrinted(Message):
    """The printer failed; the ticket exists all the same."""

    label: str
    reason: str
