"""User-facing text: one catalogue per language (vessel/locale/LANG.toml).

Spanish is the default; English is for visiting staff and developers. Keys are
dotted ("refusal.step_not_waiting"); a missing key in English falls back to
Spanish, and a missing key everywhere shows the key itself, so a gap is seen
rather than crashing a desk.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

DEFAULT_LANGUAGE = "es"
_current = DEFAULT_LANGUAGE


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(name + ".", value, out)
        else:
            out[name] = str(value)


@cache
def catalogue(lang: str) -> dict[str, str]:
    text = resources.files("vessel").joinpath("locale", f"{lang}.toml").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    _flatten("", tomllib.loads(text), out)
    return out


def set_language(lang: str) -> None:
    global _current
    if lang not in ("es", "en"):
        raise ValueError(f"unknown language {lang!r}")
    _current = lang


def language() -> str:
    return _current


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The text for key in lang (default: the current language), with {params} filled in."""
    lang = lang or _current
    text = catalogue(lang).get(key)
    if text is None and lang != DEFAULT_LANGUAGE:
        text = catalogue(DEFAULT_LANGUAGE).get(key)
    if text is None:
        return key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
