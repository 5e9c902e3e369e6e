"""The Runs screen's table: a row per run folder, marked rows for comparing, a column for
each setting that differs between the runs (run_columns.py), sorted by any column and
narrowed by a filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.widgets.run_columns import (
    DEFAULT_SORT,
    Column,
    cell_text,
    columns_for,
    fit,
    matches,
    sort_value,
)
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widgets import DataTable

STATE_COLOURS = {
    "running": "success",
    "starting": "success",
    "finished": "foreground",
    "stopped": "warning",
    "failed": "error",
    "crashed": "error",
    "unreadable": "error",
}


class Cell(Text):
    """A cell's text and the value it sorts by: DataTable.sort hands its key the cells, and
    "0:45" must sort before "12:00", an unknown "-" after every number."""

    def __init__(self, text: str, value: Any, style: str = "") -> None:
        super().__init__(text, style=style)
        self.sort_value = sort_value(value)


def sort_key(cell: Any) -> Any:
    return cell.sort_value if isinstance(cell, Cell) else (True, None)


class RunTable(DataTable):
    """A row per run, newest first unless sorted otherwise (s, or a click on a header);
    the cursor stays on its run as rows come and go or move.

    Cells get one space before them instead of DataTable's padding of one on each side,
    so the columns fit 80 terminal columns.
    """

    BINDINGS = [Binding("enter", "select_cursor", "Open", key_display="⏎")]

    DEFAULT_CSS = """
    RunTable {
        height: 1fr;
        scrollbar-size: 1 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self.wide = False
        self.filter_text = ""
        self.sort_by: tuple[str, bool] = DEFAULT_SORT  # (column key, descending)
        self.shown_columns: list[Column] = []
        self._layout: tuple | None = None
        self._rows: list[str] = []  # the paths listed, in the cache's order
        self._shown: dict[str, dict[str, str]] = {}
        self._last: tuple[Sequence[RunSummary], set[str]] = ((), set())

    def _cell(self, column: Column, run: RunSummary, text: str) -> Text:
        style = ""
        if column.key == "state":
            style = self.app.theme_variables.get(STATE_COLOURS.get(text, "foreground")) or ""
        # a Text, not a str: names as written (a DataTable reads a str as markup)
        return Cell(f" {text}", column.value(run), style)

    def _header(self, column: Column) -> str:
        key, descending = self.sort_by
        arrow = ("▼" if descending else "▲") if column.key == key else ""
        return f" {column.header}{arrow}"

    @property
    def paths(self) -> list[str]:
        """The runs' folders in the order shown."""
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def current_path(self) -> str | None:
        paths = self.paths
        if not paths or self.cursor_row < 0 or self.cursor_row >= len(paths):
            return None
        return paths[self.cursor_row]

    def show(self, runs: Sequence[RunSummary], marked: set[str], wide: bool) -> None:
        """Show these runs (those the filter keeps); the columns are rebuilt when the
        settings that differ, the width or the sort changed, the rows when the set did,
        else only the cells that changed are."""
        self._last = (runs, marked)
        keep = self.current_path
        rows = [run for run in runs if matches(run, self.filter_text)]
        every = columns_for(runs, wide)
        texts = {
            run.path: {c.key: cell_text(c, run, run.path in marked, wide) for c in every}
            for run in rows
        }
        columns = fit(every, self._widths(every, texts), self._space())
        if not any(column.key == self.sort_by[0] for column in columns):
            self.sort_by = DEFAULT_SORT  # its column went; the cache's order is newest first
        layout = (tuple(column.key for column in columns), wide, self.sort_by)
        if layout != self._layout:
            self.clear(columns=True)
            for column in columns:
                self.add_column(self._header(column), key=column.key)
            self._layout, self.wide, self.shown_columns = layout, wide, columns
            self._rows, self._shown = [], {}
        if [run.path for run in rows] != self._rows:
            self.clear()
            for run in rows:
                cells = texts[run.path]
                self.add_row(*(self._cell(c, run, cells[c.key]) for c in columns), key=run.path)
            self._rows = [run.path for run in rows]
        else:
            for run in rows:
                cells, old = texts[run.path], self._shown.get(run.path, {})
                for column in columns:
                    if old.get(column.key) != cells[column.key]:
                        cell = self._cell(column, run, cells[column.key])
                        self.update_cell(run.path, column.key, cell, update_width=True)
        self._shown = texts
        key, descending = self.sort_by
        if key in self.columns:
            self.sort(key, key=sort_key, reverse=descending)
        if keep is not None and keep in self._shown:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def _widths(self, columns: list[Column], texts: dict[str, dict[str, str]]) -> dict[str, int]:
        """Each column's width: its widest cell or its header (with a sort arrow), plus the
        space before it."""
        return {
            c.key: 1 + max([len(c.header) + 1, *(len(cells[c.key]) for cells in texts.values())])
            for c in columns
        }

    def _space(self) -> int:
        """The terminal columns the table has (less its scroll bar)."""
        return (self.size.width or self.app.size.width) - 1

    def on_resize(self) -> None:
        if self._layout is not None:  # shown once: fit the columns to the new width
            self.show(*self._last, self.wide)

    def sort_on(self, key: str, descending: bool | None = None) -> None:
        """Sort by this column: ascending at first, the other way round when it already
        sorts by it (or as asked)."""
        now_key, now_descending = self.sort_by
        if descending is None:
            descending = not now_descending if key == now_key else False
        self.sort_by = (key, descending)
        self.show(*self._last, self.wide)

    def next_sort(self) -> None:
        """Sort by the next column to the right (after the last: the first)."""
        keys = [column.key for column in self.shown_columns]
        if keys:
            now = keys.index(self.sort_by[0]) if self.sort_by[0] in keys else -1
            self.sort_on(keys[(now + 1) % len(keys)], descending=False)

    def reverse_sort(self) -> None:
        self.sort_on(self.sort_by[0], descending=not self.sort_by[1])

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.show(*self._last, self.wide)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_on(str(event.column_key.value))
