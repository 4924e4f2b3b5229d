"""The first screen of every staff terminal: operator and PIN.

The PIN check (scrypt) and the failed-attempt count run in the domain, in a
worker; a wrong PIN or a locked account comes back as a refusal shown here
and as a notification. The login typed stays; only the PIN is cleared.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, VerticalGroup
from textual.widgets import Button, Input, Label, Static

from tui.messages import ActionRefused
from tui.screens.base import ShipScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.status_bar import StatusBar
from vessel import config as config_mod
from vessel import operators
from vessel.i18n import t
from vessel.setup import DEMO_OPERATORS


def _is_demo_ship(ship) -> bool:
    return ship.config.ship_id == config_mod.load_demo().ship_id


class LoginScreen(ShipScreen):
    AUTO_FOCUS = "#login"
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen #login-box {
        width: 50; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 0 2;
    }
    LoginScreen #login-title { text-style: bold; width: 1fr; text-align: center; margin-bottom: 1; }
    LoginScreen #login-error { color: $error; height: auto; }
    LoginScreen #login-kiosk { color: $accent; text-style: bold; height: auto; }
    LoginScreen #login-demo { color: $text-muted; height: auto; width: 76; max-width: 100%; margin-top: 1; }
    LoginScreen Button { width: 1fr; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield StatusBar(self.ship, None, t("tui.login.where"))
        with Center(), VerticalGroup(id="login-box"):
            yield Label(t("tui.login.title"), id="login-title")
            if self.session.kiosk_desk:
                yield Static(t("tui.login.kiosk", desk=self.session.kiosk_desk), id="login-kiosk")
            yield Label(t("tui.login.login"))
            yield Input(id="login", max_length=40, placeholder=t("tui.login.login_placeholder"))
            yield Label(t("tui.login.pin"))
            yield Input(id="pin", password=True, restrict=r"[0-9]*", max_length=8)
            yield Static("", id="login-error")
            yield Button(t("tui.login.enter"), id="enter", variant="primary")
        if _is_demo_ship(self.ship):
            demo = " · ".join(f"{login} {pin}" for login, _n, _r, _s, pin in DEMO_OPERATORS)
            with Center():
                yield Static(t("tui.login.demo", logins=demo), id="login-demo")
        yield KeyFooter()

    def refresh_data(self) -> None:
        self.query_one(StatusBar).refresh_status()

    def on_screen_resume(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back from a session (signed out): the next operator starts from a clean form."""
        self.query_one("#login", Input).value = ""
        self.query_one("#pin", Input).value = ""
        self.query_one("#login-error", Static).update("")
        self.query_one("#login", Input).focus()

    @on(Input.Submitted, "#login")
    def _login_entered(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#enter")
    def submit(self) -> None:
        login = self.query_one("#login", Input).value.strip()
        pin = self.query_one("#pin", Input).value
        if not login:
            self._error(t("tui.login.need_login"))
            self.query_one("#login", Input).focus()
            return
        if not pin:
            self._error(t("tui.login.need_pin"))
            self.query_one("#pin", Input).focus()
            return
        self.query_one("#login-error", Static).update(t("tui.login.checking"))
        self.act("login", operators.login, login, pin)

    def _error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)

    def after_action(self, action: str, result: Any) -> None:
        self.query_one("#pin", Input).value = ""
        self.query_one("#login-error", Static).update("")
        self.app.navigator.sign_in(result)  # type: ignore[attr-defined]

    def after_refusal(self, refusal: ActionRefused) -> None:
        self._error(refusal.message)
        pin = self.query_one("#pin", Input)
        pin.value = ""
        pin.focus()
