"""What every staff screen shares: the ship, the operator, and domain calls off the UI thread.

A domain call may wait up to the store's busy timeout when another terminal
holds the write lock, so it runs in a worker thread; the worker only posts
messages (ActionDone, ActionRefused) and the handlers on the main thread
update the widgets. One writer at a time goes through the ship's connection
(Session.ship_lock). Reads for display stay on the main thread: they are
short and never wait for the write lock in WAL mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from tui.localise import localise_bindings
from tui.messages import ActionDone, ActionRefused, DataChanged
from tui.session import Session
from vessel.errors import Refused
from vessel.i18n import t
from vessel.operators import Actor
from vessel.ship import Ship


class ShipScreen(Screen):
    """A screen working on one ship for one operator; subclasses implement refresh_data()."""

    def __init__(self, ship: Ship, actor: Actor | None, **kw: Any) -> None:
        super().__init__(**kw)
        self.ship = ship
        self.actor = actor
        localise_bindings(self)

    @property
    def session(self) -> Session:
        return self.app.session  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        if not self.session.cursor_blink:
            for field in self.query(Input):
                field.cursor_blink = False
        self.refresh_data()

    def on_screen_resume(self) -> None:
        # Coming back from another mode: what was shown there may be stale.
        if self.is_mounted:
            self.refresh_data()

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        event.stop()
        self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read what the screen shows from the ship."""

    # --- domain actions ----------------------------------------------------------

    def act(self, action: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run fn(ship, *args, **kwargs) in a worker; the answer comes back as ActionDone/ActionRefused."""
        self._run_action(action, fn, args, kwargs)

    @work(thread=True, group="domain", exit_on_error=False)
    def _run_action(self, action: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        with self.session.ship_lock:
            try:
                result = fn(self.ship, *args, **kwargs)
            except Refused as exc:
                self.post_message(ActionRefused(action, exc.message(), exc.code, dict(exc.params)))
                return
        self.post_message(ActionDone(action, result))

    @on(ActionRefused)
    def _refused(self, event: ActionRefused) -> None:
        event.stop()
        self.notify(event.message, severity="error", timeout=6, markup=False)
        self.refresh_data()
        self.after_refusal(event)

    @on(ActionDone)
    def _done(self, event: ActionDone) -> None:
        event.stop()
        self.refresh_data()
        self.after_action(event.action, event.result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The one place a worker's unexpected failure is reported (refusals never get here);
        # the state messages do not bubble, so each screen hears of its own workers.
        if event.state == WorkerState.ERROR:
            self.notify(t("tui.error.unexpected", error=str(event.worker.error)), severity="error", timeout=10,
                        markup=False)

    def after_action(self, action: str, result: Any) -> None:
        """Hook: a domain action succeeded (the screen was already refreshed)."""

    def after_refusal(self, refusal: ActionRefused) -> None:
        """Hook: a domain action was refused (the notification was already shown)."""
