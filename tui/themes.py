"""The ship's two looks: river blue for the cabins, high contrast for bright light on deck.

Widgets take their colours from theme variables ($primary, $error...), so a
theme switch (F2 or the command palette) changes every screen at once.
"""

from __future__ import annotations

from textual.theme import Theme

PIAS_THEME = Theme(
    name="pias",
    primary="#2f7fc1",
    secondary="#1f9e89",
    accent="#f2a900",
    warning="#f2a900",
    error="#e5484d",
    success="#3fb950",
    foreground="#e6edf3",
    background="#0d1b2a",
    surface="#14263a",
    panel="#1b3350",
    dark=True,
)

# Black on white, no tints: the most legible combination in direct sunlight.
PIAS_HIGH_CONTRAST = Theme(
    name="pias-contraste",
    primary="#00307a",
    secondary="#004d40",
    accent="#000000",
    warning="#7a4a00",
    error="#b00000",
    success="#005a00",
    foreground="#000000",
    background="#ffffff",
    surface="#ffffff",
    panel="#d8d8d8",
    boost="#e8e8e8",
    dark=False,
    luminosity_spread=0.0,
    text_alpha=1.0,
    variables={
        "footer-background": "#000000",
        "footer-foreground": "#ffffff",
        "footer-key-foreground": "#ffff00",
        "footer-description-foreground": "#ffffff",
        "border": "#000000",
        "block-cursor-background": "#000000",
        "block-cursor-foreground": "#ffffff",
        "input-selection-background": "#00307a 60%",
    },
)

THEMES = (PIAS_THEME, PIAS_HIGH_CONTRAST)
DEFAULT_THEME = PIAS_THEME.name
HIGH_CONTRAST_THEME = PIAS_HIGH_CONTRAST.name
