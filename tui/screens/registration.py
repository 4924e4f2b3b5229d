"""The registration desk: find or register the citizen, choose services, issue the ticket.

Four steps on one screen (find, new citizen, services, ticket) in a
ContentSwitcher, so going back never loses what was typed. The services
list shows each station's queue and estimated wait, refreshed when another
terminal changes them. Printing runs in a worker: a jammed printer gives a
notice, and the ticket exists all the same.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Label, RadioButton, RadioSet, SelectionList, Static
from textual.widgets.selection_list import Selection

from tui import format as fmt
from tui.messages import ActionRefused, TicketNotPrinted, TicketPrinted
from tui.screens.base import ShipScreen
from tui.widgets.citizen_form import CitizenForm
from tui.widgets.key_footer import KeyFooter
from tui.widgets.status_bar import StatusBar
from tui.widgets.ticket_number import TicketNumber
from vessel import campaign, citizens, ticket_print, tickets, waits
from vessel.citizens import Citizen
from vessel.errors import Refused
from vessel.i18n import language, t
from vessel.operators import Actor
from vessel.ship import Ship
from vessel.tickets import Ticket

STEPS = ("find", "form", "services", "ticket")
NO_PRIORITY = "none"
# Search results: fixed widths, so the table looks the same before and after it measures its rows.
# The name takes the room the other columns leave (NAME_MIN on an 80-column terminal).
RESULT_WIDTHS = {"dni": 8, "age": 4, "conditions": 26}
NAME_MIN = 30


class RegistrationScreen(ShipScreen):
    AUTO_FOCUS = "#search"
    BINDINGS = [
        Binding("f3", "new_citizen", "tui.key.new_citizen", id="registration.new", tooltip="tui.tip.new_citizen"),
        Binding("f4", "anonymous", "tui.key.anonymous", id="registration.anonymous", tooltip="tui.tip.anonymous"),
        Binding("ctrl+s", "save_citizen", "tui.key.save", id="registration.save", tooltip="tui.tip.save_citizen"),
        Binding("ctrl+t", "issue", "tui.key.issue", id="registration.issue", tooltip="tui.tip.issue"),
        Binding("ctrl+r", "reprint", "tui.key.reprint", id="registration.reprint", tooltip="tui.tip.reprint"),
        Binding("enter", "next_citizen", "tui.key.next_citizen", id="registration.next",
                tooltip="tui.tip.next_citizen"),
        Binding("escape", "back", "tui.key.back", id="registration.back", tooltip="tui.tip.back"),
        Binding("down", "focus_results", "tui.key.results", show=False, id="registration.results",
                tooltip="tui.tip.results"),
    ]

    def __init__(self, ship: Ship, actor: Actor | None, **kw: Any) -> None:
        super().__init__(ship, actor, **kw)
        self.step = "find"
        self.results: list[Citizen] = []
        self.citizen: Citizen | None = None
        self.route: list[str] = []
        self.ticket: Ticket | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(self.ship, self.actor, t("tui.reg.where"))
        with ContentSwitcher(initial="find", id="steps"):
            with Vertical(id="find"):
                yield Label(t("tui.reg.search_label"))
                yield Input(id="search", placeholder=t("tui.reg.search_placeholder"), max_length=60)
                table = DataTable(id="results", cursor_type="row", zebra_stripes=True)
                self._result_columns(table, NAME_MIN)
                yield table
                yield Static(t("tui.reg.find_hint"), id="find-hint")
            yield CitizenForm(self.ship, id="form")
            with Vertical(id="services"):
                yield Static(id="citizen-line")
                yield Label(t("tui.reg.services_label"))
                yield SelectionList[str](id="stations", compact=True)
                yield Static(id="route-line")
                yield Label(t("tui.reg.priority_label"))
                with RadioSet(id="priority", compact=True):
                    yield RadioButton(t("tui.reg.no_priority"), id=f"p-{NO_PRIORITY}", value=True)
                    lang = language()
                    for p in self.ship.config.priority_classes:
                        yield RadioButton(p.name(lang), id=f"p-{p.code}")
            with Vertical(id="ticket"):
                yield TicketNumber(id="issued")
                yield Static(id="ticket-route")
                yield Static(id="ticket-wait")
                yield Static(id="print-status")
                yield Static(t("tui.reg.ticket_hint"), id="ticket-hint")
        yield KeyFooter()

    # --- steps -------------------------------------------------------------------------

    def go_to(self, step: str) -> None:
        self.step = step
        self.query_one("#steps", ContentSwitcher).current = step
        self.refresh_bindings()
        if step == "find":
            self.call_after_refresh(self._fit_results)  # the terminal may have been resized meanwhile

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        step = self.step
        rules = {
            "new_citizen": step == "find",
            "anonymous": step == "find",
            "save_citizen": step == "form",
            "issue": step == "services",
            "reprint": step == "ticket" and self.session.print_ticket is not None,
            "next_citizen": step == "ticket",
            "back": step != "find",
            "focus_results": step == "find" and bool(self.results),
        }
        return rules.get(action, True)

    def refresh_data(self) -> None:
        self.query_one(StatusBar).refresh_status()
        if self.step == "services":
            self._show_station_loads()

    # --- find ----------------------------------------------------------------------------

    @staticmethod
    def _result_columns(table: DataTable, name_width: int) -> None:
        table.add_column(t("tui.reg.col_dni"), key="dni", width=RESULT_WIDTHS["dni"])
        table.add_column(t("tui.reg.col_name"), key="name", width=name_width)
        table.add_column(t("tui.reg.col_age"), key="age", width=RESULT_WIDTHS["age"])
        table.add_column(t("tui.reg.col_conditions"), key="conditions", width=RESULT_WIDTHS["conditions"])

    def _show_results(self) -> None:
        table = self.query_one("#results", DataTable)
        table.clear()
        today = self.ship.now().date()
        for c in self.results:
            age = c.age(today)
            # A name longer than its column ends in "…": the clerk sees it was cut (and no markup is read).
            name = Text(c.full_name, no_wrap=True, overflow="ellipsis")
            table.add_row(c.dni or "—", name, "" if age is None else str(age),
                          fmt.citizen_conditions(self.ship, c), key=str(c.id))

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._fit_results)

    def _fit_results(self) -> None:
        """Give the name column the width the terminal has to spare, so a long name is cut only if it must be."""
        table = self.query_one("#results", DataTable)
        if table.size.width == 0:
            return  # not laid out yet (another step is showing): fitted when it is
        padding = 2 * table.cell_padding * (len(RESULT_WIDTHS) + 1)
        spare = table.size.width - table.styles.scrollbar_size_vertical - padding - sum(RESULT_WIDTHS.values())
        width = max(NAME_MIN, spare)
        if next(c.width for c in table.columns.values() if c.key.value == "name") != width:
            table.clear(columns=True)
            self._result_columns(table, width)
            self._show_results()

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.results = citizens.find(self.ship, event.value)
        self._show_results()
        hint = t("tui.reg.find_hint") if not event.value.strip() or self.results else t("tui.reg.not_found")
        self.query_one("#find-hint", Static).update(hint)
        self.refresh_bindings()

    @on(Input.Submitted, "#search")
    def _search_entered(self) -> None:
        if len(self.results) == 1:
            self.choose(self.results[0])
        elif self.results:
            self.action_focus_results()

    def action_focus_results(self) -> None:
        self.query_one("#results", DataTable).focus()

    @on(DataTable.RowSelected, "#results")
    def _picked(self, event: DataTable.RowSelected) -> None:
        citizen = next((c for c in self.results if str(c.id) == event.row_key.value), None)
        if citizen is not None:
            self.choose(citizen)

    def action_new_citizen(self) -> None:
        form = self.query_one(CitizenForm)
        form.prefill(self.query_one("#search", Input).value)
        self.go_to("form")
        form.focus_start()

    def action_anonymous(self) -> None:
        self.choose(None)

    # --- new citizen -------------------------------------------------------------------------

    def action_save_citizen(self) -> None:
        form = self.query_one(CitizenForm)
        if not form.check_all():
            self.notify(t("tui.form.fix_errors"), severity="warning")
            return
        self.act("register", citizens.register, self.actor, **form.data())

    # --- services ----------------------------------------------------------------------------

    def choose(self, citizen: Citizen | None) -> None:
        self.citizen = citizen
        self.route = []
        if citizen is None:
            line = t("tui.reg.anonymous_line")
        else:
            line = t("tui.reg.citizen_line", citizen=fmt.citizen_line(self.ship, citizen))
        self.query_one("#citizen-line", Static).update(line)
        stations = self.query_one("#stations", SelectionList)
        stations.clear_options()
        stop = campaign.current(self.ship)
        if stop is not None:
            stations.add_options([Selection(self._station_prompt(code, None), code) for code in stop.stations])
        self._show_station_loads()
        self._show_route()
        code = citizens.priority_class_for(self.ship, citizen, self.ship.now().date()) or NO_PRIORITY
        self.query_one(f"#p-{code}", RadioButton).value = True
        self.go_to("services")
        if stations.option_count:
            stations.highlighted = 0
        stations.focus()

    def _station_prompt(self, code: str, load: waits.StationLoad | None) -> str:
        name = fmt.station_name(self.ship, code)
        if code in self.route:  # the place this station takes in the ticket's route
            name = f"{self.route.index(code) + 1}. {name}"
        if load is None:
            return name
        return t("tui.reg.station_choice", station=name, waiting=load.waiting, desks=load.open_desks,
                 wait=fmt.wait_range(load.wait_low_min, load.wait_high_min))

    def _show_station_loads(self) -> None:
        stations = self.query_one("#stations", SelectionList)
        for index in range(stations.option_count):
            code = stations.get_option_at_index(index).value
            stations.replace_option_prompt_at_index(index, self._station_prompt(code, waits.load(self.ship, code)))
        if campaign.current(self.ship) is None:
            self.query_one("#route-line", Static).update(t("tui.reg.no_stop"))

    @on(SelectionList.SelectionToggled, "#stations")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        code = event.selection.value
        if code in self.route:
            self.route.remove(code)
        else:
            self.route.append(code)
        self._show_station_loads()
        self._show_route()

    def _show_route(self) -> None:
        if not self.route:
            text = t("tui.reg.route_empty")
        else:
            text = t("tui.reg.route", route=" → ".join(
                f"{i}. {fmt.station_name(self.ship, c)}" for i, c in enumerate(self.route, start=1)))
        self.query_one("#route-line", Static).update(text)

    def _priority(self) -> str | None:
        pressed = self.query_one("#priority", RadioSet).pressed_button
        code = (pressed.id or "").removeprefix("p-") if pressed else NO_PRIORITY
        return None if code == NO_PRIORITY else code

    def action_issue(self) -> None:
        self.act("issue", tickets.issue, self.actor, list(self.route),
                 self.citizen.id if self.citizen else None, self._priority())

    # --- ticket -------------------------------------------------------------------------------

    def _show_ticket(self, ticket: Ticket) -> None:
        self.ticket = ticket
        first = ticket.steps[0]
        self.query_one("#issued", TicketNumber).show(ticket.number, t("tui.reg.ticket_caption", ticket=first.label))
        lines = fmt.route_lines(self.ship, ticket.steps)
        if ticket.priority_class:
            lines.append(t("tui.desk.priority", name=fmt.class_name(self.ship, ticket.priority_class)))
        self.query_one("#ticket-route", Static).update("\n".join(lines))
        low, high = ticket_print.wait_range(self.ship, first)
        self.query_one("#ticket-wait", Static).update(
            t("tui.reg.wait", station=fmt.station_name(self.ship, first.station), range=fmt.wait_range(low, high))
        )
        self.go_to("ticket")
        self.set_focus(None)
        if self.session.print_ticket is not None:
            self.print_ticket(ticket)
        else:
            self.query_one("#print-status", Static).update("")

    def action_reprint(self) -> None:
        if self.ticket is not None:
            self.print_ticket(self.ticket)

    def print_ticket(self, ticket: Ticket) -> None:
        self.query_one("#print-status", Static).update(t("tui.print.printing"))
        self._print(ticket)

    @work(thread=True, group="printer", exit_on_error=False)
    def _print(self, ticket: Ticket) -> None:
        # No ship_lock: the slip only reads, and a printer may take seconds to time out.
        try:
            self.session.print_ticket(self.ship, ticket)
        except Refused as exc:
            self.post_message(TicketNotPrinted(ticket.label, exc.message()))
        except Exception as exc:  # whatever else the port does, the ticket is committed and stands
            self.post_message(TicketNotPrinted(ticket.label, str(exc) or type(exc).__name__))
        else:
            self.post_message(TicketPrinted(ticket.label))

    @on(TicketPrinted)
    def _printed(self, event: TicketPrinted) -> None:
        self.query_one("#print-status", Static).update(t("tui.print.done", ticket=event.label))

    @on(TicketNotPrinted)
    def _not_printed(self, event: TicketNotPrinted) -> None:
        message = t("tui.print.failed", ticket=event.label, reason=event.reason)
        self.query_one("#print-status", Static).update(message)
        self.notify(message, severity="warning", timeout=10)

    def action_next_citizen(self) -> None:
        self.citizen = None
        self.ticket = None
        self.route = []
        self.query_one(CitizenForm).clear()
        search = self.query_one("#search", Input)
        search.value = ""
        self.go_to("find")
        search.focus()

    def action_back(self) -> None:
        if self.step == "ticket":
            self.action_next_citizen()
            return
        self.go_to("find")
        self.query_one("#search", Input).focus()

    # --- answers ------------------------------------------------------------------------------

    def after_action(self, action: str, result: Any) -> None:
        if action == "register":
            self.query_one(CitizenForm).clear()
            self.notify(t("tui.reg.registered", name=result.full_name))
            self.choose(result)
        elif action == "issue":
            self._show_ticket(result)

    def after_refusal(self, refusal: ActionRefused) -> None:
        if refusal.action == "register":
            self.query_one(CitizenForm).show_refusal(refusal.code, refusal.params, refusal.message)
