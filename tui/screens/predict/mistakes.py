"""The Predict screen's Mistakes tab: the confusion matrix (Enter on a cell lists its images)
and the most confident mistakes (fastai's top losses)."""

from __future__ import annotations

from cnn_tui.tui.screens.predict.validation import ValidationView
from cnn_tui.tui.widgets.prediction_tables import fill_confusion, fill_top_losses, row_key
from textual import on
from textual.widgets import DataTable, Static

TOP_LOSSES = 20


class MistakesView(ValidationView):
    """The confusion matrix and the top losses (PredictScreen derives from it)."""

    def _fill_mistakes(self) -> None:
        results = self.results
        matrix = self.query_one("#confusion-table", DataTable)
        matrix.clear(columns=True)
        losses = self.query_one("#losses-table", DataTable)
        losses.clear()
        if results is None:
            return
        self.query_one("#confusion-title", Static).update(fill_confusion(matrix, results))
        title = fill_top_losses(losses, results, TOP_LOSSES)
        self.query_one("#losses-title", Static).update(title)

    @on(DataTable.CellSelected, "#confusion-table")
    def _cell_chosen(self, event: DataTable.CellSelected) -> None:
        row = event.coordinate.row
        column = event.coordinate.column - 1  # the first column names the true class
        if self.results is None or not (0 <= column < len(self.results.classes)):
            return
        self.true_class, self.predicted_class = row, column
        self.wrong_only = False
        self._refilter()

    @on(DataTable.RowHighlighted, "#losses-table")
    def _loss_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = row_key(event)
        if self._active("mistakes") and key is not None:
            self._show_entry(int(key))
