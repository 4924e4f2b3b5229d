"""The public display: numbers per station, calls from other terminals shown and announced once, missed tickets."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest
from textual.widgets import Digits, Static

from tui.announcer import Announcer
from tui.screens import display as display_mod
from tui.screens.display import DisplayScreen, StationCard
from vessel import board, campaign, operators, tickets

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screen_host
from screen_host import DAY_END, free_desk, host, run_other, wait_for
from speech_log import read_log, speaker

# The shared fixtures, registered in this module for pytest.
demo_day_template = screen_host.demo_day_template
day_home = screen_host.day_home
day_clock = screen_host.day_clock
day_ship = screen_host.day_ship


def quiet() -> Announcer:
    return Announcer(speech=None, pause=0)


def cards(app) -> dict[str, StationCard]:
    return {c.station.code: c for c in app.screen.query(StationCard)}


def card_number(card: StationCard) -> str:
    return card.query_one(".card-digits", Digits).value


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_each_station_shows_its_latest_number_and_desk(day_ship):
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        b = board.board(day_ship)
        shown = cards(app)
        assert set(shown) == {s.code for s in day_ship.config.stations}
        for entry in b.stations:
            card = shown[entry.station.code]
            if entry.latest is None:
                assert card_number(card) == "---"
            else:
                assert card_number(card) == f"{entry.latest.number:03d}"
                assert str(entry.latest.desk_number) in str(card.query_one(".card-desk", Static).render())
        assert "Mazán" in text_of(app, "#display-title")
        assert "16:00" in text_of(app, "#display-clock")
        # The latest calls, newest first, and the missed tickets so people come back.
        recent = text_of(app, "#display-recent").splitlines()
        assert recent[0].split()[1] == b.recent[0].label
        for label in b.missed:
            assert label in text_of(app, "#display-missed")
        # Nothing was announced for the calls made before the display started.
        assert app.screen.highlighted() == set()


async def test_call_at_another_terminal_is_shown_highlighted_and_announced_once(day_ship, day_home, tmp_path):
    log = tmp_path / "spoken.log"
    messages = []
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=Announcer(speech=speaker(log), pause=0)))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await pilot.pause()
        [issued] = run_other(day_home, DAY_END, "registro", "issue", "salud")
        [called] = run_other(day_home, DAY_END, "salud", "call", "salud-2")
        assert called == issued == "S-151"
        await wait_for(pilot, lambda: card_number(cards(app)["salud"]) == "151")
        assert app.screen.highlighted() == {"salud"}
        assert "2" in str(cards(app)["salud"].query_one(".card-desk", Static).render())
        await wait_for(pilot, lambda: any(isinstance(m, DisplayScreen.CallAnnounced) for m in messages))
        await pilot.pause(0.6)  # the change watcher and the screen's own tick both see the change
        assert [r[0] for r in read_log(log)] == ["Turno S 151. Salud, ventanilla 2."]
        assert any(isinstance(m, DisplayScreen.Chimed) for m in messages)
        assert text_of(app, "#display-recent").splitlines()[0].split()[1] == "S-151"


async def test_several_calls_at_once_are_announced_in_order_without_overlap(day_ship, day_home, tmp_path):
    log = tmp_path / "spoken.log"
    app = host(day_ship, lambda: DisplayScreen(day_ship, None,
                                                announcer=Announcer(speech=speaker(log, 0.2), pause=0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        run_other(day_home, DAY_END, "registro", "issue", "banco")
        run_other(day_home, DAY_END, "registro", "issue", "banco")
        run_other(day_home, DAY_END, "registro", "issue", "reniec")
        # Three desks call in one process, one right after the other.
        run_other(day_home, DAY_END, "coordinador", "call", "banco-1", "banco-2", "reniec-2")
        await wait_for(pilot, lambda: len(read_log(log)) == 3, 15)
        rows = read_log(log)
        assert [r[0] for r in rows] == [
            "Turno B 151. Banco de la Nación, ventanilla 1.",
            "Turno B 152. Banco de la Nación, ventanilla 2.",
            "Turno R 153. Identidad (DNI), ventanilla 2.",
        ]
        for before, after in itertools.pairwise(rows):
            assert after[1] >= before[2]
        assert app.screen.highlighted() >= {"banco", "reniec"}


async def test_highlight_ends_after_a_few_seconds(day_ship, monkeypatch):
    monkeypatch.setattr(display_mod, "HIGHLIGHT_SECONDS", 0.3)
    monkeypatch.setattr(display_mod, "TICK_SECONDS", 0.1)
    coordinator = operators.get(day_ship, "coordinador")
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        free_desk(day_ship, coordinator, "programas-2")
        tickets.issue(day_ship, coordinator, ["programas"])
        tickets.call_next(day_ship, coordinator, "programas-2")
        app.screen.refresh_data()  # this connection's own writes: no data_version change to notice
        await wait_for(pilot, lambda: app.screen.highlighted() == {"programas"})
        await wait_for(pilot, lambda: app.screen.highlighted() == set(), 5)


async def test_missed_ticket_appears_for_those_who_stepped_away(day_ship, day_home):
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        run_other(day_home, DAY_END, "registro", "issue", "salud")
        run_other(day_home, DAY_END, "salud", "call", "salud-2")
        [missed] = run_other(day_home, DAY_END, "salud", "miss", "salud-2")
        assert missed == "S-151"
        await wait_for(pilot, lambda: "S-151" in text_of(app, "#display-missed"))
        # The recalls were calls too: each one is listed, marked as a repeat.
        assert "(otra vez)" in text_of(app, "#display-recent")


async def test_muted_display_rings_nothing_and_repeat_key_announces_again(day_ship, tmp_path):
    log = tmp_path / "spoken.log"
    coordinator = operators.get(day_ship, "coordinador")
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=Announcer(speech=speaker(log), pause=0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        assert app.screen.sound_on is False
        tickets.issue(day_ship, coordinator, ["mujer"])
        app.screen.refresh_data()
        await pilot.pause(0.5)
        assert read_log(log) == []
        await pilot.press("m")
        await pilot.press("a")  # "which number was that?": the last call again
        await wait_for(pilot, lambda: len(read_log(log)) == 1)
        last = board.board(day_ship).recent[0]
        assert read_log(log)[0][0].startswith(f"Turno {last.letter} {last.number}.")


async def test_when_the_ship_is_not_at_a_stop_the_display_says_so(day_ship):
    coordinator = operators.get(day_ship, "coordinador")
    campaign.depart(day_ship, coordinator)
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "no hay atención" in text_of(app, "#display-closed")
        assert app.screen.query_one("#display-cards").display is False
        # Arriving at the next stop brings the cards back, with that stop's stations only.
        day_ship.clock.advance(days=2)
        campaign.arrive(day_ship, coordinator, campaign.next_planned(day_ship).id)
        app.screen.refresh_data()
        await pilot.pause()
        assert set(cards(app)) == {"salud", "reniec", "programas"}
        assert "Negro Urco" in text_of(app, "#display-title")


async def test_display_in_english(day_ship):
    from vessel import i18n

    i18n.set_language("en")
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#display-recent").border_title == "Latest calls"
        assert cards(app)["salud"].border_title == "Health"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_display_snapshot(snap_compare, day_ship, size):
    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()), watch=False)
    assert snap_compare(app, terminal_size=size)


def test_display_snapshot_fresh_call(snap_compare, day_ship):
    """A call just made: its station lit up, at the size of a small waiting-room screen."""
    coordinator = operators.get(day_ship, "coordinador")
    free_desk(day_ship, coordinator, "reniec-2")  # the demo day may have left someone there

    async def call(pilot):
        tickets.issue(day_ship, coordinator, ["reniec"])
        day_ship.clock.advance(seconds=30)
        tickets.call_next(day_ship, coordinator, "reniec-2")
        pilot.app.screen.refresh_data()
        await pilot.pause()

    app = host(day_ship, lambda: DisplayScreen(day_ship, None, announcer=quiet()), watch=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=call)
