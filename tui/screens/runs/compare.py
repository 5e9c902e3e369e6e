"""The marked runs compared: val accuracy and val loss curves overlaid, each named, train/val
accuracy as bars (the chapter's closing figure), a table of their numbers and settings, and
a warning when they trained on different data; live runs grow as they go."""

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
from cnn_tui.tui.widgets.run_columns import data_text, differing
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

REFRESH_SECONDS = 1.0  # the runs compared are looked at this often


COMPARE_COLUMNS = (
    ("label", "run"),
    ("data", "data"),
    ("epochs", "epochs"),
    ("train", "train"),
    ("val", "val"),
    ("gap", "gap"),  # train - val: how much the run overfits (the chapter's exercise 1)
    ("best", "best val"),
    ("state", "state"),
    ("settings", "settings that differ"),  # last: the widest, cut first on a small terminal
)


CHARTS = ("accuracy", "loss", "bars")  # what c shows in turn on a small terminal


def data_warning(runs: list[RunSummary]) -> str:
    """One line when the runs trained on different data sets (the bundled sample against
    the full CIFAR-2, say): their numbers do not compare; else ""."""
    names = sorted({data_text(run) for run in runs})
    if len(names) < 2:
        return ""
    return (
        f"⚠ These runs trained on different data sets ({', '.join(names)}): "
        "their accuracies and losses do not compare."
    )


def settings_words(run: RunSummary, runs: list[RunSummary]) -> str:
    """The run's settings that differ between the runs compared, e.g. "lr 0.005, opt adam"."""
    words = [
        f"{column.header} {column.text(run)}"
        for column in differing(runs)
        if column.key != "data"  # a column of its own
    ]
    return ", ".join(words) or "-"


class CompareScreen(ReportsWorkerErrors, SkipsStaleResizes, Screen):
    """The marked runs: val accuracy and loss curves overlaid, train/val accuracy as bars."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the list of runs"),
        Binding("c", "next_chart", "Chart", tooltip="Which chart a small terminal shows"),
    ]
    COMMANDS_HELP = {
        "back": ("Compare: back to the list", "The Runs screen's table (escape)"),
        "next_chart": (
            "Compare: next chart",
            "Accuracy, loss or bars: which chart a small terminal shows (c)",
        ),
    }

    def __init__(self, run_dirs: list[str]) -> None:
        super().__init__(classes="compare-screen")
        self.files = [RunFiles(path) for path in run_dirs]
        self.summaries: list[RunSummary] = []
        self._drawn: tuple | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("runs")
        yield Static("", id="compare-head")
        yield Static("", id="compare-warning")
        yield DataTable(id="compare-table", cursor_type="none", zebra_stripes=True)
        with Container(id="compare-charts", classes="-show-accuracy"):
            yield ValCurvesChart("accuracy", id="compare-accuracy")
            yield ValCurvesChart("loss", id="compare-loss")
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
                    tuple(r.val_loss for r in epochs),
                    pair[0] if pair else None,
                    pair[1] if pair else None,
                )
            )
        self._show_table(summaries, series)
        live = sum(run.alive for run in summaries)
        head = f"{len(summaries)} runs · final epoch's accuracy: train, val, gap = "
        head += "train - val (overfitting)"
        if live:
            head += f" · {live} live"
        self.query_one("#compare-head", Static).update(head)
        warning = self.query_one("#compare-warning", Static)
        warning.update(data_warning(summaries))
        warning.display = bool(data_warning(summaries))
        for chart in self.query("#compare-charts > ValCurvesChart").results(ValCurvesChart):
            chart.show(series)
        self.query_one("#compare-bars", AccuracyBars).show(series)

    def _show_table(self, summaries: list[RunSummary], series: list[RunSeries]) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.clear()
        variables = self.app.theme_variables
        for index, (run, line) in enumerate(zip(summaries, series, strict=True)):
            colour = variables.get(RUN_COLOURS[index % len(RUN_COLOURS)]) or ""
            label = Text.assemble(("■ ", colour), line.label)
            best = run.best_val_accuracy
            train, val = line.final_train, line.final_val
            table.add_row(
                label,
                Text(data_text(run)),
                f"{run.epochs_done}/{run.epochs_planned or '?'}",
                f"{train:.3f}" if train is not None else "-",
                f"{val:.3f}" if val is not None else "-",
                f"{train - val:+.3f}" if train is not None and val is not None else "-",
                f"{best:.3f} @ {run.best_epoch}" if best is not None else "-",
                run.state,
                Text(settings_words(run, summaries)),
                key=run.path,
            )

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_chart(self) -> None:
        charts = self.query_one("#compare-charts")
        now = next((i for i, name in enumerate(CHARTS) if charts.has_class(f"-show-{name}")), 0)
        for name in CHARTS:
            charts.remove_class(f"-show-{name}")
        charts.add_class(f"-show-{CHARTS[(now + 1) % len(CHARTS)]}")
        if not (self.has_class("-narrow") and self.has_class("-short")):
            self.notify("Both charts are shown at this size; c picks one on small terminals.")
