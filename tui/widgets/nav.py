"""The top line of every screen: the app's name and its screens, the current one marked.

Each name is clickable (the mouse works too); the keys 1-5 do the same from the keyboard.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

# (mode, key, title); the App's MODES use the same names.
SCREENS = [
    ("train", "1", "Train"),
    ("model", "2", "Model"),
    ("predict", "3", "Predict"),
    ("explore", "4", "Explore"),
    ("runs", "5", "Runs"),
]


class NavBar(Static):
    """`cnn-tui  1 Train  2 Model ...` with the shown screen highlighted."""

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__(self._render_bar(current))
        self.current = current

    @staticmethod
    def _render_bar(current: str) -> Content:
        markup = " [b]cnn-tui[/b] "
        for mode, key, title in SCREENS:
            if mode == current:
                markup += f"[reverse] [b]{key}[/b] {title} [/reverse]"
            else:
                markup += f"[@click=app.switch_mode('{mode}')] [b]{key}[/b] {title} [/]"
        return Content.from_markup(markup)
