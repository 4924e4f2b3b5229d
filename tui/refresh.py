"""The change watcher: other terminals' writes show here within a second.

Every terminal is its own process on the one database. Re-reading every queue
twice a second would cost every terminal a full scan; instead a timer asks
SQLite for PRAGMA data_version (a counter that moves when another connection
commits, one cheap call) and only then tells the screens to re-read. This
connection's own commits do not move the counter, so screens also refresh
after their own actions (ActionDone).
"""

from __future__ import annotations

from textual.app import App
from textual.timer import Timer

from tui.messages import DataChanged
from vessel import store


class ChangeWatcher:
    def __init__(self, app: App, db, interval: float = 0.5) -> None:
        self.app = app
        self.db = db
        self.interval = interval
        self.seen = store.data_version(db)
        self._timer: Timer | None = None

    def start(self) -> None:
        self._timer = self.app.set_interval(self.interval, self.check, name="change-watcher")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def check(self) -> bool:
        """Post DataChanged to the screens of the current mode if another process committed."""
        version = store.data_version(self.db)
        if version == self.seen:
            return False
        self.seen = version
        self.announce()
        return True

    def announce(self) -> None:
        # Every screen of the stack, so the one under a modal is current when the modal closes.
        for screen in self.app.screen_stack:
            screen.post_message(DataChanged())
