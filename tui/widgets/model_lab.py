"""The Lab's fields and table: the book's Net with another kernel, other widths, ReLU.

The chapter's first exercise asks what a 5x5 or a (1, 3) kernel does to the parameter
count. Each field is checked as it is typed by core/architecture.py's own parsers (the
command line's --kernel-size, --channels and --padding refuse the same values in the same
words), the reason beside the field; a whole architecture that passes is posted
(`ModelLab.Changed`) for the screen to have the session measure it, and `show` draws the
measured table here. Nothing is measured in this widget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnn_tui.core.architecture import (
    ACTIVATIONS,
    Architecture,
    check_architecture,
    parse_channels,
    parse_kernel_size,
    parse_padding,
)
from cnn_tui.core.inspection import format_kernel_size, format_shape
from cnn_tui.core.refused import ConfigError
from cnn_tui.tui.widgets.train_form import CoreCheck
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static

if TYPE_CHECKING:
    from cnn_tui.tui.session.models import LabTable

LAB_COLUMNS = ("layer", "type", "output shape", "kernel", "params")
SAME = ("", "same")  # what the padding field takes for "keep the size" (k // 2)


def parse_lab_padding(text: str) -> tuple[int, int] | None:
    """The padding field: empty or "same" keeps the size (None), else core's parser."""
    if text.strip().lower() in SAME:
        return None
    return parse_padding(text)


# (field, label, initial value, the note beside it while the value is fine, parser)
LAB_FIELDS = (
    ("kernel", "kernel", "3", "odd: 3, 5, or 1,3 (high,wide)", parse_kernel_size),
    ("channels", "channels", "16,8", "conv1,conv2 (32,16: NetWidth)", parse_channels),
    ("padding", "padding", "same", "same (k//2), or 0, or 0,1", parse_lab_padding),
)


class ModelLab(Vertical):
    """The Net family member being edited (`architecture`, None while a value is refused)
    and its measured layers."""

    class Changed(Message):
        """The fields describe another architecture (None: one is refused)."""

        def __init__(self, architecture: Architecture | None) -> None:
            super().__init__()
            self.architecture = architecture

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.architecture: Architecture | None = Architecture()

    def compose(self) -> ComposeResult:
        for name, label, value, note, parse in LAB_FIELDS:
            with Horizontal(classes="lab-field"):
                yield Label(label, classes="lab-label")
                yield Input(
                    value,
                    validators=[CoreCheck(parse)],
                    validate_on=["changed", "submitted", "blur"],
                    compact=True,
                    id=f"lab-{name}",
                    select_on_focus=True,
                )
                yield Static(note, id=f"lab-{name}-note", classes="lab-note")
        with Horizontal(classes="lab-field"):
            yield Label("activation", classes="lab-label")
            yield Select(
                [(name if name == "tanh" else "ReLU", name) for name in ACTIVATIONS],
                value="tanh",
                allow_blank=False,
                compact=True,
                id="lab-activation",
            )
            yield Static("the book's Net uses tanh", classes="lab-note")
        yield DataTable(id="lab-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="lab-totals")

    def on_mount(self) -> None:
        table = self.query_one("#lab-table", DataTable)
        for column in LAB_COLUMNS:
            table.add_column(column, key=column)

    # -- the fields ---------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed, "#lab-activation")
    def _edited(self) -> None:
        architecture = self._read()
        if architecture != self.architecture:
            self.architecture = architecture
            self.post_message(self.Changed(architecture))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.screen.set_focus(None)  # Enter leaves the field, so the screen's keys work

    def _read(self) -> Architecture | None:
        """The fields' architecture, checked as a whole; None with the reasons shown."""
        refused = False
        for name, _, _, note, _ in LAB_FIELDS:
            field = self.query_one(f"#lab-{name}", Input)
            result = field.validate(field.value)
            reasons = result.failure_descriptions if result is not None else []
            beside = self.query_one(f"#lab-{name}-note", Static)
            beside.update(Text(reasons[0]) if reasons else note)  # as typed: no markup
            beside.set_class(bool(reasons), "-error")
            refused = refused or bool(reasons)
        if refused:
            self._say("a value is refused: the reason is beside its field", error=True)
            return None
        try:
            return check_architecture(
                Architecture(
                    kernel_size=parse_kernel_size(self._value("kernel")),
                    channels=parse_channels(self._value("channels")),
                    activation=str(self.query_one("#lab-activation", Select).value),
                    padding=parse_lab_padding(self._value("padding")),
                )
            )
        except ConfigError as error:  # the fields pass one by one, not together
            self._say(str(error), error=True)
            return None

    def _value(self, name: str) -> str:
        return self.query_one(f"#lab-{name}", Input).value.strip()

    # -- what the screen hands back -----------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        totals = self.query_one("#lab-totals", Static)
        totals.update(Text(text))
        totals.set_class(error, "-error")

    def waiting(self, text: str) -> None:
        """Say what the table waits for (the engine, the measure)."""
        self._say(text)

    def show(self, lab: LabTable) -> None:
        """Draw a measured architecture, if it is still the one in the fields."""
        if lab.architecture != self.architecture:
            return
        view = self.query_one("#lab-table", DataTable)
        view.clear()
        for row in lab.table.rows:
            view.add_row(
                row.name,
                row.type,
                format_shape(row.output_shape),
                format_kernel_size(row.kernel_size),
                Text(f"{row.params:,}", justify="right"),
                key=row.name,
            )
        totals = self.query_one("#lab-totals", Static)
        totals.set_class(False, "-error")
        change = lab.difference
        totals.update(
            Text.assemble(
                (f"{lab.table.total_params:,}", "bold"),
                " parameters · the book's Net: ",
                f"{lab.book_params:,} (",
                (f"{change:+,}", "bold"),
                ")\n",
                (f"{lab.architecture.describe()} · t: train it", "dim"),
            )
        )
