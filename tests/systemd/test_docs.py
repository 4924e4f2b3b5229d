"""The documents say what the program does: every config field, setting, option and key is in them."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from vessel.i18n import t

REPO = Path(__file__).resolve().parents[2]
ADMIN = (REPO / "docs" / "admin-guide.md").read_text(encoding="utf-8")
MANUAL = (REPO / "docs" / "manual-operador.md").read_text(encoding="utf-8")
SCREENS = ["tui.app", "tui.screens.registration", "tui.screens.desk", "tui.screens.display",
           "tui.screens.coordinator", "tui.screens.bridge", "tui.screens.ledger_reports"]
# As the footer and the keyboard show them (arrows are drawn, not spelled out).
KEY_NAMES = {"escape": "Esc", "enter": "Enter", "left_square_bracket": "[", "right_square_bracket": "]",
             "up": "↑", "down": "↓"}


CONFIG_SOURCE = (REPO / "vessel" / "config.py").read_text(encoding="utf-8")
REFERENCE = ADMIN[ADMIN.index("### 4.2 `ship.toml`"):ADMIN.index("## 5. Keys")]


def config_tables() -> set[str]:
    """Every table (`[gps]`) and array of tables (`[[stops]]`) that vessel/config.py reads."""
    return set(re.findall(r"self\.(?:table|items)\(\s*\w+,\s*\"(\w+)\"", CONFIG_SOURCE))


def config_fields() -> set[str]:
    """Every plain key that vessel/config.py reads from ship.toml."""
    found = set(re.findall(r"self\.\w+\(\s*\w+,\s*\"(\w+)\"", CONFIG_SOURCE))
    found |= set(re.findall(r"raw\.get\(\"(\w+)\"", CONFIG_SOURCE))
    return found - (config_tables() - {"stations"})  # `stations` is also a field of each stop


def test_the_field_list_is_read_from_the_config_module():
    fields = config_fields()
    assert {"wait_bound_minutes", "keep_distance_m", "public_key", "min_age", "signing", "baud"} <= fields
    assert {"ship", "gps", "stops", "recipients", "priority_classes"} <= config_tables()
    assert len(fields) >= 30


@pytest.mark.parametrize("field", sorted(config_fields()))
def test_every_ship_toml_field_is_in_the_admin_guide(field: str):
    assert re.search(rf"`{field}`", REFERENCE), field


@pytest.mark.parametrize("table", sorted(config_tables()))
def test_every_ship_toml_table_is_in_the_admin_guide(table: str):
    assert re.search(rf"`\[{{1,2}}(?:\w+\.)?{table}(?:\.\w+)?\]{{1,2}}`", REFERENCE), table


INSTALLER_OPTIONS = sorted(set(re.findall(r"^\s+(--[a-z-]+)", (REPO / "systemd/install.sh").read_text(), re.M)))


@pytest.mark.parametrize("variable", re.findall(r"^(PIAS_\w+)=", (REPO / "systemd/pias.env").read_text(), re.M))
def test_every_setting_of_pias_env_is_in_the_admin_guide(variable: str):
    assert f"| `{variable}` |" in ADMIN


@pytest.mark.parametrize("option", INSTALLER_OPTIONS)
def test_every_installer_option_is_in_the_admin_guide(option: str):
    assert f"`{option}" in ADMIN


@pytest.mark.parametrize("unit", sorted(p.name for p in (REPO / "systemd").iterdir()
                                        if p.suffix in (".service", ".timer", ".mount")))
def test_every_unit_is_in_the_admin_guide(unit: str):
    assert f"`{unit.replace('@.', '@TTY.') if unit.endswith('@.service') else unit}`" in ADMIN


def screen_bindings() -> list[tuple[str, str, str]]:
    """(screen, key, Spanish description) of every binding the staff and the display can use."""
    from textual.binding import Binding

    out = []
    for module_name in SCREENS:
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name:
                continue
            for binding in getattr(cls, "BINDINGS", None) or []:
                if isinstance(binding, Binding) and binding.description.startswith("tui."):
                    out.append((name, binding.key, t(binding.description, "es")))
    return out


def key_pattern(key: str) -> re.Pattern[str]:
    shown = KEY_NAMES.get(key) or "+".join(part.capitalize() if len(part) > 1 else part.upper()
                                           for part in key.split("+"))
    if len(key) == 1:
        shown = key
    return re.compile(rf"(?<![\w+]){re.escape(shown)}(?![\w+])")


def test_the_manuals_keys_are_the_apps_keys():
    """Each key of each screen is in the manual on a line that names what it does, in Spanish."""
    bindings = screen_bindings()
    assert len(bindings) >= 40
    lines = MANUAL.splitlines()
    missing = []
    for screen, keys, description in bindings:
        ok = any(
            description in line and any(key_pattern(k).search(line) for k in keys.split(","))
            for line in lines
        )
        if not ok:
            missing.append(f"{screen}: {keys} ({description})")
    assert not missing, "not in docs/manual-operador.md: " + "; ".join(missing)


def test_key_names_are_matched_as_keys():
    assert key_pattern("ctrl+l").search("| Ctrl+L | **Salir de sesión** |")
    assert not key_pattern("n").search("| Ctrl+N | nada |")
    assert key_pattern("f5").search("| F5 |") and not key_pattern("f5").search("F50")
    assert key_pattern("down").search("Con ↓ (**Resultados**) baje") and key_pattern("up").search("con ↑↓")
