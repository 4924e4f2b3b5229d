"""The awareness bulletin: the next stops with their expected dates (moved by the ship's delay) and services."""

from __future__ import annotations

from datetime import date

from vessel import bulletin, campaign, i18n


def words(text: str) -> str:
    return " ".join(text.split())


def test_on_time_the_bulletin_gives_the_planned_dates(ship, at_stop):
    visits = bulletin.upcoming(ship)
    # From 2 November, a fortnight ahead holds four stops; the fifth (14 November) is cut by the limit.
    assert [v.stop.community for v in visits] == ["Negro Urco", "Santa Clotilde", "Tuta Pishco", "Angoteros"]
    assert (visits[0].arrive, visits[0].depart) == (date(2026, 11, 4), date(2026, 11, 5))
    assert visits[0].station_names == ("Salud (MINSA)", "Identidad (DNI) (RENIEC)", "Programas sociales (MIDIS)")
    text = words(bulletin.text(ship))
    assert text.startswith("AVISO A LA COMUNIDAD PIAS Río Napo · Campaña Napo 2026 – III")
    assert "NEGRO URCO Llegada prevista: miércoles 4 de noviembre Atención hasta el jueves 5 de noviembre" in text
    assert "Banco de la Nación;" in text  # a station named after its institution is not repeated
    assert "Atención preferente (Ley 27408): Gestante;" in text
    assert text.endswith("Emitido a bordo de la PIAS Río Napo el lunes 2 de noviembre.")


def test_a_late_departure_moves_every_later_stop(ship, at_stop, coordinator, clock):
    clock.advance(days=3)  # planned to leave on the 3rd; leaves on the 5th
    campaign.depart(ship, coordinator)
    assert bulletin.delay_days(ship) == 2
    first = bulletin.upcoming(ship)[0]
    assert (first.stop.community, first.arrive, first.depart) == ("Negro Urco", date(2026, 11, 6), date(2026, 11, 7))


def test_staying_past_the_planned_departure_counts_as_delay(ship, at_stop, clock):
    clock.advance(days=2)  # the 4th, still at Mazán (planned departure the 3rd)
    assert bulletin.delay_days(ship) == 1
    assert bulletin.upcoming(ship)[0].arrive == date(2026, 11, 5)


def test_the_horizon_keeps_at_least_the_next_stop(ship, at_stop):
    assert [v.stop.community for v in bulletin.upcoming(ship, horizon_days=1)] == ["Negro Urco"]
    assert len(bulletin.upcoming(ship, horizon_days=30, limit=10)) == 7


def test_after_the_last_stop(ship, coordinator, clock):
    for stop in campaign.stops(ship):
        campaign.arrive(ship, coordinator, stop.id)
        campaign.depart(ship, coordinator)
    assert bulletin.upcoming(ship) == []
    assert "ha terminado las visitas" in words(bulletin.text(ship))


def test_dates_in_both_languages():
    assert bulletin.long_date(date(2026, 11, 4), "es") == "miércoles 4 de noviembre"
    assert bulletin.long_date(date(2026, 11, 4), "en") == "Wednesday 4 November"


def test_english_bulletin(ship, at_stop):
    i18n.set_language("en")
    text = words(bulletin.text(ship))
    assert "Expected arrival: Wednesday 4 November" in text
    assert "Health (MINSA)" in text
    assert bulletin.file_name(ship) == "bulletin-2026-11-02.txt"
