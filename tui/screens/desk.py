"""A station desk: its queue, the ticket at the desk, and one key per action.

Which keys are offered follows the ticket's state (a called ticket can be
recalled, started or marked missed; one being served can be finished or
referred), so the footer shows only what makes sense now. The domain still
checks everything: its refusals come back as notifications.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist

from tui import format as fmt
from tui.screens.base import ShipScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.modals import ConfirmModal, FinishModal, PickModal, TextModal
from tui.widgets.status_bar import StatusBar
from tui.widgets.ticket_number import TicketNumber
from vessel import campaign, tickets, waits
from vessel.i18n import t
from vessel.operators import Actor
from vessel.ship import Ship
from vessel.tickets import Desk, Step

TICK_SECONDS = 30.0


class DeskScreen(ShipScreen):
    AUTO_FOCUS = "#waiting"
    BINDINGS = [
        Binding("n", "call_next", "tui.key.next", id="desk.next", tooltip="tui.tip.next"),
        Binding("c", "call_chosen", "tui.key.call_chosen", id="desk.call_chosen", tooltip="tui.tip.call_chosen"),
        Binding("r", "recall", "tui.key.recall", id="desk.recall", tooltip="tui.tip.recall"),
        Binding("s", "start", "tui.key.start", id="desk.start", tooltip="tui.tip.start"),
        Binding("f", "finish", "tui.key.finish", id="desk.finish", tooltip="tui.tip.finish"),
        Binding("m", "missed", "tui.key.missed", id="desk.missed", tooltip="tui.tip.missed"),
        Binding("t", "transfer", "tui.key.transfer", id="desk.transfer", tooltip="tui.tip.transfer"),
        Binding("e", "add_step", "tui.key.add_step", id="desk.add_step", tooltip="tui.tip.add_step"),
        Binding("a", "reactivate", "tui.key.reactivate", id="desk.reactivate", tooltip="tui.tip.reactivate"),
        Binding("x", "cancel", "tui.key.cancel", id="desk.cancel", tooltip="tui.tip.cancel"),
        Binding("p", "pause", "tui.key.pause", id="desk.pause", tooltip="tui.tip.pause"),
        Binding("p", "resume", "tui.key.resume", id="desk.resume", tooltip="tui.tip.resume"),
        Binding("o", "open_desk", "tui.key.open", id="desk.open", tooltip="tui.tip.open"),
        Binding("o", "close_desk", "tui.key.close", id="desk.close", tooltip="tui.tip.close"),
        Binding("u", "undo", "tui.key.undo", id="desk.undo", tooltip="tui.tip.undo"),
    ]

    def __init__(self, ship: Ship, actor: Actor | None, *, desk: str, **kw: Any) -> None:
        super().__init__(ship, actor, **kw)
        self.desk_code = desk
        self.desk: Desk = tickets.get_desk(ship, desk)
        self.current: Step | None = None
        self.waiting: list[Step] = []
        self.missed: list[Step] = []

    @property
    def station(self) -> str:
        return self.desk.station

    def compose(self) -> ComposeResult:
        where = t("tui.desk.where", station=fmt.station_name(self.ship, self.station), desk=self.desk_code)
        yield StatusBar(self.ship, self.actor, where)
        yield Static(id="desk-state")
        with Horizontal(id="desk-body"):
            with Vertical(id="queue-panel"):
                table = DataTable(id="waiting", cursor_type="row", zebra_stripes=True)
                table.add_column(t("tui.desk.col_ticket"), key="ticket", width=6)
                table.add_column(t("tui.desk.col_priority"), key="priority", width=3)
                table.add_column(t("tui.desk.col_waiting"), key="waiting", width=9)
                yield table
                yield Static(id="missed-line")
            with Vertical(id="current-panel"):
                yield TicketNumber(id="current-number")
                yield Static(id="current-state")
                yield Static(id="current-citizen")
                yield Static(id="current-route")
                yield Static(id="other-desks")
        yield KeyFooter()

    def on_mount(self) -> None:
        # Waiting times grow while nobody presses a key anywhere: re-read now and then too.
        self.set_interval(TICK_SECONDS, self.refresh_data, name="desk-tick")

    # --- reading -------------------------------------------------------------------

    def refresh_data(self) -> None:
        ship = self.ship
        self.desk = tickets.get_desk(ship, self.desk_code)
        self.current = tickets.current_at_desk(ship, self.desk_code)
        self.waiting = tickets.waiting(ship, self.station)
        self.missed = tickets.missed_list(ship, self.station)
        self.query_one(StatusBar).refresh_status()
        self._show_desk_state()
        self._show_queue()
        self._show_current()
        self._show_other_desks()
        self.refresh_bindings()

    def _show_desk_state(self) -> None:
        state = self.desk.state
        if state == "paused":
            text = t("tui.desk.state_paused", desk=self.desk_code, reason=self.desk.pause_reason or "")
        else:
            text = t(f"tui.desk.state_{state}", desk=self.desk_code)
        widget = self.query_one("#desk-state", Static)
        widget.update(text)
        for s in ("open", "paused", "closed"):
            widget.set_class(state == s, f"-{s}")

    def _show_queue(self) -> None:
        table = self.query_one("#waiting", DataTable)
        keep = None
        if table.row_count and table.cursor_row >= 0:
            try:
                keep = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            except CellDoesNotExist:
                keep = None
        table.clear()
        now = self.ship.now()
        for step in self.waiting:
            table.add_row(step.label, "★" if step.priority else "", fmt.since(step.enqueued_at, now),
                          key=str(step.id))
        if keep is not None and keep in {str(s.id) for s in self.waiting}:
            table.move_cursor(row=table.get_row_index(keep))
        panel = self.query_one("#queue-panel")
        panel.border_title = t("tui.desk.queue_title", count=len(self.waiting))
        self.query_one("#missed-line", Static).update(t("tui.desk.missed_line", count=len(self.missed)))

    def _show_current(self) -> None:
        step = self.current
        number = self.query_one("#current-number", TicketNumber)
        panel = self.query_one("#current-panel")
        panel.border_title = t("tui.desk.current_title")
        state = self.query_one("#current-state", Static)
        who = self.query_one("#current-citizen", Static)
        route = self.query_one("#current-route", Static)
        if step is None:
            number.show(None, t("tui.desk.no_ticket"))
            state.update(t("tui.desk.idle_hint") if self.desk.state == "open" else "")
            who.update("")
            route.update("")
            return
        now = self.ship.now()
        number.show(step.number, f"{step.label} · {fmt.station_name(self.ship, step.station)}")
        if step.state == "called":
            state.update(t("tui.desk.called", calls=step.call_count, ago=fmt.since(step.called_at, now),
                           waited=fmt.duration(step.first_called_at - step.enqueued_at)
                           if step.first_called_at and step.enqueued_at else ""))
        else:
            state.update(t("tui.desk.serving", ago=fmt.since(step.started_at, now)))
        citizen = fmt.citizen_of(self.ship, step.citizen_id)
        lines = []
        if citizen is None:
            lines.append(t("tui.desk.anonymous"))
        else:
            lines.append(fmt.citizen_line(self.ship, citizen))
            if citizen.conditions:
                lines.append(t("tui.desk.conditions", conditions=fmt.citizen_conditions(self.ship, citizen)))
        if step.priority:
            lines.append(t("tui.desk.priority", name=fmt.class_name(self.ship, step.priority_class)))
        who.update("\n".join(lines))
        steps = tickets.route(self.ship, step.ticket_id)
        route.update("\n".join([t("tui.desk.route"), *fmt.route_lines(self.ship, steps, here=step.id)]))

    def _show_other_desks(self) -> None:
        parts = []
        for desk in tickets.desks(self.ship, self.station):
            if desk.code == self.desk_code:
                continue
            step = tickets.current_at_desk(self.ship, desk.code)
            if step is not None:
                parts.append(t("tui.desk.other_busy", desk=desk.code, ticket=step.label,
                               state=fmt.step_state(step.state)))
            else:
                parts.append(t("tui.desk.other_free", desk=desk.code, state=t(f"tui.desk_state.{desk.state}")))
        text = t("tui.desk.others", desks=" · ".join(parts)) if parts else ""
        self.query_one("#other-desks", Static).update(text)

    def _highlighted(self) -> Step | None:
        table = self.query_one("#waiting", DataTable)
        if not self.waiting or table.cursor_row < 0 or table.cursor_row >= len(self.waiting):
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((s for s in self.waiting if str(s.id) == key), None)

    # --- which keys make sense now -----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.desk.state
        step = self.current.state if self.current else None
        rules = {
            "open_desk": state == "closed",
            "close_desk": state != "closed" and step is None,
            "call_next": state == "open" and step is None,
            "call_chosen": state == "open" and step is None and bool(self.waiting),
            "recall": step == "called",
            "start": step == "called",
            "missed": step == "called",
            "finish": step == "serving",
            "add_step": step == "serving",
            "transfer": step in ("called", "serving"),
            "reactivate": step is None,
            "cancel": step is not None or bool(self.waiting),
            "pause": state == "open" and step is None,
            "resume": state == "paused",
        }
        return rules.get(action, True)

    # --- actions -----------------------------------------------------------------------

    def action_open_desk(self) -> None:
        self.act("open_desk", tickets.open_desk, self.actor, self.desk_code)

    def action_close_desk(self) -> None:
        self.act("close_desk", tickets.close_desk, self.actor, self.desk_code)

    def action_call_next(self) -> None:
        self.act("call_next", tickets.call_next, self.actor, self.desk_code)

    def action_call_chosen(self) -> None:
        step = self._highlighted()
        if step is not None:
            self.act("call_chosen", tickets.call_ticket, self.actor, self.desk_code, step.number)

    def action_recall(self) -> None:
        self.act("recall", tickets.recall, self.actor, self.desk_code)

    def action_start(self) -> None:
        self.act("start", tickets.start, self.actor, self.desk_code)

    def action_missed(self) -> None:
        self.act("missed", tickets.missed, self.actor, self.desk_code)

    def action_undo(self) -> None:
        self.act("undo", tickets.undo, self.actor, self.desk_code)

    def action_resume(self) -> None:
        self.act("resume", tickets.resume_desk, self.actor, self.desk_code)

    def action_finish(self) -> None:
        if self.current is None:
            return

        def finished(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.act("finish", tickets.finish, self.actor, self.desk_code, *answer)

        self.app.push_screen(FinishModal(self.current.label), finished)

    def action_pause(self) -> None:
        def paused(reason: str | None) -> None:
            if reason:
                self.act("pause", tickets.pause_desk, self.actor, self.desk_code, reason)

        self.app.push_screen(
            TextModal(t("tui.desk.pause_title", desk=self.desk_code), t("tui.desk.pause_prompt"), required=True),
            paused,
        )

    def action_cancel(self) -> None:
        step = self.current or self._highlighted()
        if step is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act("cancel", tickets.cancel, self.actor, step.id)

        self.app.push_screen(
            ConfirmModal(t("tui.desk.cancel_question", ticket=step.label), t("tui.desk.cancel_detail")), confirmed
        )

    def _station_options(self, exclude: set[str]) -> list[tuple[str, str]]:
        stop = campaign.current(self.ship)
        codes = stop.stations if stop is not None else tuple(s.code for s in self.ship.config.stations)
        options = []
        for code in codes:
            if code in exclude:
                continue
            load = waits.load(self.ship, code)
            options.append((code, t("tui.desk.station_choice", station=fmt.station_name(self.ship, code),
                                    waiting=load.waiting)))
        return options

    def action_transfer(self) -> None:
        step = self.current
        if step is None:
            return
        in_route = {s.station for s in tickets.route(self.ship, step.ticket_id)
                    if s.state in ("pending", *tickets.ACTIVE)}

        def noted(to_station: str, note: str | None) -> None:
            if note is not None:
                self.act("transfer", tickets.transfer, self.actor, self.desk_code, to_station, note)

        def chosen(to_station: str | None) -> None:
            if to_station:
                self.app.push_screen(
                    TextModal(t("tui.desk.transfer_title", ticket=step.label,
                                station=fmt.station_name(self.ship, to_station)),
                              t("tui.desk.transfer_note")),
                    lambda note: noted(to_station, note),
                )

        self.app.push_screen(
            PickModal(t("tui.desk.transfer_choose", ticket=step.label), self._station_options(in_route),
                      empty=t("tui.desk.no_stations")),
            chosen,
        )

    def action_add_step(self) -> None:
        step = self.current
        if step is None:
            return
        in_route = {s.station for s in tickets.route(self.ship, step.ticket_id)
                    if s.state in ("pending", *tickets.ACTIVE)}

        def chosen(station: str | None) -> None:
            if station:
                self.act("add_step", tickets.add_step, self.actor, self.desk_code, station)

        self.app.push_screen(
            PickModal(t("tui.desk.add_step_choose", ticket=step.label), self._station_options(in_route),
                      empty=t("tui.desk.no_stations")),
            chosen,
        )

    def action_reactivate(self) -> None:
        now = self.ship.now()
        options = []
        for step in self.missed:
            citizen = fmt.citizen_of(self.ship, step.citizen_id)
            name = citizen.full_name if citizen else t("tui.desk.anonymous")
            options.append((str(step.number), t("tui.desk.missed_choice", ticket=step.label,
                                                  ago=fmt.since(step.finished_at, now), name=name)))

        def chosen(number: str | None) -> None:
            if number:
                self.act("reactivate", tickets.reactivate, self.actor, self.station, int(number))

        self.app.push_screen(
            PickModal(t("tui.desk.reactivate_choose"), options, empty=t("tui.desk.no_missed")), chosen
        )

    # --- answers -------------------------------------------------------------------------

    def after_action(self, action: str, result: Any) -> None:
        if action == "transfer" and isinstance(result, Step):
            self.notify(t("tui.desk.transferred", ticket=result.label,
                          station=fmt.station_name(self.ship, result.station)))
        elif action == "reactivate" and isinstance(result, Step):
            self.notify(t("tui.desk.reactivated", ticket=result.label))
        elif action == "undo" and isinstance(result, Step):
            self.notify(t("tui.desk.undone", ticket=result.label, state=fmt.step_state(result.state)))
        elif action == "cancel" and isinstance(result, Step):
            self.notify(t("tui.desk.cancelled", ticket=result.label))
        elif action == "add_step" and isinstance(result, Step):
            self.notify(t("tui.desk.step_added", ticket=result.label,
                          station=fmt.station_name(self.ship, result.station)))
