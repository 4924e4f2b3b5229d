"""A station desk driven by its keys: every action, its refusals, and what the screen shows after each."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from tui.screens.desk import DeskScreen
from tui.widgets.modals import ConfirmModal, FinishModal, PickModal, TextModal
from vessel import operators, tickets

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.register_assert_rewrite("staff_fixtures")
from staff_fixtures import build, notices, screen_text, settle, type_text  # noqa: E402


@pytest.fixture
def queue(ship, at_stop):
    """Three citizens waiting at salud: an ordinary one, a priority one, then one going on to banco."""
    registrar = operators.get(ship, "registro")
    first = tickets.issue(ship, registrar, ["salud"])
    ship.clock.advance(minutes=1)
    priority = tickets.issue(ship, registrar, ["salud"], priority_class="gestante")
    ship.clock.advance(minutes=1)
    onward = tickets.issue(ship, registrar, ["salud", "banco"])
    ship.clock.advance(minutes=5)
    return first, priority, onward


def salud_desk(ship, desk: str = "salud-1"):
    return build(ship, desk=desk, actor=operators.get(ship, "salud"))


def at_desk(ship, desk: str = "salud-1"):
    return tickets.current_at_desk(ship, desk)


async def press(pilot, *keys: str) -> None:
    """Press keys one by one, each after the previous one's domain call has come back."""
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def pick(pilot, option_id: str) -> None:
    """Highlight an option of the open PickModal by moving down to it, then choose it."""
    modal = pilot.app.screen
    assert isinstance(modal, PickModal)
    ids = [oid for oid, _ in modal.options]
    await pilot.press("home", *["down"] * ids.index(option_id), "enter")
    await settle(pilot)


async def test_open_call_recall_serve_finish_and_undo(ship, queue):
    priority = queue[1]
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        assert "CERRADA" in screen_text(app)
        assert screen.check_action("call_next", ()) is False  # a closed desk calls nobody
        await press(pilot, "o")
        assert tickets.get_desk(ship, "salud-1").state == "open"
        assert "ABIERTA" in screen_text(app)
        assert screen.query_one("#waiting", DataTable).row_count == 3

        await press(pilot, "n")
        called = at_desk(ship)
        assert called.ticket_id == priority.id  # preferential attention first
        assert called.state == "called"
        assert called.label in screen_text(app)
        assert "LLAMADO (1)" in screen_text(app)
        assert screen.query_one("#waiting", DataTable).row_count == 2

        await press(pilot, "r")
        assert any(n.startswith("Espere") for n in notices(app))
        assert at_desk(ship).call_count == 1

        ship.clock.advance(seconds=ship.config.queue.recall_gap_seconds + 1)
        await press(pilot, "r")
        assert at_desk(ship).call_count == 2
        assert "LLAMADO (2)" in screen_text(app)

        await press(pilot, "s")
        assert at_desk(ship).state == "serving"
        assert "EN ATENCIÓN" in screen_text(app)

        await press(pilot, "f")
        assert isinstance(app.screen, FinishModal)
        await pilot.press("down", "space", "tab")
        await type_text(pilot, "sin insumos")
        await press(pilot, "enter")
        assert isinstance(app.screen, DeskScreen)
        done = tickets.get_step(ship, called.id)
        assert (done.state, done.outcome, done.notes) == ("done", "not_served", "sin insumos")
        assert at_desk(ship) is None
        assert "Sin turno" in screen_text(app)

        await press(pilot, "u")
        assert tickets.get_step(ship, called.id).state == "serving"
        assert any(n.startswith("Deshecho") for n in notices(app))

        await press(pilot, "f")
        await press(pilot, "ctrl+s")
        done = tickets.get_step(ship, called.id)
        assert (done.state, done.outcome, done.notes) == ("done", "served", None)


async def test_missed_after_enough_calls_then_reactivated(ship, queue):
    app = salud_desk(ship)
    gap = ship.config.queue.recall_gap_seconds + 1
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o", "n")
        step = at_desk(ship)
        await press(pilot, "m")
        assert any("se marca ausente tras 3 llamadas" in n for n in notices(app)), notices(app)
        assert at_desk(ship).state == "called"
        for _ in range(2):
            ship.clock.advance(seconds=gap)
            await press(pilot, "r")
        await press(pilot, "m")
        assert tickets.get_step(ship, step.id).state == "missed"
        assert "Ausentes: 1" in screen_text(app)

        await press(pilot, "a")
        modal = app.screen
        assert isinstance(modal, PickModal)
        assert modal.options[0][1].startswith(step.label)
        await press(pilot, "enter")
        assert tickets.get_step(ship, step.id).state == "waiting"
        assert f"{step.label} vuelve a la cola" in notices(app)
        assert "Ausentes: 0" in screen_text(app)


async def test_refer_to_another_station_and_add_one(ship, queue):
    first = queue[0]
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o", "n", "s")
        step = at_desk(ship)
        await press(pilot, "t")
        assert isinstance(app.screen, PickModal)
        offered = [oid for oid, _ in app.screen.options]
        assert "salud" not in offered and "programas" in offered
        await pick(pilot, "programas")
        assert isinstance(app.screen, TextModal)
        await type_text(pilot, "control de peso")
        await press(pilot, "enter")
        route = tickets.route(ship, step.ticket_id)
        assert [s.station for s in route] == ["salud", "programas"]
        assert route[0].state == "transferred" and route[0].outcome == "referred"
        assert route[1].state == "waiting" and route[1].from_step == step.id
        assert any(n.startswith("Derivado: ahora es P-") for n in notices(app))

        # The next ticket (S-001) gets an extra station added while being served.
        await press(pilot, "n", "s", "e")
        current = at_desk(ship)
        assert current.ticket_id == first.id
        await pick(pilot, "reniec")
        assert [s.station for s in tickets.route(ship, first.id)] == ["salud", "reniec"]
        assert tickets.route(ship, first.id)[1].state == "pending"


async def test_cancel_asks_first(ship, queue):
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o", "n")
        step = at_desk(ship)
        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmModal)
        await press(pilot, "n")
        assert tickets.get_step(ship, step.id).state == "called"
        await press(pilot, "x")
        await press(pilot, "s")
        assert tickets.get_step(ship, step.id).state == "cancelled"
        assert f"Turno {step.label} anulado" in notices(app)

        # With nobody at the desk, x cancels the ticket highlighted in the queue.
        table = app.screen.query_one("#waiting", DataTable)
        table.move_cursor(row=1)
        chosen = app.screen.waiting[1]
        await press(pilot, "x", "s")
        assert tickets.get_step(ship, chosen.id).state == "cancelled"


async def test_call_the_highlighted_ticket_out_of_order(ship, queue):
    onward = queue[2]
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o")
        await press(pilot, "down", "down")
        await press(pilot, "c")
        assert at_desk(ship).ticket_id == onward.id


async def test_pause_needs_a_reason_and_resume(ship, queue):
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o", "p")
        assert isinstance(app.screen, TextModal)
        await press(pilot, "enter")
        assert isinstance(app.screen, TextModal)  # still open, asking for the reason
        assert "Este dato es obligatorio" in screen_text(app)
        await type_text(pilot, "almuerzo")
        await press(pilot, "enter")
        desk = tickets.get_desk(ship, "salud-1")
        assert (desk.state, desk.pause_reason) == ("paused", "almuerzo")
        assert "EN PAUSA — almuerzo" in screen_text(app)
        assert app.screen.check_action("call_next", ()) is False
        await press(pilot, "p")
        assert tickets.get_desk(ship, "salud-1").state == "open"
        await press(pilot, "o")
        assert tickets.get_desk(ship, "salud-1").state == "closed"


async def test_escape_backs_out_of_every_dialog(ship, queue):
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o", "n", "s")
        for key in ("f", "t", "x", "e"):
            await press(pilot, key)
            assert not isinstance(app.screen, DeskScreen)
            await press(pilot, "escape")
            assert isinstance(app.screen, DeskScreen)
        assert at_desk(ship).state == "serving"


async def test_refusals_are_notifications_not_tracebacks(ship, at_stop):
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "u")
        assert notices(app) == ["No hay nada que deshacer en la ventanilla salud-1"]
        await press(pilot, "o", "n")
        assert notices(app)[-1] == "No hay turnos en espera en salud"
        await press(pilot, "a")
        assert "No hay turnos ausentes" in screen_text(app)
        await press(pilot, "escape")
        assert app.return_code is None and app.is_running


async def test_a_desk_taken_from_under_us_is_refused_cleanly(ship, queue):
    """Another desk calls the last ticket between our screen's reading and our key."""
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o")
        other = operators.get(ship, "coordinador")
        tickets.open_desk(ship, other, "salud-2")
        for _ in range(3):  # salud-2 serves the whole queue, one at a time
            tickets.call_next(ship, other, "salud-2")
            tickets.start(ship, other, "salud-2")
            tickets.finish(ship, other, "salud-2")
        assert app.screen.check_action("call_next", ()) is True  # our screen has not re-read yet
        await press(pilot, "n")
        assert notices(app)[-1] == "No hay turnos en espera en salud"
        assert at_desk(ship) is None


async def test_the_palette_runs_desk_actions(ship, queue):
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o")
        await press(pilot, "ctrl+p")
        await type_text(pilot, "Siguiente")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await settle(pilot)
        assert at_desk(ship) is not None


async def test_footer_shows_every_offered_key_at_80_columns(ship, queue):
    app = salud_desk(ship)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "o", "n")
        footer = "\n".join(screen_text(app).splitlines()[-3:])
        for word in ("Rellamar", "Atender", "Ausente", "Derivar", "Anular", "Deshacer", "Comandos"):
            assert word in footer
        input_fields = app.screen.query(Input)
        assert not input_fields  # nothing on a desk swallows the letter keys
