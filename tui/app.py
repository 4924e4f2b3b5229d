"""The PIAS terminal app: one process per terminal, every role's screens as Textual modes.

Built only through tui.factory.make_app, so the `pias` command and the tests
start it the same way. Who lands where lives in navigation.py; the screens
in screens/; this class only wires them, the themes and the change watcher.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from tui.commands import BindingCommands
from tui.localise import localise_bindings
from tui.navigation import Navigator
from tui.refresh import ChangeWatcher
from tui.session import Session
from tui.themes import DEFAULT_THEME, HIGH_CONTRAST_THEME, THEMES
from vessel.i18n import t


class PiasApp(App[None]):
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {BindingCommands}
    BINDINGS = [
        Binding("f2", "toggle_contrast", "tui.key.contrast", id="app.contrast", tooltip="tui.tip.contrast"),
        Binding("f5", "go('coordinator')", "tui.key.dashboard", id="app.dashboard", tooltip="tui.tip.dashboard"),
        Binding("f6", "go('registration')", "tui.key.registration", id="app.registration",
                tooltip="tui.tip.registration"),
        Binding("f7", "choose_desk", "tui.key.desks", id="app.desks", tooltip="tui.tip.desks"),
        Binding("f8", "go('bridge')", "tui.key.bridge", id="app.bridge", tooltip="tui.tip.bridge"),
        Binding("f9", "go('ledger')", "tui.key.ledger", id="app.ledger", tooltip="tui.tip.ledger"),
        Binding("ctrl+l", "sign_out", "tui.key.sign_out", id="app.sign_out", tooltip="tui.tip.sign_out"),
        Binding("ctrl+p", "command_palette", "tui.key.palette", id="app.palette", tooltip="tui.tip.palette",
                priority=True),
        Binding("ctrl+q", "quit", "tui.key.quit", id="app.quit", tooltip="tui.tip.quit", priority=True),
        # Priority, so Tab moves on before the keys typed after it arrive: a fast typist's
        # "user, Tab, PIN" would otherwise all land in the first field.
        Binding("tab", "app.focus_next", show=False, priority=True, id="app.focus_next"),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True, id="app.focus_previous"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.title = session.ship.config.ship_name
        self.navigator = Navigator(self, session.ship, session.kiosk_desk)
        self.watcher = ChangeWatcher(self, session.ship.db, session.poll_seconds)
        localise_bindings(self)

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.navigator.install()
        self.switch_mode(self.session.start_mode)
        self.watcher.start()
        if self.session.actor is not None:  # signed in by the factory (tests, benchmarks)
            self.call_after_refresh(self.navigator.sign_in, self.session.actor)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        nav = self.navigator
        if action == "go":
            return nav.can_go(str(parameters[0]))
        if action == "choose_desk":
            return nav.can_choose_desk()
        if action == "sign_out":
            return nav.actor is not None
        return True

    def action_go(self, mode: str) -> None:
        self.navigator.go(mode)

    def action_choose_desk(self) -> None:
        self.navigator.choose_desk()

    def action_sign_out(self) -> None:
        self.navigator.sign_out()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own entries, in the operator's language; quitting is already a key.
        yield SystemCommand(t("tui.palette.theme"), t("tui.palette.theme_help"), self.action_change_theme)
        yield SystemCommand(t("tui.palette.keys"), t("tui.palette.keys_help"), self.action_show_help_panel)

    def action_command_palette(self) -> None:
        if not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=t("tui.palette.placeholder"), id="--command-palette"))

    def action_toggle_contrast(self) -> None:
        self.theme = DEFAULT_THEME if self.theme == HIGH_CONTRAST_THEME else HIGH_CONTRAST_THEME
