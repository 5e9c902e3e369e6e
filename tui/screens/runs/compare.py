"""The marked runs compared: val accuracy curves overlaid, train/val accuracy as bars
(the chapter's closing figure), and a table of their numbers; live runs grow as they go."""

from __future__ import annotations

from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.runs_cache import RunFiles, accuracy_pair, read_summary
from cnn_tui.tui.screens.mounting import SkipsStaleResizes, closed_before_mounting
from cnn_tui.tui.screens.runs.describe import compare_labels
from cnn_tui.tui.widgets.compare_charts import (
    RUN_COLOURS,
    AccuracyBars,
    RunSeries,
    ValCurvesChart,
)
from cnn_tui.tui.widgets.nav import NavBar
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

REFRESH_SECONDS = 1.0  # the runs compared are looked at this often


COMPARE_COLUMNS = (
    ("label", "run"),
    ("preset", "preset"),
    ("epochs", "epochs"),
    ("train", "train"),
    ("val", "val"),
    ("best", "best val"),
    ("state", "state"),
)


class CompareScreen(ReportsWorkerErrors, SkipsStaleResizes, Screen):
    """The marked runs: val accuracy curves overlaid, and train/val accuracy as bars."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the list of runs"),
        Binding("c", "next_chart", "Curves/bars", tooltip="Which chart a small terminal shows"),
    ]
    COMMANDS_HELP = {
        "back": ("Compare: back to the list", "The Runs screen's table (escape)"),
        "next_chart": ("Compare: curves or bars", "Which chart a small terminal shows (c)"),
    }

    def __init__(self, run_dirs: list[str]) -> None:
        super().__init__(classes="compare-screen")
        self.files = [RunFiles(path) for path in run_dirs]
        self.summaries: list[RunSummary] = []
        self._drawn: tuple | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("runs")
        yield Static("", id="compare-head")
        yield DataTable(id="compare-table", cursor_type="none", zebra_stripes=True)
        with Container(id="compare-charts", classes="-show-curves"):
            yield ValCurvesChart(id="compare-curves")
            yield AccuracyBars(id="compare-bars")
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        table = self.query_one("#compare-table", DataTable)
        for key, label in COMPARE_COLUMNS:
            table.add_column(label, key=key)
        self.set_interval(REFRESH_SECONDS, self._tick)
        self.follow()

    def _tick(self) -> None:
        if self.is_current:
            self.follow()

    def follow(self) -> None:
        """Re-read the runs whose files changed (live ones grow) and redraw."""
        if not self.is_attached:
            return
        summaries, files = [], []
        for run_files in self.files:
            summary = read_summary(run_files.run_dir)
            if summary is None:
                continue  # deleted meanwhile
            summaries.append(summary)
            run_files.refresh()
            files.append(run_files)
        self.files = files
        key = tuple((s, f.version) for s, f in zip(summaries, files, strict=True))
        if key == self._drawn:
            return
        self._drawn = key
        self.summaries = summaries
        labels = compare_labels(summaries)
        series = []
        for run_files, label in zip(files, labels, strict=True):
            epochs = run_files.epochs
            pair = accuracy_pair(epochs)
            series.append(
                RunSeries(
                    label,
                    tuple(r.epoch for r in epochs),
                    tuple(r.val_accuracy for r in epochs),
                    pair[0] if pair else None,
                    pair[1] if pair else None,
                )
            )
        self._show_table(summaries, series)
        live = sum(run.alive for run in summaries)
        head = f"{len(summaries)} runs compared; train and val are the final epoch's accuracy"
        if live:
            head += f" · {live} live"
        self.query_one("#compare-head", Static).update(head)
        self.query_one("#compare-curves", ValCurvesChart).show(series)
        self.query_one("#compare-bars", AccuracyBars).show(series)

    def _show_table(self, summaries: list[RunSummary], series: list[RunSeries]) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.clear()
        variables = self.app.theme_variables
        for index, (run, line) in enumerate(zip(summaries, series, strict=True)):
            colour = variables.get(RUN_COLOURS[index % len(RUN_COLOURS)]) or ""
            label = Text.assemble(("■ ", colour), line.label)
            best = run.best_val_accuracy
            table.add_row(
                label,
                Text(run.preset or "-"),
                f"{run.epochs_done}/{run.epochs_planned or '?'}",
                f"{line.final_train:.3f}" if line.final_train is not None else "-",
                f"{line.final_val:.3f}" if line.final_val is not None else "-",
                f"{best:.3f} @ {run.best_epoch}" if best is not None else "-",
                run.state,
                key=run.path,
            )

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_chart(self) -> None:
        charts = self.query_one("#compare-charts")
        curves = charts.has_class("-show-curves")
        charts.set_class(not curves, "-show-curves")
        charts.set_class(curves, "-show-bars")
        if not (self.has_class("-narrow") and self.has_class("-short")):
            self.notify("Both charts are shown at this size; c picks one on small terminals.")
