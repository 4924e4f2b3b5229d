"""Key descriptions in the operator's language.

Bindings are declared once, at class level, with catalogue keys ("tui.key.next")
as their description and tooltip; each instance swaps them for the text of the
language chosen at start-up. The language is known only when the app starts
(`--lang`, the ship's config), after the classes were defined.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from vessel.i18n import t

CATALOGUE_PREFIX = "tui."


def _text(value: str) -> str:
    return t(value) if value.startswith(CATALOGUE_PREFIX) else value


def localised(binding: Binding) -> Binding:
    return replace(binding, description=_text(binding.description), tooltip=_text(binding.tooltip))


def localise_bindings(node: DOMNode) -> None:
    """Give this node its own bindings with descriptions and tooltips in the current language."""
    node._bindings = BindingsMap.from_keys(
        {key: [localised(b) for b in bindings] for key, bindings in node._bindings.key_to_bindings.items()}
    )
