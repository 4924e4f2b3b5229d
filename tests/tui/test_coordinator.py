"""The coordinator's dashboard: figures per station, overdue tickets, stop, GPS and ledger panels."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tui.screens.coordinator import CoordinatorScreen
from vessel import campaign, dashboard, ledger_link, operators, reports, tickets

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screen_host
from screen_host import DAY_END, host, put_gps, run_other, wait_for

demo_day_template = screen_host.demo_day_template
day_home = screen_host.day_home
day_clock = screen_host.day_clock
day_ship = screen_host.day_ship
sealed_home = screen_host.sealed_home
sealed_ship = screen_host.sealed_ship

MAZAN = (-3.4963, -73.0906)


def coordinator_screen(ship):
    return lambda: CoordinatorScreen(ship, operators.get(ship, "coordinador"))


def table_rows(app) -> dict[str, list[str]]:
    table = app.screen.query_one("#coord-stations", DataTable)
    return {str(key.value): [str(c) for c in table.get_row(key)] for key in table.rows}


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_every_station_with_its_figures(day_ship):
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        d = dashboard.summary(day_ship)
        rows = table_rows(app)
        assert list(rows) == [r.station.code for r in d.rows]
        for r in d.rows:
            name, waiting, in_service, served, missed, _mean, _estimate, desks, overdue = rows[r.station.code]
            assert name == r.station.name_es
            assert (int(waiting), int(in_service), int(served), int(missed)) == (
                r.waiting, r.in_service, r.served, r.missed)
            assert desks.startswith(f"{r.open_desks}/{r.desks}")
            assert overdue == "0"
        # The same figures as the stop's report, which recounts every step of the day on its own.
        report = {f.station: f for f in reports.figures(day_ship, d.stop.id) if f.stop == d.stop.community}
        for r in d.rows:
            same = report[r.station.code]
            assert (r.served, r.missed, r.waiting + r.in_service) == (same.served, same.missed, same.waiting_now)
        day = report[reports.ALL]
        assert (d.served, d.missed) == (day.served, day.missed) and day.served > 0 and day.missed > 0
        title = text_of(app, "#coord-title")
        assert "Mazán" in title and f"{day.served} atendidos" in title
        assert "Nadie ha esperado" in text_of(app, "#coord-overdue")
        assert not app.screen.query_one("#coord-overdue").has_class("-alert")


async def test_tickets_past_the_waiting_bound_stand_out(day_ship):
    clerk = operators.get(day_ship, "registro")
    issued = [tickets.issue(day_ship, clerk, ["salud"]).steps[0].label for _ in range(3)]
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one("#coord-overdue").has_class("-alert")
        day_ship.clock.advance(minutes=day_ship.config.queue.wait_bound_minutes + 5)
        await pilot.press("r")
        box = app.screen.query_one("#coord-overdue")
        assert box.has_class("-alert")
        for label in issued:
            assert f"{label} 95 min" in text_of(app, "#coord-overdue")
        assert table_rows(app)["salud"][-1] == "3"


async def test_a_ticket_issued_at_another_terminal_shows_within_a_second(day_ship, day_home):
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = int(table_rows(app)["reniec"][1])
        run_other(day_home, DAY_END, "registro", "issue", "reniec")
        await wait_for(pilot, lambda: int(table_rows(app)["reniec"][1]) == before + 1, 3)


async def test_gps_panel_warns_when_there_is_no_fresh_fix(day_ship):
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one("#coord-gps")
        assert panel.has_class("-warning")  # no GPS daemon ever ran on this ship
        assert "Sin posición GPS" in text_of(app, "#coord-gps")
        put_gps(day_ship, *MAZAN, speed=0.1, course=12, age_s=2)
        await pilot.press("r")
        assert not panel.has_class("-warning")
        assert "3°29.78′S 73°05.44′W" in text_of(app, "#coord-gps")
        put_gps(day_ship, *MAZAN, age_s=240)
        await pilot.press("r")
        assert panel.has_class("-warning")
        assert "Posición vieja (hace 4 min)" in text_of(app, "#coord-gps")


async def test_stop_panel_and_no_stop(day_ship):
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "En Mazán" in text_of(app, "#coord-stop")
        assert "Siguiente: Negro Urco (04/11)" in text_of(app, "#coord-stop")
        campaign.depart(day_ship, operators.get(day_ship, "coordinador"))
        await pilot.press("r")
        assert "Sin parada actual" in text_of(app, "#coord-title")
        assert table_rows(app) == {}
        assert "Navegando" in text_of(app, "#coord-stop")


async def test_ledger_panel_not_available_without_keys(day_ship):
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "No disponible" in text_of(app, "#coord-ledger")


async def test_ledger_panel_shows_entries_and_head(sealed_ship):
    app = host(sealed_ship, coordinator_screen(sealed_ship))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        state = ledger_link.status(sealed_ship)
        text = text_of(app, "#coord-ledger")
        assert f"Asientos: {state.entries}" in text
        assert f"Por confirmar en tierra: {state.entries}" in text
        assert "Nunca descargado" in text
        assert state.head_fingerprint in text


async def test_keyboard_moves_through_the_stations(day_ship):
    app = host(day_ship, coordinator_screen(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#coord-stations", DataTable)
        table.focus()
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("r")  # a refresh keeps the operator's place
        assert table.cursor_row == 2


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_coordinator_snapshot(snap_compare, day_ship, size):
    clerk = operators.get(day_ship, "registro")
    tickets.issue(day_ship, clerk, ["salud"])
    day_ship.clock.advance(minutes=100)
    put_gps(day_ship, *MAZAN, speed=0.0, course=None, age_s=3)
    app = host(day_ship, coordinator_screen(day_ship), watch=False)
    assert snap_compare(app, terminal_size=size)
