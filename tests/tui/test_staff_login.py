"""The login screen and where each role lands: real ships, real PIN checks, the app as `pias tui` builds it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from tui.screens.desk import DeskScreen
from tui.screens.login import LoginScreen
from tui.screens.registration import RegistrationScreen
from tui.widgets.modals import PickModal
from vessel import operators
from vessel.operators import MAX_FAILED_PINS

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.register_assert_rewrite("staff_fixtures")
from staff_fixtures import build, notices, screen_text, settle, sign_in, type_text  # noqa: E402


async def test_good_login_opens_the_role_home(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await sign_in(pilot, "registro", typed=True)
        assert isinstance(app.screen, RegistrationScreen)
        assert app.current_mode == "registration"
        assert app.session.actor.login == "registro"
        assert "Mesa de registro" in screen_text(app)


async def test_wrong_pin_is_refused_and_keeps_the_login(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "salud", "9999", typed=True)
        assert isinstance(app.screen, LoginScreen)
        assert "Usuario o PIN incorrecto" in notices(app)
        assert app.screen.query_one("#login", Input).value == "salud"
        assert app.screen.query_one("#pin", Input).value == ""
        assert app.focused is app.screen.query_one("#pin", Input)
        assert "Usuario o PIN incorrecto" in screen_text(app)
        assert app.session.actor is None
        # A login that does not exist gets the same answer: nobody learns which logins exist.
        await sign_in(pilot, "nadie", "1234")
        assert notices(app) == ["Usuario o PIN incorrecto", "Usuario o PIN incorrecto"]


async def test_too_many_wrong_pins_lock_the_account(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "banco")
        await pilot.press("enter")
        for _ in range(MAX_FAILED_PINS):
            # After each refusal the login stays and the cursor waits in the emptied PIN field.
            await type_text(pilot, "0000")
            await pilot.press("enter")
            await settle(pilot)
        assert any(n.startswith("Cuenta bloqueada") for n in notices(app))
        # The right PIN does not open a locked account.
        await type_text(pilot, "4444")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert notices(app)[-1].startswith("Cuenta bloqueada")


async def test_empty_fields_are_asked_for_without_calling_the_domain(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.press("enter")
        await settle(pilot)
        assert "Escriba su usuario" in screen_text(app)
        await type_text(pilot, "salud")
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert "Escriba su PIN" in screen_text(app)
        assert notices(app) == []


async def test_coordinator_lands_on_the_dashboard_and_reaches_every_screen(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "coordinador")
        assert app.current_mode == "coordinator"
        assert type(app.screen).__name__ == "CoordinatorScreen"
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, RegistrationScreen)
        await pilot.press("f8")
        await settle(pilot)
        assert type(app.screen).__name__ == "BridgeScreen"
        await pilot.press("f9")
        await settle(pilot)
        assert app.current_mode == "ledger"
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, PickModal)
        # Any desk of any station: the coordinator may serve anywhere.
        assert len(app.screen.options) == sum(s.desks for s in ship.config.stations)
        await pilot.press("end", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.desk_code == app.navigator.modes[-1].removeprefix("desk:")
        await pilot.press("f5")
        await settle(pilot)
        assert app.current_mode == "coordinator"


async def test_station_operator_chooses_among_the_desks_of_the_station(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "salud")
        assert isinstance(app.screen, PickModal)
        assert [oid for oid, _ in app.screen.options] == ["salud-1", "salud-2", "salud-3"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.desk_code == "salud-2"
        # Navigation keys of other roles are not offered.
        assert app.check_action("go", ("registration",)) is False
        assert app.check_action("go", ("coordinator",)) is False
        text = screen_text(app)
        assert "Registro" not in text.splitlines()[-1]


async def test_backing_out_of_the_desk_choice_signs_out(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "salud")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session.actor is None


async def test_a_station_with_one_desk_opens_it_at_once(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "mujer")
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.desk_code == "mujer-1"


async def test_bridge_lands_on_the_bridge(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "puente")
        assert app.current_mode == "bridge"
        assert app.check_action("go", ("registration",)) is False
        assert app.check_action("go", ("ledger",)) is True


async def test_sign_out_forgets_the_operator_and_clears_the_form(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "coordinador")
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session.actor is None
        assert app.navigator.modes == []
        assert app.screen.query_one("#login", Input).value == ""
        assert app.screen.query_one("#pin", Input).value == ""
        # Another operator signs in on the same terminal and gets their own home.
        await sign_in(pilot, "registro")
        assert isinstance(app.screen, RegistrationScreen)
        assert app.check_action("go", ("coordinator",)) is False


async def test_kiosk_terminal_opens_its_desk_for_an_operator_of_that_station(ship, at_stop):
    app = build(ship, desk="salud-2")
    async with app.run_test(size=(80, 24)) as pilot:
        assert "salud-2" in screen_text(app)
        await sign_in(pilot, "salud")
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.desk_code == "salud-2"
        assert app.check_action("choose_desk", ()) is False


async def test_kiosk_terminal_refuses_an_operator_of_another_station(ship, at_stop):
    app = build(ship, desk="salud-2")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "banco")
        assert isinstance(app.screen, LoginScreen)
        assert app.session.actor is None
        assert any("salud-2" in n for n in notices(app))
        await sign_in(pilot, "salud")
        assert isinstance(app.screen, DeskScreen)


async def test_kiosk_terminal_takes_the_coordinator_to_its_desk_only(ship, at_stop):
    app = build(ship, desk="banco-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "coordinador")
        assert isinstance(app.screen, DeskScreen)
        assert app.screen.desk_code == "banco-1"
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)


async def test_english_on_request(ship, at_stop):
    app = build(ship, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        text = screen_text(app)
        assert "Operator login" in text
        assert "Contrast" in text
        await sign_in(pilot, "salud", "0000")
        assert notices(app) == ["Wrong login or PIN"]


async def test_unknown_desk_is_refused_before_the_app_starts(ship):
    import pytest

    from vessel.errors import NotFound

    with pytest.raises(NotFound):
        build(ship, desk="salud-9")
    assert operators.get(ship, "salud").station == "salud"


async def test_high_contrast_by_key_and_by_palette(ship, at_stop):
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "pias"
        await pilot.press("f2")
        assert app.theme == "pias-contraste"
        await pilot.press("ctrl+p")
        await type_text(pilot, "Contraste")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.theme == "pias"


async def test_an_unexpected_failure_is_a_notice_and_the_terminal_goes_on(ship, at_stop):
    def broken(_ship):
        raise OSError("disco lleno")

    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.act("broken", broken)
        await settle(pilot)
        assert notices(app) == ["Error inesperado: disco lleno"]
        await sign_in(pilot, "registro")
        assert isinstance(app.screen, RegistrationScreen)


def test_pias_with_no_command_opens_the_terminal_app():
    from vessel.cli import build_parser
    from vessel.cli.tui_cmds import cmd_display, cmd_tui

    parser = build_parser()
    assert parser.parse_args(["tui", "--desk", "salud-1", "--lang", "en"]).func is cmd_tui
    args = parser.parse_args(["--lang", "en", "tui"])
    assert args.lang == "en" and args.desk is None
    assert parser.parse_args(["display"]).func is cmd_display
    from vessel.cli import DEFAULT_COMMAND, _command_of

    assert DEFAULT_COMMAND == "tui"
    assert _command_of(["--home", "x", "--lang", "en"]) == (None, False)  # main() then adds "tui"


def test_pias_tui_refuses_an_unknown_desk_in_one_line(demo_home):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "vessel.cli", "--home", str(demo_home.path), "tui", "--desk", "salud-9"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "pias: No existe la ventanilla salud-9"


async def test_a_screen_missing_from_the_installation_is_left_out(ship, at_stop, monkeypatch):
    from tui import navigation

    monkeypatch.setitem(navigation.OPTIONAL_SCREENS, "coordinator", ("tui.screens.not_installed", "XScreen"))
    assert navigation.optional_screen("coordinator") is None
    app = build(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "coordinador")
        assert isinstance(app.screen, RegistrationScreen)  # the next home in the coordinator's order
        assert "coordinator" not in app.navigator.modes
        assert app.check_action("go", ("coordinator",)) is False
