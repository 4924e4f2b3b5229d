"""Ledger and reports: verify (and catch a tampered entry), offload with progress, reports per stop, CSV export."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, ProgressBar, Static

from tui.screens.ledger_reports import WIDE_COLUMNS, LedgerReportsScreen
from tui.widgets.modals import TextModal
from vessel import ledger_link, operators, reports

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screen_host
from screen_host import host, wait_for

demo_day_template = screen_host.demo_day_template
day_home = screen_host.day_home
day_clock = screen_host.day_clock
day_ship = screen_host.day_ship
sealed_home = screen_host.sealed_home
sealed_ship = screen_host.sealed_ship


def ledger_screen(ship, login: str = "coordinador"):
    return lambda: LedgerReportsScreen(ship, operators.get(ship, login))


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def report_rows(app) -> list[list[str]]:
    table = app.screen.query_one("#ledger-report", DataTable)
    return [[str(c) for c in table.get_row(key)] for key in table.rows]


async def test_report_of_the_current_stop_and_of_the_whole_campaign(day_ship):
    app = host(day_ship, ledger_screen(day_ship))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "Informe: Mazán (150 turnos)" in text_of(app, "#ledger-report-title")
        figures = [f for f in reports.figures(day_ship, 1) if f.stop != reports.ALL]
        rows = report_rows(app)
        assert len(rows) == len(figures)
        for row, f in zip(rows, figures, strict=True):
            assert row[1:4] == [str(f.issued), str(f.served), str(f.missed)]
        assert rows[0][0] == "Salud" and rows[-1][0] == "(todos)"
        await pilot.press("right_square_bracket")
        assert "toda la campaña" in text_of(app, "#ledger-report-title")
        assert report_rows(app)[-1][0] == "Campaña"
        await pilot.press("left_square_bracket")
        assert "Mazán" in text_of(app, "#ledger-report-title")


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 40)])
async def test_the_report_columns_fit_the_terminal(day_ship, size):
    """No column is cut at the right edge: a narrower terminal shows fewer columns instead."""
    app = host(day_ship, ledger_screen(day_ship))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#ledger-report", DataTable)
        await wait_for(pilot, lambda: table.virtual_size.width > 0)
        shown = [c.key.value for c in table.ordered_columns]
        assert shown[:4] == ["station", "issued", "served", "missed"]
        assert table.virtual_size.width <= table.size.width
        assert not table.show_horizontal_scrollbar
        if size[0] >= 160:
            assert shown == list(WIDE_COLUMNS)  # every figure of the report


async def test_export_csv_to_the_proposed_file(day_ship):
    app = host(day_ship, ledger_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        assert isinstance(app.screen, TextModal)
        expected = day_ship.config.home / "reports" / "informe-mazan-2026-11-02.csv"
        assert app.screen.value == str(expected)
        await pilot.press("enter")
        await wait_for(pilot, expected.exists)
        assert expected.read_text(encoding="utf-8") == reports.to_csv(reports.figures(day_ship, 1))
        await wait_for(pilot, lambda: any("CSV escrito" in n for n in notes(app)))


async def test_export_to_a_folder_is_refused_and_writes_nothing(day_ship, tmp_path):
    app = host(day_ship, ledger_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        field = app.screen.query_one("#text")
        field.value = str(tmp_path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("es una carpeta" in n for n in notes(app)))
        assert list(tmp_path.glob("*.csv")) == []


async def test_reports_are_not_for_every_role(day_ship):
    app = host(day_ship, ledger_screen(day_ship, login="salud"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "no tiene permiso" in text_of(app, "#ledger-report-title")
        assert report_rows(app) == []


async def test_ledger_not_set_up_is_said_plainly(day_ship):
    app = host(day_ship, ledger_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "No disponible" in text_of(app, "#ledger-status")
        await pilot.press("v")
        await wait_for(pilot, lambda: "no está configurado" in text_of(app, "#ledger-verify"))
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen.busy is None)
        assert any("no está configurado" in n for n in notes(app))


async def test_verify_the_chain(sealed_ship):
    app = host(sealed_ship, ledger_screen(sealed_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        state = ledger_link.status(sealed_ship)
        assert f"Asientos: {state.entries}" in text_of(app, "#ledger-status")
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.verify_result is not None)
        assert app.screen.verify_result.ok
        assert f"Cadena íntegra: {state.entries} asientos" in text_of(app, "#ledger-verify")
        assert state.head_fingerprint in text_of(app, "#ledger-verify")
        assert app.screen.query_one("#ledger-verify").has_class("-good")


async def test_verify_names_the_first_tampered_entry(sealed_ship, sealed_home):
    # Someone edits the file behind the program's back: the append-only trigger is no defence.
    raw = sqlite3.connect(sealed_home.db_path)
    raw.execute("DROP TRIGGER ledger_entries_no_update")
    raw.execute("UPDATE ledger_entries SET kind = 'ticket.cancelled' WHERE seq = 3")
    raw.commit()
    raw.close()
    app = host(sealed_ship, ledger_screen(sealed_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.verify_result is not None)
        assert not app.screen.verify_result.ok
        text = text_of(app, "#ledger-verify")
        assert "NO verifica" in text and "3" in app.screen.verify_result.problem
        assert app.screen.query_one("#ledger-verify").has_class("-bad")


async def test_offload_to_the_usb_folder_with_progress(sealed_ship, tmp_path):
    messages = []
    app = host(sealed_ship, ledger_screen(sealed_ship))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        head = ledger_link.status(sealed_ship).entries
        await pilot.press("o")
        assert app.screen.query_one("#ledger-progress-row").display
        await wait_for(pilot, lambda: any(isinstance(m, LedgerReportsScreen.Offloaded) for m in messages), 20)
        await pilot.pause()
        progressed = [m for m in messages if isinstance(m, LedgerReportsScreen.OffloadProgressed)]
        assert progressed and progressed[-1].sent == progressed[-1].total
        assert (progressed[-1].first, progressed[-1].last) == (1, head)
        bundles = list((tmp_path / "usb").iterdir())
        assert len(bundles) == 1 and bundles[0].stat().st_size == progressed[-1].total
        result = next(m for m in messages if isinstance(m, LedgerReportsScreen.Offloaded)).result
        assert result.ok and result.entries == head
        assert "Descarga lista" in text_of(app, "#ledger-progress-text")
        bar = app.screen.query_one("#ledger-progress", ProgressBar)
        assert bar.percentage == 1.0
        # The status panel now tells when it was offloaded (by the computer's clock, as the ledger keeps it).
        status = text_of(app, "#ledger-status")
        assert "Última descarga:" in status and "Nunca descargado" not in status


async def test_offload_without_a_target_is_refused(sealed_ship, sealed_home):
    text = sealed_home.config_path.read_text(encoding="utf-8")
    sealed_home.config_path.write_text(text.split("\n[offload]")[0] + "\n", encoding="utf-8")
    app = host(sealed_ship, ledger_screen(sealed_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen.busy is None, 10)
        assert any("Adónde descargar" in n for n in notes(app))


async def test_ledger_actions_need_the_ledger_right(sealed_ship):
    app = host(sealed_ship, ledger_screen(sealed_ship, login="registro"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.busy is None)
        assert any("no tiene permiso" in n for n in notes(app))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_ledger_screen_snapshot(snap_compare, day_ship, size):
    app = host(day_ship, ledger_screen(day_ship), watch=False)
    assert snap_compare(app, terminal_size=size)
