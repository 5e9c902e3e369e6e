"""The Predict screen's Validation tab: every validation image with its true label, the
prediction and the confidence; filters (wrong only, by class, least confident first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnn_tui.tui.screens.predict.base import PredictBase
from cnn_tui.tui.widgets.prediction_tables import (
    ORDER_NAMES,
    add_entries,
    filters_text,
    row_key,
)
from textual import on
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from cnn_tui.core.validation_results import Entry

LIST_PAGE = 500  # validation rows added to the table at a time


class ValidationView(PredictBase):
    """The validation list and its filters (PredictScreen derives from it)."""

    def __init__(self) -> None:
        super().__init__()
        self.wrong_only = False
        self.true_class: int | None = None
        self.predicted_class: int | None = None
        self.order = "index"
        self._entries: list[Entry] = []  # of the list, filtered and ordered

    def _draw_filters(self) -> None:
        classes = self.results.classes if self.results is not None else []
        true = self.true_class if self.true_class is not None else -1
        predicted = self.predicted_class if self.predicted_class is not None else -1
        shown = "" if self.results is None else f"{len(self._entries)}/{len(self.results)} "
        text = filters_text(shown, self.wrong_only, classes, true, predicted, self.order)
        self.query_one("#val-filters", Static).update(text)

    def _fill_validation(self) -> None:
        table = self.query_one("#val-table", DataTable)
        table.clear()
        self._entries = []
        results = self.results
        if results is None:
            self._draw_filters()
            return
        self._entries = results.select(
            wrong_only=self.wrong_only,
            true_class=self.true_class,
            predicted_class=self.predicted_class,
            order=self.order,
        )
        self._list_more()
        self._draw_filters()
        if self._entries and self._active("validation"):
            table.move_cursor(row=0)
            self._show_entry(self._entries[0].index)

    def _list_more(self) -> None:
        """Add the next page of entries to the table.

        A DataTable measures every new cell, so ten thousand rows at once would hold the
        UI for seconds; pages of LIST_PAGE rows keep each filter change instant, and the
        next page comes as the cursor nears the end.
        """
        table = self.query_one("#val-table", DataTable)
        classes = self.results.classes if self.results is not None else []
        start = table.row_count
        add_entries(table, self._entries[start : start + LIST_PAGE], classes)

    @on(DataTable.RowHighlighted, "#val-table")
    def _val_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if event.cursor_row >= table.row_count - 5 and table.row_count < len(self._entries):
            self._list_more()
        key = row_key(event)
        if self._active("validation") and key is not None:
            self._show_entry(int(key))

    def action_wrong(self) -> None:
        self.wrong_only = not self.wrong_only
        self._refilter()

    def action_next_class(self) -> None:
        count = len(self.results.classes) if self.results is not None else 0
        if self.true_class is None:
            self.true_class = 0 if count else None
        else:
            self.true_class = self.true_class + 1 if self.true_class + 1 < count else None
        self.predicted_class = None
        self._refilter()

    def action_next_order(self) -> None:
        orders = list(ORDER_NAMES)
        self.order = orders[(orders.index(self.order) + 1) % len(orders)]
        self._refilter()

    def _refilter(self) -> None:
        self.action_tab("validation")
        self._fill_validation()
