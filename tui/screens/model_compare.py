"""The Model screen's Compare view: every model side by side, with how easily each shipped
model is tricked (the chapter's second exercise: "is this easier with less or more
capacity?").

The comparison is measured when the view is first shown. The capacity figures take
minutes on a CPU, so they are measured only on a key (e), in a thread worker through the
session's `capacity`, with progress under the table and the rest of the screen usable.
Leaving the screen stops the measurement between two budgets; each model measured is
kept (for the app's life and in the cache folder), so e goes on from there and the next
visit shows the figures at once.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from cnn_tui.tui.errors import describe
from cnn_tui.tui.runs_cache import short_dataset
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.widgets.model_tables import capacity_answer, capacity_cell, fill_comparison
from rich.text import Text
from textual import on
from textual.events import ScreenSuspend
from textual.widgets import DataTable, Static, TabbedContent
from textual.worker import Worker, get_current_worker

if TYPE_CHECKING:
    from cnn_tui.core.inspection import ModelComparison
    from cnn_tui.tui.session.capacity import CapacityTable, Measuring

COMPARE_TAB = "compare"
CAPACITY_COLUMN = "flip eps"
COMPARE_COLUMNS = (
    "model",
    "params",
    "mult-adds",
    "train",
    "val",
    "book",
    "weights",
    CAPACITY_COLUMN,
)


class CompareView(AppScreen):
    """The Compare view's side of the Model screen (ModelScreen derives from it)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.comparison: list[ModelComparison] | None = None
        self.comparison_for: int | None = None  # the number of classes compared
        self.capacity: CapacityTable | None = None
        self.measuring: Measuring | None = None  # while e's measurement runs
        self._capacity_worker: Worker[None] | None = None
        self._capacity_said = ""  # why the figures could not be had, if so
        self._capacity_started = 0.0  # when e started the measurement (time.monotonic)

    def say(self, message: str, level: str = "info") -> None:
        """The screen's message line (under the model bar): info, error or success."""
        line = self.query_one("#model-message", Static)
        line.update(Text(message))
        line.set_class(level == "error", "-error")
        line.set_class(level == "success", "-success")

    def compare_shown(self) -> bool:
        return self.query_one(TabbedContent).active == COMPARE_TAB

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "capacity":
            return self.compare_shown()  # e shows in the footer on the Compare view only
        return super().check_action(action, parameters)

    def show_comparison(self, classes: int) -> None:
        """Fill the table for models of this many classes (measured once per count), and
        the capacity figures found so far."""
        if self.capacity is None:
            self.capacity = self.session.capacity.last
        if self.capacity is None and not self._capacity_running():
            self._start_capacity(measure=False)  # what the cache folder holds: quick
        if self.comparison is not None and self.comparison_for == classes:
            return
        self.query_one("#models-note", Static).update(
            "measuring every model and reading the scores of shipped weights and runs..."
        )
        self.run_worker(
            partial(self._compare_job, classes),
            thread=True,
            group="compare",
            exclusive=True,
            exit_on_error=False,
        )

    def forget_comparison(self) -> None:
        """The scores may have changed (a run finished): measured again when shown."""
        self.comparison = None
        if self.compare_shown():
            self.show_comparison(self.comparison_for or 2)

    def _compare_job(self, classes: int) -> None:
        try:
            rows = self.session.models.compare(classes)
        except Exception as error:
            self._from_thread(self.say, f"cannot compare the models: {error}", "error")
            return
        self._from_thread(self._compare_done, classes, rows)

    def _compare_done(self, classes: int, rows: list[ModelComparison]) -> None:
        self.comparison = rows
        self.comparison_for = classes
        fill_comparison(self.query_one("#models-table", DataTable), rows, self._capacity_cell)
        self._draw_capacity()
        self._compare_note()

    @on(DataTable.RowHighlighted, "#models-table")
    def _compare_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._compare_note()

    def _compare_note(self) -> None:
        """The highlighted row's weights file, and what the columns mean."""
        if not self.comparison:
            return
        view = self.query_one("#models-table", DataTable)
        row = self.comparison[min(view.cursor_row, len(self.comparison) - 1)]
        sample = f" ({row.best.trained_on})" if row.best and row.best.trained_on else ""
        where = (
            Text.assemble((f"{row.model}: ", "bold"), str(row.best.path), sample)
            if row.best is not None
            else Text.assemble((f"{row.model}: ", "bold"), "no trained weights found")
        )
        where.append(
            f"\ntrain/val: its best weights ({self.comparison_for} classes) · book: the "
            "chapter's · Enter: layers · u: use",
            style="dim",
        )
        self.query_one("#models-note", Static).update(where)

    # -- how easily each shipped model is tricked -----------------------------------------

    def action_capacity(self) -> None:
        if not self.compare_shown():
            return
        if self._capacity_running() and self.measuring is not None:
            self.say("already measuring; leaving the screen stops it")
            return
        if self.capacity is not None and not self.capacity.unmeasured:
            self.say("every shipped model is measured (the figures are kept in the cache)")
            return
        if self.session.engine_state != "ready":
            self.say("the engine is still loading (importing torch); try again in a moment")
            return
        self._start_capacity(measure=True)

    def _capacity_running(self) -> bool:
        worker = self._capacity_worker
        return worker is not None and worker.is_running

    def _start_capacity(self, measure: bool) -> None:
        self._capacity_said = ""
        if measure:
            self._capacity_started = time.monotonic()
            self.say("measuring how small an attack flips each shipped model (minutes)...")
        self._capacity_worker = self.run_worker(
            partial(self._capacity_job, measure),
            thread=True,
            group="capacity",
            exclusive=True,
            exit_on_error=False,
        )
        self._draw_capacity()

    def _capacity_job(self, measure: bool) -> None:
        worker = get_current_worker()
        try:
            table = self.session.capacity.table(
                measure,
                on_progress=lambda measuring: self._from_thread(self._capacity_step, measuring),
                stopped=lambda: worker.is_cancelled,
            )
        except Exception as error:  # said under the table; the app carries on
            self._from_thread(self._capacity_failed, describe(error))
            return
        self._from_thread(self._capacity_done, table)

    def _capacity_step(self, measuring: Measuring) -> None:
        self.measuring = measuring
        self._draw_capacity()

    def _capacity_done(self, table: CapacityTable) -> None:
        self.capacity = table
        measured = self.measuring is not None
        self.measuring = None
        if table.note:
            self.say(table.note, "error")
        elif measured and table.unmeasured:
            self.say(f"stopped; e measures the other {len(table.unmeasured)}")
        elif measured:
            seconds = time.monotonic() - self._capacity_started
            self.say(f"measured every shipped model in {seconds:.0f} s", "success")
        self._draw_capacity()

    def _capacity_failed(self, reason: str) -> None:
        self.measuring = None
        self._capacity_said = f"cannot measure how easily the models are tricked: {reason}"
        self._draw_capacity()

    @on(ScreenSuspend)
    def _left(self) -> None:
        """Another screen is shown: a measurement stops after the budget it is trying."""
        if self._capacity_worker is not None:
            self._capacity_worker.cancel()

    def _draw_capacity(self) -> None:
        """The column's cells and the lines under the table: what the figures are, the
        progress or the answer."""
        if self.comparison is not None:
            view = self.query_one("#models-table", DataTable)
            for row in self.comparison:
                cell = self._capacity_cell(row.model)
                view.update_cell(row.model, CAPACITY_COLUMN, cell, update_width=True)
        self.query_one("#capacity-note", Static).update(self._capacity_text())

    def _capacity_cell(self, model: str) -> Text:
        table = self.capacity
        if table is not None and table.classes != self.comparison_for:
            return Text("-", justify="right")  # the shipped models have other classes
        return capacity_cell(model, table, self.measuring.model if self.measuring else "")

    def _capacity_text(self) -> Text:
        table = self.capacity
        if self._capacity_said:
            return Text(self._capacity_said, style="bold")
        if table is None:
            return Text("flip eps: reading what was measured before...", style="dim")
        where = (
            f"{table.images} bundled-sample images, not CIFAR-2"
            if table.sample
            else f"{table.images} {short_dataset(table.data)} val images"
        )
        text = Text(f"flip eps (shipped): median eps flipping {where}", style="dim")
        if self.measuring is not None:
            text.append("\n" + self.measuring.describe(), style="bold")
        elif table.unmeasured:
            count = len(table.unmeasured)
            text.append(f"\n{count} not measured yet: e measures them (minutes)", style="bold")
        else:
            text.append("\n" + capacity_answer(table), style="bold")
        return text
