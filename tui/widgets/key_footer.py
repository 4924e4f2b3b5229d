"""A footer that wraps onto more lines instead of hiding keys off the edge.

A desk has a dozen one-key actions; at 80 columns Textual's one-line Footer
would cut half of them off. This footer lays the same active bindings out in
as many lines as the width needs, so every key stays visible.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget

SEPARATOR = "  "


class KeyFooter(Widget, can_focus=False):
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--disabled"}

    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyFooter > .key-footer--disabled {
        text-style: dim;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        self.refresh(layout=True)

    def _items(self) -> list[Text]:
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        dim_style = self.get_component_rich_style("key-footer--disabled", partial=True)
        items: list[Text] = []
        palette_item: Text | None = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.show and key != self.app.COMMAND_PALETTE_BINDING:
                continue
            if not binding.description:
                continue
            item = Text.assemble((self.app.get_key_display(binding), key_style), " ", binding.description)
            if not active.enabled:
                item.stylize(dim_style)
            if key == self.app.COMMAND_PALETTE_BINDING:
                palette_item = item
            else:
                items.append(item)
        if palette_item is not None:
            items.append(palette_item)
        return items

    def _lines(self, width: int) -> list[Text]:
        lines: list[Text] = []
        line = Text()
        for item in self._items():
            if line.cell_len and line.cell_len + len(SEPARATOR) + item.cell_len > width:
                lines.append(line)
                line = Text()
            if line.cell_len:
                line.append(SEPARATOR)
            line.append_text(item)
        if line.cell_len:
            lines.append(line)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._lines(width)))

    def render(self) -> Text:
        return Text("\n").join(self._lines(self.content_region.width or self.size.width))
