"""Reports from a terminal: which stops to choose from, the role check, and a CSV written whole."""

from __future__ import annotations

import pytest

from vessel import operators, report_export, reports, tickets
from vessel.errors import Refused


def test_choices_are_stops_with_tickets_then_the_campaign(ship, at_stop, coordinator):
    assert [(c.stop, c.tickets) for c in report_export.choices(ship)] == [(None, 0)]
    tickets.issue(ship, coordinator, ["salud"])
    options = report_export.choices(ship)
    assert [(c.stop.community if c.stop else None, c.tickets) for c in options] == [("Mazán", 1), (None, 1)]
    assert report_export.default_choice(ship, options) == 0


def test_export_writes_the_same_csv_as_the_cli(ship, at_stop, coordinator, tmp_path):
    tickets.issue(ship, coordinator, ["salud", "banco"])
    path, rows = report_export.export_csv(ship, coordinator, at_stop.id, tmp_path / "out" / "mazan.csv")
    assert path.read_text(encoding="utf-8") == reports.to_csv(reports.figures(ship, at_stop.id))
    assert rows == len(reports.figures(ship, at_stop.id))
    assert report_export.default_path(ship, at_stop).name == "informe-mazan-2026-11-02.csv"
    assert report_export.default_path(ship, None).name == "informe-campania-2026-11-02.csv"


def test_refusals_leave_nothing_behind(ship, at_stop, coordinator, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    with pytest.raises(Refused) as err:
        report_export.export_csv(ship, coordinator, None, tmp_path)
    assert err.value.code == "report_export.is_folder"
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(Refused) as err:
        report_export.export_csv(ship, coordinator, None, blocker / "x.csv")
    assert err.value.code == "report_export.cannot_write"
    with pytest.raises(Refused) as err:
        report_export.export_csv(ship, operators.get(ship, "salud"), None, tmp_path / "x.csv")
    assert err.value.code == "not_allowed"
    with pytest.raises(Refused):
        report_export.figures(ship, None, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]
