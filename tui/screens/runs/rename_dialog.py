"""The dialog that names a run (n on the Runs list): one line, its old name to edit."""

from __future__ import annotations

from cnn_tui.core.config import MAX_NAME
from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.screens.mounting import DismissOnce
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static


class RenameScreen(DismissOnce, ModalScreen[str | None]):
    """Dismisses with the name typed (enter; "" clears it), or None (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, run: RunSummary) -> None:
        super().__init__()
        self.run = run

    def compose(self) -> ComposeResult:
        run = self.run
        with Vertical(id="confirm-dialog"):
            what = f"Name run {run.name} ({run.model or '?'}, {run.state}):"
            yield Static(Text(what), id="rename-question")  # run names: no markup
            yield Input(
                run.title,
                placeholder="a few words; empty clears the name",
                max_length=MAX_NAME,
                id="rename-input",
            )
            yield Static("enter saves it in config.json · escape cancels", id="rename-hint")
        yield Footer()

    def on_mount(self) -> None:
        for field in self.query("#rename-input").results(Input):  # none if already gone
            field.focus()

    def on_key(self, event: Key) -> None:
        """A key that reached the dialog itself rather than its field came in one burst
        with the `n` that opened it (a quick typist over SSH), before the field had focus:
        a character goes into the field, enter saves. The field's own keys stop there."""
        fields = self.query("#rename-input").results(Input)
        field = next(iter(fields), None)
        if field is None:
            return
        if event.is_printable and event.character:
            event.stop()
            field.insert_text_at_cursor(event.character)
        elif event.key == "enter":
            event.stop()
            self.dismiss(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
