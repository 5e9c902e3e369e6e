"""One run's screen: its charts as on the Train screen, following its files while it
trains (a live run's place within its epoch too), with the keys that act on it."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from cnn_tui.core.events import Progress
from cnn_tui.core.layer_stats import Histogram
from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.runs_cache import (
    RunFiles,
    epoch_progress,
    files_key,
    may_change_alone,
    read_summary,
)
from cnn_tui.tui.screens.mounting import SkipsStaleResizes, closed_before_mounting
from cnn_tui.tui.screens.runs.app_state import runs_host
from cnn_tui.tui.screens.runs.describe import (
    is_own_run,
    run_info_text,
    run_status_text,
    run_title,
)
from cnn_tui.tui.screens.runs.keys import RunKeys
from cnn_tui.tui.session import run_actions as actions
from cnn_tui.tui.state import TrainState, format_duration
from cnn_tui.tui.widgets.chart_panel import CHART_BINDINGS, CHART_HELP, ChartKeys, ChartPanel
from cnn_tui.tui.widgets.layers_view import LAYERS_BINDING, LAYERS_HELP, LayersView
from cnn_tui.tui.widgets.nav import NavBar
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import ScreenResume
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

FOLLOW_SECONDS = 0.5  # an open run looks at its files this often


def live_progress(train: TrainState, run: RunSummary) -> Progress | None:
    """Where the live run is within its epoch: the app's own events (train: its training
    state), else progress.json."""
    if not run.alive:
        return None
    if is_own_run(run):
        progress = train.progress
        started = train.started
        if progress is not None and started is not None and Path(started.run_dir) == Path(run.path):
            return progress
        return None
    return epoch_progress(run)


class RunScreen(ReportsWorkerErrors, RunKeys, ChartKeys, SkipsStaleResizes, Screen):
    """One run's charts as on the Train screen, following its files while it trains."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the list of runs"),
        *RunKeys.ACTION_BINDINGS,
        *CHART_BINDINGS,
        LAYERS_BINDING,
    ]
    COMMANDS_HELP = {
        "back": ("Run: back to the list", "The Runs screen's table (escape)"),
        **RunKeys.ACTION_HELP,
        **CHART_HELP,
        **LAYERS_HELP,
    }

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(classes="run-screen")
        self.run_path = str(run_dir)
        self.files = RunFiles(run_dir)
        self.run: RunSummary | None = None
        self._texts: dict[str, str] = {}
        self._files_key: tuple | None = None
        self._dirty = True  # read the files at the next look even if they look the same
        self._gone = False
        # the histograms of the metrics version they were read for (histograms.jsonl is
        # written with each epoch's metrics line, so a new epoch asks for them again)
        self._histograms: tuple[int, dict[int, dict[str, Histogram]]] | None = None
        self._reading: int | None = None  # the version being read

    def compose(self) -> ComposeResult:
        yield NavBar("runs")
        with Vertical(id="run-top"):
            yield Static("", id="run-title")
            yield Static("", id="run-status")
            with Horizontal(id="run-progress-row"):
                yield ProgressBar(total=1, show_eta=False, id="run-progress")
                yield Static("", id="run-rate")
        yield ChartPanel(
            id="run-charts", chart_ids=("run-loss-chart", "run-accuracy-chart"), shown="accuracy"
        )
        yield LayersView(id="run-layers", waiting="No epoch has ended yet: no layer figures.")
        yield Static("", id="run-info")
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        self.set_interval(FOLLOW_SECONDS, self._tick)
        self.follow()

    def _tick(self) -> None:
        if self.is_current:
            self.follow()

    @on(ScreenResume)
    def _resumed(self) -> None:
        if not closed_before_mounting(self):
            self.follow()

    # -- following the run's files ------------------------------------------------------

    def follow(self) -> None:
        """Read what changed in the run folder and redraw it."""
        if self._gone or not self.is_attached:
            return
        key = files_key(Path(self.run_path))
        before = self.run
        quiet = before is not None and not may_change_alone(before)
        if quiet and key == self._files_key and not self._dirty:
            return  # a finished, stopped or crashed run whose files did not change
        self._files_key, self._dirty = key, False
        run = read_summary(self.run_path)
        if run is None:
            self._gone = True
            self._put("#run-status", "this run folder is gone")
            return
        self.files.refresh()
        state_changed = before is None or (run.state, run.alive) != (before.state, before.alive)
        self.run = run
        progress = live_progress(runs_host(self.app).train, run)
        self._put("#run-title", run_title(run))
        self._put("#run-status", run_status_text(run, progress))
        self._put("#run-info", run_info_text(run))
        self._show_progress(run, progress)
        self.chart_panel.show(self.files.epochs, run.best_epoch, self.files.version)
        self._show_layers()
        if state_changed:
            self.refresh_bindings()

    def _put(self, selector: str, text: str | Text) -> None:
        """Update a line only when its text changed (this runs twice a second)."""
        if self._texts.get(selector) != str(text):
            self._texts[selector] = str(text)
            # names and messages as written: a str would be read as markup
            self.query_one(selector, Static).update(text if isinstance(text, Text) else Text(text))

    def _show_progress(self, run: RunSummary, progress: Progress | None) -> None:
        row = self.query_one("#run-progress-row")
        row.display = run.alive
        if not run.alive:
            return
        bar = self.query_one("#run-progress", ProgressBar)
        if progress is None:
            bar.update(total=1, progress=0)
            self._put("#run-rate", "starting" if run.state == "starting" else "")
            return
        bar.update(total=progress.batches, progress=progress.batch)
        left = format_duration(progress.eta_seconds)
        self._put("#run-rate", f"{progress.images_per_second:,.0f} img/s · {left} left")

    def _show_layers(self) -> None:
        """The Layers view, when shown, gets the run's epochs at once, with the histograms
        last read; they are read again (in a worker) whenever the epochs changed."""
        layers = self.query_one(LayersView)
        if not layers.display:
            return
        version = self.files.version
        read, histograms = self._histograms or (None, {})
        layers.show(self.files.epochs, (version, read), histograms)
        if read == version or self._reading == version:
            return
        self._reading = version
        self.run_worker(
            partial(self._read_histograms, version),
            thread=True,
            exclusive=True,
            group="run-histograms",
            exit_on_error=False,
        )

    def _read_histograms(self, version: int) -> None:
        """In a worker: the run's histograms.jsonl, handed back to the UI thread."""
        found = actions.histograms(self.run_path)
        self.app.call_from_thread(self._histograms_read, version, found)

    def _histograms_read(self, version: int, found: dict[int, dict[str, Histogram]]) -> None:
        if self.is_attached and version == self.files.version:
            self._histograms = (version, found)
            self._show_layers()

    # -- RunKeys ------------------------------------------------------------------------

    def target_run(self) -> RunSummary | None:
        return None if self._gone else self.run

    def runs_changed(self) -> None:
        self._dirty = True
        self.follow()

    def after_delete(self, run: RunSummary) -> None:
        self._gone = True
        self.app.pop_screen()

    # -- keys ---------------------------------------------------------------------------

    @property
    def chart_panel(self) -> ChartPanel:
        return self.query_one(ChartPanel)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.run_action_allowed(action, parameters)

    def action_toggle_layers(self) -> None:
        """The Layers view in the charts' place, or the charts again."""
        layers = self.query_one(LayersView)
        layers.display = not layers.display
        self.chart_panel.display = not layers.display
        self._show_layers()

    def action_back(self) -> None:
        self.app.pop_screen()
