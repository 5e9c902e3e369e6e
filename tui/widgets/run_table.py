"""The Runs screen's table: a row per run folder, marked rows for comparing."""

from __future__ import annotations

import time
from collections.abc import Sequence

from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.runs_cache import short_dataset
from cnn_tui.tui.state import format_duration
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

# (key, header); the wide table adds the run folder's name.
COLUMNS = [
    ("model", "model"),
    ("preset", "preset"),
    ("data", "data set"),
    ("epochs", "epochs"),
    ("best", "best"),
    ("state", "state"),
    ("started", "started"),
    ("time", "time"),
]
WIDE_COLUMNS = [*COLUMNS, ("name", "run folder")]
MARK = "●"
NARROW_DATA = 12  # characters of the data set's name in an 80-column table
STATE_COLOURS = {
    "running": "success",
    "starting": "success",
    "finished": "foreground",
    "stopped": "warning",
    "failed": "error",
    "crashed": "error",
    "unreadable": "error",
}


def started_text(started: float | None, wide: bool = False) -> str:
    if started is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M" if wide else "%m-%d %H:%M", time.localtime(started))


def epochs_text(run: RunSummary) -> str:
    planned = run.epochs_planned if run.epochs_planned is not None else "?"
    return f"{run.epochs_done}/{planned}"


def row_cells(run: RunSummary, marked: bool, wide: bool) -> dict[str, str]:
    """The text of each cell of a run's row (the state is coloured by the table)."""
    best = run.best_val_accuracy
    data = short_dataset(run.dataset)
    if not wide and len(data) > NARROW_DATA:
        data = data[: NARROW_DATA - 1] + "…"
    cells = {
        "model": f"{MARK if marked else ' '} {run.model or '?'}",
        "preset": run.preset or "-",
        "data": data,
        "epochs": epochs_text(run),
        "best": f"{best:.3f}" if best is not None else "-",
        "state": run.state,
        "started": started_text(run.started, wide),
        "time": format_duration(run.duration_seconds),
    }
    if wide:
        cells["name"] = run.name
    return cells


class RunTable(DataTable):
    """A row per run, newest first; the cursor stays on its run as rows come and go.

    Cells get one space before them instead of DataTable's padding of one on each side,
    so the eight columns fit 80 terminal columns.
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
        self.paths: list[str] = []
        self._shown: dict[str, dict[str, str]] = {}

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label in WIDE_COLUMNS if self.wide else COLUMNS:
            self.add_column(f" {label}", key=key)

    def _cell(self, key: str, text: str) -> Text:
        if key != "state":
            return Text(f" {text}")  # names as written: a DataTable reads a str as markup
        colour = self.app.theme_variables.get(STATE_COLOURS.get(text, "foreground"))
        return Text(f" {text}", style=colour or "")

    @property
    def current_path(self) -> str | None:
        if not self.paths or self.cursor_row < 0 or self.cursor_row >= len(self.paths):
            return None
        return self.paths[self.cursor_row]

    def show(self, runs: Sequence[RunSummary], marked: set[str], wide: bool) -> None:
        """Show these runs; rebuilt when the set or order changed, else cells updated."""
        keep = self.current_path
        paths = [run.path for run in runs]
        if wide != self.wide:
            self.wide = wide
            self.clear(columns=True)
            self._add_columns()
            self.paths = []
            self._shown = {}
        if paths != self.paths:
            self.clear()
            self._shown = {}
            for run in runs:
                cells = row_cells(run, run.path in marked, wide)
                self.add_row(*(self._cell(k, v) for k, v in cells.items()), key=run.path)
                self._shown[run.path] = cells
            self.paths = paths
            if keep in paths:
                self.move_cursor(row=paths.index(keep), animate=False)
            return
        for run in runs:
            cells = row_cells(run, run.path in marked, wide)
            old = self._shown.get(run.path, {})
            for key, text in cells.items():
                if old.get(key) != text:
                    self.update_cell(run.path, key, self._cell(key, text), update_width=True)
            self._shown[run.path] = cells
