"""Refusals: the domain saying no, in words a desk operator can act on.

A Refused carries a catalogue key and its parameters, so the TUI, the CLI and
the tests each get the same reason; str() renders it in the current language.
"""

from __future__ import annotations

from typing import Any

from vessel.i18n import t


class Refused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    def message(self, lang: str | None = None) -> str:
        return t(f"refusal.{self.code}", lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class NotFound(Refused):
    """The thing asked for does not exist (a ticket number, a DNI, a desk)."""
