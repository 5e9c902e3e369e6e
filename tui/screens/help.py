"""The help screen (? or F1): the keys of the screen it opens over, the global keys, and
what each screen is for.

The keys are read from the screen's active bindings as it opens (its own, its focused
widget's and the App's, each with its description and tooltip), so the list is never out
of date and shows only keys that do something there.
"""

from __future__ import annotations

from collections.abc import Iterable

from cnn_tui.tui.screens.catalog import SCREENS
from cnn_tui.tui.screens.mounting import DismissOnce
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

# Keys of the App listed although the footer does not show them.
GLOBAL_HIDDEN = ("command_palette", "help")
# Textual's keys of every screen (tab, shift+tab, copy): listed with the global keys.
EVERY_SCREEN = {binding.action for binding in Binding.make_bindings(Screen.BINDINGS)}


class HelpScreen(DismissOnce, ModalScreen[None]):
    """What each key does here and everywhere; escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help-dialog {
        width: 90%; max-width: 88; height: 90%; max-height: 40;
        border: round $primary; background: $surface; padding: 0 1;
    }
    #help-body { height: 1fr; }
    #help-close { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close", tooltip="Close the help"),
    ]

    def __init__(self, over: Screen, title: str) -> None:
        """over: the screen whose keys are listed; title: its name, said in the heading."""
        super().__init__()
        self.body = help_text(over, title)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-body"):
                yield Static(self.body, id="help-text")
            yield Static("escape, q or ? closes; arrows scroll", id="help-close")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)


def help_text(screen: Screen, title: str) -> Group:
    """The help's text: the screen's keys, the screens, then the keys of every screen."""
    app = screen.app
    active = list(screen.active_bindings.values())
    own = [
        key
        for key in active
        if key.node is not app
        and key.binding.action not in EVERY_SCREEN
        and (key.binding.show or key.node is screen)
    ]
    global_keys = [
        key
        for key in active
        if key.binding.action in EVERY_SCREEN
        or key.node is app
        and key.binding.action.partition("(")[0] != "switch_mode"
        and (key.binding.show or key.binding.action in GLOBAL_HIDDEN)
    ]
    screens = [(entry.key, entry.title, sentence_case(entry.purpose)) for entry in SCREENS]
    sections = [
        (f"Keys on the {title} screen", key_rows(app, own)),
        ("Screens (keys everywhere)", screens),
        ("Everywhere", key_rows(app, global_keys)),
    ]
    width = max(len(keys) for _, rows in sections for keys, _, _ in rows)
    parts: list[Text | Table] = []
    for heading, rows in sections:
        if parts:
            parts.append(Text(""))
        parts.append(Text(heading, style="bold underline"))
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold", min_width=width)
        table.add_column(ratio=1)
        for keys, name, does in rows or [("", "(no keys of its own)", "")]:
            line = Text(name, style="bold")
            if does:
                line.append(f": {does}")
            table.add_row(keys, line)
        parts.append(table)
    return Group(*parts)


def key_rows(app: App, keys: Iterable[ActiveBinding]) -> list[tuple[str, str, str]]:
    """One row per action: its keys (a binding of two keys shows both), its name, and what
    it does, with "(not now)" where it is there but cannot be used at the moment."""
    rows: dict[tuple[int, str], tuple[list[str], ActiveBinding]] = {}
    for key in keys:
        shown = rows.setdefault((id(key.node), key.binding.action), ([], key))[0]
        display = app.get_key_display(key.binding)
        if display not in shown:
            shown.append(display)
    lines = []
    for shown, key in rows.values():
        does = sentence_case(key.tooltip) + ("" if key.enabled else " (not now)")
        name = key.binding.description or key.binding.action
        lines.append((" ".join(shown), name[:1].upper() + name[1:], does.strip()))
    return lines


def sentence_case(text: str) -> str:
    """A tooltip after its key's name: "Start: start training", but "CSV" stays."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]
