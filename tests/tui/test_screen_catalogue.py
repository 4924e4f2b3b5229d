"""Every text the display, dashboard, bridge, ledger screens and their domain readers show exists in both catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vessel import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "tui/screens/display.py", "tui/screens/coordinator.py", "tui/screens/bridge.py",
    "tui/screens/ledger_reports.py", "tui/widgets/ship_panels.py", "vessel/bulletin.py",
    "vessel/report_export.py", "vessel/ticket_print.py",
]
# Keys built at run time from a fixed set of names.
BUILT = [
    *(f"tui.coordinator.col.{k}" for k in (
        "station", "waiting", "in_service", "served", "missed", "wait_mean", "estimate", "desks", "overdue")),
    *(f"tui.bridge.col.{k}" for k in ("seq", "community", "plan", "arrived", "departed", "state")),
    *(f"tui.bridge.track_col.{k}" for k in ("time", "speed", "course")),
    *(f"refusal.ticket_print.{code}" for code in (
        "no_printer", "missing", "no_answer", "paper_out", "cover_open", "error", "jammed", "io")),
    "refusal.report_export.is_folder", "refusal.report_export.cannot_write", "refusal.ledger.not_set_up",
]
# The first argument of t(...), and the catalogue keys bindings carry as description and tooltip.
CALL = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
BINDING_TEXT = re.compile(r"""(?<!id=)["'](tui\.[a-z0-9_]+\.key\.[a-z0-9_]+)["']""")


def used_keys() -> set[str]:
    keys = set(BUILT)
    for name in SOURCES:
        text = (ROOT / name).read_text(encoding="utf-8")
        keys.update(CALL.findall(text))
        keys.update(BINDING_TEXT.findall(text))
    return keys


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_key_is_in_the_catalogue(lang):
    missing = sorted(k for k in used_keys() if k not in i18n.catalogue(lang))
    assert missing == []


def test_printer_codes_all_have_a_message():
    from devices import printer

    raised = set(re.findall(r'PrinterError\("(\w+)"', (ROOT / "devices" / "printer.py").read_text(encoding="utf-8")))
    assert raised <= set(printer.CODES)
    for lang in ("es", "en"):
        for code in printer.CODES:
            assert f"refusal.ticket_print.{code}" in i18n.catalogue(lang)
