"""Small dialogs the screens share: confirm, type a reason or notes, pick one of a list, finish an attention.

Each returns its answer through dismiss() (None when the operator backs out
with Escape), so the caller's callback decides what to do with it. Nothing
typed is lost on a validation error: the dialog stays open with the text.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalGroup
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from tui.localise import localise_bindings
from vessel.i18n import t
from vessel.tickets import OUTCOMES


class Dialog(ModalScreen):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > VerticalGroup {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog .dialog-title { text-style: bold; width: 1fr; margin-bottom: 1; }
    Dialog .dialog-error { color: $error; height: auto; }
    Dialog .dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog .dialog-buttons Button { margin-left: 1; }
    Dialog .dialog-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "back", "tui.key.back", id="dialog.back", tooltip="tui.tip.back")]

    def __init__(self) -> None:
        super().__init__()
        localise_bindings(self)

    def on_mount(self) -> None:
        if not getattr(self.app, "session", None) or self.app.session.cursor_blink:
            return
        for field in self.query(Input):
            field.cursor_blink = False

    def action_back(self) -> None:
        self.dismiss(None)


class ConfirmModal(Dialog):
    """Asks before a step that cannot be undone; answers True or False."""

    BINDINGS = [
        Binding("escape,n", "back", "tui.key.no", id="confirm.no", tooltip="tui.tip.no"),
        Binding("y,s", "yes", "tui.key.yes", id="confirm.yes", tooltip="tui.tip.yes"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with VerticalGroup():
            yield Label(self.question, classes="dialog-title")
            if self.detail:
                yield Static(self.detail)
            with HorizontalGroup(classes="dialog-buttons"):
                yield Button(t("tui.modal.yes"), id="yes", variant="error")
                yield Button(t("tui.modal.no"), id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_back(self) -> None:
        self.dismiss(False)

    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class TextModal(Dialog):
    """One line of text: a pause reason, a transfer note. Answers the text, or None."""

    def __init__(self, title: str, prompt: str, *, required: bool = False, value: str = "",
                 max_length: int = 200) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.required = required
        self.value = value
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with VerticalGroup():
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.prompt)
            yield Input(self.value, id="text", max_length=self.max_length)
            yield Static("", id="text-error", classes="dialog-error")
            yield Static(t("tui.modal.enter_esc"), classes="dialog-hint")

    @on(Input.Submitted, "#text")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if self.required and not text:
            self.query_one("#text-error", Static).update(t("tui.modal.required"))
            return
        self.dismiss(text)


class PickModal(Dialog):
    """Choose one item of a list (a desk, a station, a missed ticket). Answers its id, or None."""

    DEFAULT_CSS = """
    PickModal OptionList { height: auto; max-height: 14; }
    """

    def __init__(self, title: str, options: list[tuple[str, str]], *, highlight: str | None = None,
                 disabled: set[str] | frozenset[str] = frozenset(), empty: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.highlight = highlight
        self.disabled = disabled
        self.empty = empty

    def compose(self) -> ComposeResult:
        with VerticalGroup():
            yield Label(self.title_text, classes="dialog-title")
            if self.options:
                yield OptionList(
                    *(Option(label, id=oid, disabled=oid in self.disabled) for oid, label in self.options),
                    id="pick",
                )
                yield Static(t("tui.modal.pick_hint"), classes="dialog-hint")
            else:
                yield Static(self.empty or t("tui.modal.nothing"), classes="dialog-hint")

    def on_mount(self) -> None:
        if not self.options:
            return
        pick = self.query_one("#pick", OptionList)
        ids = [oid for oid, _ in self.options if oid not in self.disabled]
        if self.highlight in ids:
            pick.highlighted = pick.get_option_index(self.highlight)
        elif ids:
            pick.highlighted = pick.get_option_index(ids[0])
        pick.focus()

    @on(OptionList.OptionSelected, "#pick")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class FinishModal(Dialog):
    """The outcome of an attention and its notes. Answers (outcome, notes), or None."""

    BINDINGS = [Binding("ctrl+s", "save", "tui.key.save", id="finish.save", tooltip="tui.tip.finish_save")]

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        with VerticalGroup():
            yield Label(t("tui.modal.finish_title", ticket=self.label), classes="dialog-title")
            with RadioSet(id="outcome"):
                for i, outcome in enumerate(OUTCOMES):
                    yield RadioButton(t(f"tui.outcome.{outcome}"), value=i == 0, id=f"outcome-{outcome}")
            yield Label(t("tui.modal.notes"))
            yield Input(id="notes", max_length=500)
            yield Static(t("tui.modal.finish_hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#outcome", RadioSet).focus()

    def _outcome(self) -> str:
        pressed = self.query_one("#outcome", RadioSet).pressed_button
        return pressed.id.removeprefix("outcome-") if pressed and pressed.id else OUTCOMES[0]

    def action_save(self) -> None:
        self.dismiss((self._outcome(), self.query_one("#notes", Input).value.strip()))

    @on(Input.Submitted, "#notes")
    def _submitted(self) -> None:
        self.action_save()
