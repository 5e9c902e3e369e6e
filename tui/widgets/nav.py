"""The top line of every screen: the app's name and its screens, the current one marked.

Each name is clickable (the mouse works too); the keys 1-5 do the same from the keyboard.
"""

from __future__ import annotations

from cnn_tui.tui.screens.catalog import SCREENS
from textual.content import Content
from textual.widgets import Static


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
        for screen in SCREENS:
            if screen.mode == current:
                markup += f"[reverse] [b]{screen.key}[/b] {screen.title} [/reverse]"
            else:
                markup += (
                    f"[@click=app.switch_mode('{screen.mode}')] [b]{screen.key}[/b] "
                    f"{screen.title} [/]"
                )
        return Content.from_markup(markup)
