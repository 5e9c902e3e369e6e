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
        """A character that reached the dialog itself rather than its field came in one
        burst with the `n` that opened it (a quick typist over SSH), before the field had
        focus: it goes into the field. The field stops its own characters, and an enter
        in the burst finds the field's submit binding, since bindings follow the focus."""
        if not (event.is_printable and event.character):
            return
        for field in self.query("#rename-input").results(Input):  # none if already gone
            event.stop()
            field.insert_text_at_cursor(event.character)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
