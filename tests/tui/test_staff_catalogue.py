"""Every text the staff screens show is in both catalogues, so no key ever shows in place of its words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tui.widgets.citizen_form import FIELDS
from vessel.i18n import catalogue
from vessel.tickets import FINAL, OUTCOMES

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    "tui/app.py", "tui/commands.py", "tui/factory.py", "tui/format.py", "tui/navigation.py",
    "tui/screens/base.py", "tui/screens/login.py", "tui/screens/desk.py", "tui/screens/registration.py",
    "tui/widgets/key_footer.py", "tui/widgets/status_bar.py", "tui/widgets/ticket_number.py",
    "tui/widgets/modals.py", "tui/widgets/citizen_form.py",
]
LITERAL = re.compile(r'"(tui\.[a-z_]+(?:\.[a-z_]+)+)"')
STEP_STATES = ("pending", "waiting", "called", "serving", *FINAL)
DESK_STATES = ("open", "paused", "closed")


def used_keys() -> set[str]:
    keys = set()
    for name in FILES:
        text = (ROOT / name).read_text(encoding="utf-8")
        keys |= {k for k in LITERAL.findall(text) if not k.startswith("tui.screens.")}  # module names
    # Keys built from a value at run time, with every value they can take.
    keys |= {f"tui.state.{s}" for s in STEP_STATES}
    keys |= {f"tui.desk_state.{s}" for s in DESK_STATES}
    keys |= {f"tui.desk.state_{s}" for s in DESK_STATES}
    keys |= {f"tui.outcome.{o}" for o in OUTCOMES}
    keys |= {f"tui.form.ph_{f}" for f in FIELDS}
    return keys


def test_the_scan_finds_the_keys():
    keys = used_keys()
    assert len(keys) > 150
    assert "tui.key.next" in keys and "tui.desk.state_paused" in keys


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_staff_text_is_in_the_catalogue(lang: str):
    missing = sorted(k for k in used_keys() if k not in catalogue(lang))
    assert not missing, missing


def test_both_languages_have_the_same_staff_texts():
    sections = ("tui.key.", "tui.tip.", "tui.login.", "tui.desk.", "tui.reg.", "tui.form.", "tui.modal.",
                "tui.fmt.", "tui.state.", "tui.print.", "tui.palette.", "tui.error.", "tui.outcome.")
    es = {k for k in catalogue("es") if k.startswith(sections)}
    en = {k for k in catalogue("en") if k.startswith(sections)}
    assert es == en, sorted(es ^ en)
