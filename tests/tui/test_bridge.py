"""The bridge: itinerary, arrival and departure after confirmation, refusals, GPS, way ahead, the bulletin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tui.messages import ActionDone, ActionRefused
from tui.screens.bridge import BridgeScreen, BulletinModal
from tui.widgets.modals import ConfirmModal
from vessel import bulletin, campaign, operators, track, track_route

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screen_host
from screen_host import host, put_gps, put_track, wait_for

demo_day_template = screen_host.demo_day_template
day_home = screen_host.day_home
day_clock = screen_host.day_clock
day_ship = screen_host.day_ship

MAZAN = (-3.4963, -73.0906)


def bridge(ship, login: str = "puente"):
    return lambda: BridgeScreen(ship, operators.get(ship, login))


def itinerary(app) -> list[list[str]]:
    table = app.screen.query_one("#bridge-itinerary", DataTable)
    return [[str(c) for c in table.get_row(key)] for key in table.rows]


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def under_way(ship) -> None:
    """Left Mazán an hour after the day ended; now a third of the way to Negro Urco at 8 knots."""
    ship.clock.advance(hours=1)
    campaign.depart(ship, operators.get(ship, "puente"))
    ship.clock.advance(hours=2)
    route = track_route.route(ship.config)
    target = track_route.stop_index(route, "Negro Urco")
    legs = route[: target + 1]
    here = legs[len(legs) // 3]
    trail = [(p.lat, p.lon, 8.0, 330.0) for p in legs[1: len(legs) // 3 + 1]]
    put_track(ship, trail, every_s=600)
    put_gps(ship, here.lat, here.lon, speed=8.0, course=330.0, age_s=1)


async def test_itinerary_planned_against_actual(day_ship):
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = itinerary(app)
        assert [r[1] for r in rows] == [s.community for s in day_ship.config.stops]
        assert rows[0] == ["1", "Mazán", "02/11–03/11", "02/11 08:30", "—", "◀ aquí"]
        assert rows[1][-1] == "siguiente"
        assert "Mazán" in text_of(app, "#bridge-title")


async def test_depart_asks_first_and_no_keeps_the_ship_at_the_stop(day_ship):
    messages = []
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        assert "salida de Mazán" in app.screen.question
        await pilot.press("n")
        assert isinstance(app.screen, BridgeScreen)
        await app.workers.wait_for_complete()
        assert campaign.current(day_ship).community == "Mazán"
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: any(isinstance(m, ActionDone) for m in messages))
        assert campaign.current(day_ship) is None
        assert "Salida de Mazán registrada" in notes(app)
        await pilot.pause()
        assert itinerary(app)[0][-2:] == ["02/11 16:00", "visitada"]
        assert "navegando" in text_of(app, "#bridge-title")


async def test_arrive_at_the_next_stop_after_confirming(day_ship):
    campaign.depart(day_ship, operators.get(day_ship, "puente"))
    day_ship.clock.advance(days=2)
    messages = []
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press("a")
        assert "llegada a Negro Urco" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: any(isinstance(m, ActionDone) for m in messages))
        assert campaign.current(day_ship).community == "Negro Urco"
        await pilot.pause()
        assert itinerary(app)[1][-1] == "◀ aquí"


async def test_arrive_while_still_at_a_stop_is_refused(day_ship):
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        assert isinstance(app.screen, BridgeScreen)  # nothing to confirm
        assert any("sigue en Mazán" in n for n in notes(app))


async def test_an_operator_without_the_right_is_refused_by_the_domain(day_ship):
    messages = []
    app = host(day_ship, bridge(day_ship, login="registro"))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: any(isinstance(m, ActionRefused) for m in messages))
        assert campaign.current(day_ship).community == "Mazán"
        assert any("no tiene permiso" in n for n in notes(app))


async def test_gps_panel_gives_a_plain_warning_when_the_fix_is_old(day_ship):
    put_gps(day_ship, *MAZAN, speed=0.0, age_s=600)
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one("#bridge-gps")
        assert panel.has_class("-warning")
        assert "Posición vieja (hace 10 min): no la use para navegar" in text_of(app, "#bridge-gps")
        assert "Fijación 3D · 9 satélites · HDOP 0.9" in text_of(app, "#bridge-gps")
        put_gps(day_ship, *MAZAN, speed=0.0, age_s=1)
        await wait_for(pilot, lambda: not panel.has_class("-warning"), 5)


async def test_distance_and_time_to_the_next_stop_at_the_current_speed(day_ship):
    under_way(day_ship)
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        way = track.next_stop(day_ship)
        ahead = text_of(app, "#bridge-ahead")
        assert way.stop.community == "Negro Urco"
        assert f"Distancia: {way.distance_m / 1000:.1f} km" in ahead
        minutes = round((way.eta - day_ship.now()).total_seconds() / 60)
        assert f"A esta velocidad: {minutes // 60} h {minutes % 60:02d} min" in ahead
        assert not app.screen.query_one("#bridge-gps").has_class("-warning")
        table = app.screen.query_one("#bridge-track", DataTable)
        assert table.row_count == len(track.recent(day_ship, 12))
        assert [str(c) for c in table.get_row_at(0)][1:] == ["8.0", "330°"]


async def test_bulletin_shown_and_saved_as_text(day_ship):
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("b")
        assert isinstance(app.screen, BulletinModal)
        text = " ".join(app.screen.text.split())  # wrapped for paper: compare the words
        assert "NEGRO URCO" in text
        assert "Llegada prevista: miércoles 4 de noviembre" in text
        assert "Servicios: Salud (MINSA); Identidad (DNI) (RENIEC); Programas sociales (MIDIS)." in text
        await pilot.press("s")
        saved = day_ship.config.home / "bulletins" / "boletin-2026-11-02.txt"
        await wait_for(pilot, saved.exists)
        assert saved.read_text(encoding="utf-8") == bulletin.text(day_ship)
        await pilot.press("escape")
        assert isinstance(app.screen, BridgeScreen)


async def test_bulletin_that_cannot_be_saved_says_why(day_ship):
    (day_ship.config.home / "bulletins").write_text("a file where the folder should be")
    app = host(day_ship, bridge(day_ship))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any(n.startswith("No se pudo guardar el boletín") for n in notes(app))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_bridge_snapshot(snap_compare, day_ship, size):
    under_way(day_ship)
    app = host(day_ship, bridge(day_ship), watch=False)
    assert snap_compare(app, terminal_size=size)


def test_bulletin_snapshot(snap_compare, day_ship):
    app = host(day_ship, bridge(day_ship), watch=False)
    assert snap_compare(app, terminal_size=(80, 24), press=["b"])
