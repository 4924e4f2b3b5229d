"""Text folding for search: names are found whatever their accents or case."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without combining marks; ñ folds to n, like accents, for typing on any keyboard."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())
