"""A stand-in for a screen that a later issue brings, saying which."""

from __future__ import annotations

from cnn_tui.tui.widgets.nav import NavBar
from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Static


class PlaceholderScreen(Screen):
    """Says which issue brings this screen; the rest of the app works as usual."""

    def __init__(self, mode: str, title: str, issue: int, what: str) -> None:
        super().__init__(id=f"{mode}-screen")
        self.mode = mode
        self.title_text = title
        self.issue = issue
        self.what = what

    def compose(self) -> ComposeResult:
        yield NavBar(self.mode)
        with Middle(), Center():
            yield Static(
                f"[b]The {self.title_text} screen arrives with issue {self.issue}.[/b]\n\n"
                f"{self.what}\n\nPress 1 for the Train screen; training goes on meanwhile.",
                classes="placeholder",
            )
        yield Footer()
