"""The new-citizen form, checked field by field as it is typed, by the domain's own rules.

Each field is checked with the same function register() uses
(vessel.citizens.check_*), so the form and the domain never disagree. A
field is checked once the operator has left it, then on every change; a
refusal from register() itself (a DNI already taken) lands under its field.
What was typed is never cleared by an error, nor by going back to the search.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalScroll
from textual.widgets import Checkbox, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from vessel import citizens
from vessel.errors import Refused
from vessel.i18n import language, t
from vessel.ship import Ship

# Field id -> (label key, input options)
FIELDS = {
    "dni": ("tui.form.dni", {"restrict": r"[0-9 ]*", "max_length": 10}),
    "given_names": ("tui.form.given_names", {"max_length": citizens.MAX_NAME + 10}),
    "surnames": ("tui.form.surnames", {"max_length": citizens.MAX_NAME + 10}),
    "birth_date": ("tui.form.birth_date", {"max_length": 10, "restrict": r"[0-9-]*"}),
    "sex": ("tui.form.sex", {"max_length": 1, "restrict": r"[FfMmXx]?"}),
    "language": ("tui.form.language", {"max_length": 20}),
}
NAME_FIELDS = ("given_names", "surnames")


def field_of_refusal(code: str, params: dict[str, Any]) -> str | None:
    """Which form field a refusal from citizens.register() is about."""
    if code.startswith("dni"):
        return "dni"
    if code in ("required", "name_too_long", "name_bad_chars", "name_no_letters"):
        field = params.get("field")
        return field if field in NAME_FIELDS else None
    if code.startswith("birth_date"):
        return "birth_date"
    if code == "bad_sex":
        return "sex"
    if code == "unknown_condition":
        return "conditions"
    return None


class CitizenForm(VerticalScroll):
    DEFAULT_CSS = """
    CitizenForm { height: 1fr; padding: 0 1; }
    CitizenForm .form-title { text-style: bold; margin-bottom: 1; }
    CitizenForm HorizontalGroup { height: 1; }
    CitizenForm HorizontalGroup > Label { width: 20; }
    CitizenForm HorizontalGroup > Input { width: 1fr; max-width: 48; }
    CitizenForm #no-dni { margin-left: 2; width: auto; }
    CitizenForm .field-error { color: $error; height: auto; margin-left: 20; }
    CitizenForm .field-error.-empty { display: none; }
    CitizenForm SelectionList { height: auto; max-height: 6; width: 1fr; }
    """

    def __init__(self, ship: Ship, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ship = ship
        self.touched: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Label(t("tui.form.title"), classes="form-title")
        for name, (label, options) in FIELDS.items():
            with HorizontalGroup():
                yield Label(t(label))
                yield Input(id=f"f-{name}", compact=True, placeholder=t(f"tui.form.ph_{name}"),
                            select_on_focus=False, **options)
                if name == "dni":
                    yield Checkbox(t("tui.form.no_dni"), id="no-dni", compact=True)
            yield Static("", id=f"e-{name}", classes="field-error -empty")
        yield Label(t("tui.form.conditions"))
        lang = language()
        yield SelectionList[str](
            *(Selection(p.name(lang), p.code) for p in self.ship.config.priority_classes if p.min_age is None),
            id="f-conditions", compact=True,
        )
        yield Static("", id="e-conditions", classes="field-error -empty")

    # --- values ------------------------------------------------------------------------

    def value(self, name: str) -> str:
        return self.query_one(f"#f-{name}", Input).value

    @property
    def no_dni(self) -> bool:
        return self.query_one("#no-dni", Checkbox).value

    def data(self) -> dict[str, Any]:
        """Keyword arguments for citizens.register()."""
        sex = self.value("sex").strip().upper() or None
        return {
            "dni": None if self.no_dni else self.value("dni"),
            "given_names": self.value("given_names"),
            "surnames": self.value("surnames"),
            "birth_date": self.value("birth_date").strip() or None,
            "sex": sex,
            "language": self.value("language").strip() or None,
            "conditions": list(self.query_one("#f-conditions", SelectionList).selected),
        }

    def prefill(self, typed: str) -> None:
        """Carry what was typed in the search into the empty fields: digits to the DNI, words to the names."""
        typed = typed.strip()
        if not typed:
            return
        if typed.replace(" ", "").isdigit():
            if not self.value("dni"):
                self.query_one("#f-dni", Input).value = typed.replace(" ", "")
            return
        if self.value("given_names") or self.value("surnames"):
            return
        words = typed.split()
        self.query_one("#f-given_names", Input).value = words[0]
        self.query_one("#f-surnames", Input).value = " ".join(words[1:])

    def focus_start(self) -> None:
        """Focus where typing goes on: an incomplete DNI carried from the search, else the first empty field."""
        dni = self.value("dni")
        if dni and not self.no_dni and self.problem("dni"):
            field = self.query_one("#f-dni", Input)
            field.focus()
            field.cursor_position = len(dni)
            return
        self.first_field().focus()

    def clear(self) -> None:
        for name in FIELDS:
            self.query_one(f"#f-{name}", Input).value = ""
            self.show_error(name, "")
        self.query_one("#no-dni", Checkbox).value = False
        self.query_one("#f-conditions", SelectionList).deselect_all()
        self.touched.clear()

    def first_field(self) -> Input:
        for name in FIELDS:
            field = self.query_one(f"#f-{name}", Input)
            if not field.value:
                return field
        return self.query_one("#f-dni", Input)

    # --- checking ------------------------------------------------------------------------

    def problem(self, name: str) -> str:
        """The refusal message for one field as it stands, or "" when it is fine."""
        value = self.value(name)
        try:
            if name == "dni":
                if not self.no_dni:
                    citizens.check_dni(value)
            elif name in NAME_FIELDS:
                citizens.check_name(value, t(FIELDS[name][0]))
            elif name == "birth_date":
                citizens.check_birth_date(value.strip() or None, self.ship.now().date())
            elif name == "sex" and value and value.upper() not in citizens.SEXES:
                raise Refused("bad_sex", sex=value)
        except Refused as exc:
            return exc.message()
        return ""

    def show_error(self, name: str, message: str) -> None:
        error = self.query_one(f"#e-{name}", Static)
        error.update(message)
        error.set_class(not message, "-empty")

    def check(self, name: str) -> bool:
        message = self.problem(name)
        self.show_error(name, message)
        return not message

    def check_all(self) -> bool:
        """Check every field, show each problem under its field, focus the first bad one."""
        self.touched.update(FIELDS)
        bad = [name for name in FIELDS if not self.check(name)]
        if bad:
            self.query_one(f"#f-{bad[0]}", Input).focus()
        return not bad

    def show_refusal(self, code: str, params: dict[str, Any], message: str) -> None:
        name = field_of_refusal(code, params)
        if name is None:
            return
        if params.get("field") in FIELDS:
            # Name the field as its label does, not by its code.
            message = Refused(code, **{**params, "field": t(FIELDS[name][0])}).message()
        self.show_error(name, message)
        if name in FIELDS:
            self.query_one(f"#f-{name}", Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("f-")
        if name == "sex" and event.value != event.value.upper():
            event.input.value = event.value.upper()
            return
        if name in self.touched:
            self.check(name)

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        name = (event.input.id or "").removeprefix("f-")
        if name in FIELDS and event.value:
            self.touched.add(name)
            self.check(name)

    @on(Checkbox.Changed, "#no-dni")
    def _no_dni(self, event: Checkbox.Changed) -> None:
        dni = self.query_one("#f-dni", Input)
        dni.disabled = event.value
        if "dni" in self.touched or event.value:
            self.check("dni")

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()
