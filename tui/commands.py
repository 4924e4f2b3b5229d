"""Command palette entries for the main actions: whatever the current screen's keys can do.

The entries come from the active, shown bindings of the screen the palette
was opened on, so the palette and the footer always agree, are in the
operator's language, and honour the same check_action rules (a desk's
"finish" appears only while a ticket is being served).
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from vessel.i18n import t


class BindingCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        commands = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action == "command_palette":
                continue
            if not binding.show:
                continue
            title = f"{binding.description} ({self.app.get_key_display(binding)})"
            run = partial(self.app.run_action, binding.action, active.node)
            commands.append((title, binding.tooltip or t("tui.palette.key", key=key), run))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, text=title, help=help_text)
