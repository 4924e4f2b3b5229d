"""Who lands where: each role's screens as Textual modes, added at login and removed at logout.

A mode is a screen stack of its own, so a coordinator can leave the
registration form half filled, look at a desk, and come back to it as it
was. Desk screens get one mode per desk ("desk:salud-1"). Screens written
apart from this module (dashboard, bridge, ledger and reports, public
display) are looked up at run time, so the app runs while any is missing.
"""

from __future__ import annotations

import importlib
from functools import partial

from textual.app import App
from textual.screen import Screen

from tui.screens.login import LoginScreen
from tui.widgets.modals import PickModal
from vessel import operators, tickets
from vessel.i18n import language, t
from vessel.operators import Actor
from vessel.ship import Ship

# Mode name -> (module, class) of screens that may be absent from this installation.
OPTIONAL_SCREENS = {
    "coordinator": ("tui.screens.coordinator", "CoordinatorScreen"),
    "bridge": ("tui.screens.bridge", "BridgeScreen"),
    "ledger": ("tui.screens.ledger_reports", "LedgerReportsScreen"),
    "display": ("tui.screens.display", "DisplayScreen"),
}
DESK_PREFIX = "desk:"
# The order in which a role's home is chosen among the modes it may use.
HOME_ORDER = ("coordinator", "registration", "desk", "bridge", "ledger")


def optional_screen(mode: str) -> type[Screen] | None:
    """The screen class for a mode, or None when its module is not installed."""
    module_name, class_name = OPTIONAL_SCREENS[mode]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    found = getattr(module, class_name, None)
    return found if isinstance(found, type) and issubclass(found, Screen) else None


def screen_class(mode: str) -> type[Screen] | None:
    if mode == "registration":
        from tui.screens.registration import RegistrationScreen  # imported at login: the first screen comes sooner

        return RegistrationScreen
    if mode in OPTIONAL_SCREENS:
        return optional_screen(mode)
    return None


def role_modes(actor: Actor) -> list[str]:
    """The modes (other than desks) this operator may open, in menu order."""
    wanted = []
    if actor.role == "coordinator":
        wanted.append("coordinator")
    if actor.may("issue"):
        wanted.append("registration")
    if actor.may("stops"):
        wanted.append("bridge")
    if actor.may("ledger") or actor.may("reports"):
        wanted.append("ledger")
    return [m for m in wanted if screen_class(m) is not None]


def desks_for(ship: Ship, actor: Actor) -> list[tickets.Desk]:
    """The desks this operator may serve at, in the order of the ship's stations."""
    order = [s.code for s in ship.config.stations]
    allowed = [d for d in tickets.desks(ship) if actor.may("desk", d.station)]
    return sorted(allowed, key=lambda d: (order.index(d.station) if d.station in order else len(order), d.number))


def desk_label(ship: Ship, desk: tickets.Desk, names: dict[int, str]) -> str:
    """A desk as offered in the chooser: its station, its state and who has it open."""
    station = ship.config.station(desk.station).name(language())
    label = t("tui.desk.choice", desk=desk.code, station=station, state=t(f"tui.desk_state.{desk.state}"))
    if desk.state != "closed" and desk.operator_id in names:
        label = t("tui.desk.choice_by", choice=label, name=names[desk.operator_id])
    return label


class Navigator:
    """Signs operators in and out and moves between their modes; the App's actions call it."""

    def __init__(self, app: App, ship: Ship, kiosk_desk: str | None) -> None:
        self.app = app
        self.ship = ship
        self.kiosk_desk = kiosk_desk
        self.actor: Actor | None = None
        self.modes: list[str] = []
        self.desk_count = 0
        """How many desks the signed-in operator may serve at (they come from the config: fixed)."""

    # --- start ------------------------------------------------------------------

    def install(self) -> None:
        self.app.add_mode("login", partial(LoginScreen, self.ship, None))
        # Imported only if shown: a staff terminal never loads the public display's sound code.
        self.app.add_mode("display", self._display_screen)

    def _display_screen(self) -> Screen:
        return optional_screen("display")(self.ship, None)

    # --- session ------------------------------------------------------------------

    def sign_in(self, actor: Actor) -> None:
        self.actor = actor
        self.desk_count = len(desks_for(self.ship, actor))
        self.app.session.actor = actor  # type: ignore[attr-defined]
        if self.kiosk_desk is not None:
            desk = tickets.get_desk(self.ship, self.kiosk_desk)
            if not actor.may("desk", desk.station):
                self.app.notify(t("tui.login.not_this_desk", desk=desk.code), severity="error")
                self.sign_out()
                return
            self.open_desk(desk.code)
            return
        for mode in role_modes(actor):
            cls = screen_class(mode)
            self.app.add_mode(mode, partial(cls, self.ship, actor))
            self.modes.append(mode)
        home = next((m for m in HOME_ORDER if m in self.modes or (m == "desk" and self.may_use_desks())), None)
        if home is None:
            self.app.notify(t("tui.login.no_screen"), severity="error")
            self.sign_out()
        elif home == "desk":
            self.choose_desk(on_cancel=self.sign_out)
        else:
            self.app.switch_mode(home)

    def sign_out(self) -> None:
        self.app.switch_mode("login")
        if isinstance(self.app.screen, LoginScreen):
            self.app.screen.reset()
        for mode in self.modes:
            self.app.remove_mode(mode)
        self.modes = []
        self.actor = None
        self.desk_count = 0
        self.app.session.actor = None  # type: ignore[attr-defined]
        self.app.refresh_bindings()

    # --- moving around ------------------------------------------------------------

    def may_use_desks(self) -> bool:
        return self.actor is not None and self.desk_count > 0

    def can_go(self, mode: str) -> bool:
        return self.kiosk_desk is None and mode in self.modes and self.app.current_mode != mode

    def can_choose_desk(self) -> bool:
        if self.kiosk_desk is not None or self.actor is None:
            return False
        return self.desk_count > 1 or (self.desk_count == 1 and not self.app.current_mode.startswith(DESK_PREFIX))

    def go(self, mode: str) -> None:
        if self.can_go(mode):
            self.app.switch_mode(mode)

    def open_desk(self, code: str) -> None:
        mode = DESK_PREFIX + code
        if mode not in self.modes:
            from tui.screens.desk import DeskScreen

            self.app.add_mode(mode, partial(DeskScreen, self.ship, self.actor, desk=code))
            self.modes.append(mode)
        self.app.switch_mode(mode)

    def choose_desk(self, on_cancel=None) -> None:
        """Ask which desk (several at the station, or any for a coordinator) and open it."""
        desks = desks_for(self.ship, self.actor)
        if len(desks) == 1:
            self.open_desk(desks[0].code)
            return
        mine = next((d.code for d in desks if d.operator_id == self.actor.id and d.state != "closed"), None)
        free = next((d.code for d in desks if d.state == "closed"), None)
        current = self.app.current_mode.removeprefix(DESK_PREFIX)
        names = {o["id"]: o["name"] for o in operators.all_operators(self.ship)}

        def chosen(code: str | None) -> None:
            if code:
                self.open_desk(code)
            elif on_cancel is not None:
                on_cancel()

        self.app.push_screen(
            PickModal(
                t("tui.desk.choose"),
                [(d.code, desk_label(self.ship, d, names)) for d in desks],
                highlight=mine or (current if current in {d.code for d in desks} else free),
            ),
            chosen,
        )
