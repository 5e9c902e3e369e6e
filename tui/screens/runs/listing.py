"""The list of runs: every run folder in the runs folder, newest first, the highlighted
one's charts under the table on a tall terminal; sort it, filter it, name a run, open one,
mark several to compare, act on one with the run keys."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import cnn_tui.tui.session.run_actions as actions
from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.runs_cache import RunFiles, RunsCache, short_dataset
from cnn_tui.tui.screens.mounting import SkipsStaleResizes, closed_before_mounting
from cnn_tui.tui.screens.runs.app_state import runs_host
from cnn_tui.tui.screens.runs.compare import CompareScreen
from cnn_tui.tui.screens.runs.describe import keys_hint
from cnn_tui.tui.screens.runs.keys import RunKeys
from cnn_tui.tui.screens.runs.rename_dialog import RenameScreen
from cnn_tui.tui.screens.runs.run import RunScreen
from cnn_tui.tui.session.background import RunStarted
from cnn_tui.tui.session.run_actions import runs_folder
from cnn_tui.tui.widgets.chart_view import ChartView
from cnn_tui.tui.widgets.charts import MetricChart
from cnn_tui.tui.widgets.nav import NavBar
from cnn_tui.tui.widgets.run_columns import shared_settings
from cnn_tui.tui.widgets.run_table import RunTable
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.events import ScreenResume
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

REFRESH_SECONDS = 1.0  # the list looks at the runs folder this often


class RunsScreen(ReportsWorkerErrors, RunKeys, SkipsStaleResizes, Screen):
    """Every run in the runs folder; open one, mark several to compare, act on one."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("space", "mark", "Mark", key_display="␣", tooltip="Mark or unmark for comparing"),
        Binding("c", "compare", "Compare", tooltip="Compare the marked runs"),
        Binding(  # priority, as / below: a name typed in the same burst reaches the dialog
            "n",
            "rename",
            "Name",
            tooltip="Name or rename the run (kept in config.json)",
            priority=True,
        ),
        # priority: handled as it arrives, before the keys behind it are passed on, so the
        # rest of a burst (`/bird` in one read over SSH) goes to the filter it opens, not
        # to the table; in the filter it stays a character (check_action)
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            tooltip="Narrow to runs with words",
            priority=True,
        ),
        Binding("s", "sort", "Sort", tooltip="Sort by the next column (or click a header)"),
        *RunKeys.ACTION_BINDINGS,
        Binding("a", "mark_all", "Mark all", show=False),
        Binding("S", "reverse_sort", "Reverse sort", show=False, tooltip="Reverse the order"),
        Binding("escape", "clear_filter", "Clear filter", show=False, tooltip="Show every run"),
    ]
    COMMANDS_HELP = {
        "open": ("Runs: open", "The highlighted run's charts, live while it trains (enter)"),
        "mark": ("Runs: mark for comparing", "Mark or unmark the highlighted run (space)"),
        "mark_all": ("Runs: mark all or none", "Mark every run, or clear the marks (a)"),
        "compare": (
            "Runs: compare",
            "Val accuracy and loss curves and train/val bars of the marked runs (c)",
        ),
        "rename": ("Runs: name the run", "Name or rename the highlighted run (n)"),
        "filter": ("Runs: filter", "Show only the runs whose row has the words typed (/)"),
        "sort": ("Runs: sort by the next column", "Or click a column's header (s)"),
        "reverse_sort": ("Runs: reverse the sort", "Ascending or descending (S)"),
        "clear_filter": ("Runs: clear the filter", "Show every run again (escape)"),
        **RunKeys.ACTION_HELP,
    }

    def __init__(self) -> None:
        super().__init__(id="runs-screen")
        self.cache: RunsCache | None = None
        self.marked: set[str] = set()
        self.preview = RunFiles(".")
        self._drawn_version = -1
        self._drawn_wide: bool | None = None
        self._preview_drawn: tuple | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("runs")
        yield Static("", id="runs-head")
        yield Static("", id="runs-shared")
        yield Input(
            placeholder="filter: words in any column · enter keeps it · escape clears",
            id="runs-filter",
            compact=True,
        )
        with Vertical(id="runs-body"):
            yield RunTable(id="runs-table")
            with Container(id="runs-preview"):
                yield MetricChart("accuracy", id="preview-accuracy")
                yield MetricChart("loss", id="preview-loss")
        yield Static("", id="runs-detail")
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        self.cache = RunsCache(runs_folder(runs_host(self.app).runs_dir))
        self.set_interval(REFRESH_SECONDS, self._tick)
        self.poll()

    def _tick(self) -> None:
        if self.is_current:  # not while a run or a comparison is open over it
            self.poll()

    @on(ScreenResume)
    def _resumed(self) -> None:
        if closed_before_mounting(self):
            return
        self.poll()
        self.query_one(RunTable).focus()

    def on_resize(self) -> None:
        # The -wide class follows the width on resize, which may come after on_mount:
        # redraw the table for it now rather than at the next tick.
        self.call_after_refresh(self.poll)

    # -- what is shown ------------------------------------------------------------------

    def poll(self) -> None:
        """Look at the runs folder (cheap when nothing changed) and redraw what did."""
        if self.cache is None or not self.is_attached:
            return
        self.cache.refresh()
        wide = self.has_class("-wide")
        if self.cache.version != self._drawn_version or wide != self._drawn_wide:
            self._drawn_version = self.cache.version
            self._drawn_wide = wide
            self.marked &= {run.path for run in self.cache.runs}
            self.query_one(RunTable).show(self.cache.runs, self.marked, wide)
            self._show_head()
            self._show_shared()
            self._show_detail()
            self.refresh_bindings()
        self._show_preview()

    def _show_head(self) -> None:
        assert self.cache is not None
        runs = self.cache.runs
        live = sum(run.alive for run in runs)
        text = f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {self.cache.runs_dir}"
        table = self.query_one(RunTable)
        if table.filter_text.strip():
            text += f" · {table.row_count} shown (/: {table.filter_text.strip()})"
        if live:
            text += f" · {live} live"
        if len(self.marked) >= 2:
            text += f" · {len(self.marked)} marked: c compares them"
        elif len(runs) >= 2:
            text += f" · {len(self.marked)} marked: space marks runs to compare"
        self.query_one("#runs-head", Static).update(Text(text))  # a folder's name: no markup

    def _show_shared(self) -> None:
        """The settings every run shares, said once (those that differ are columns)."""
        assert self.cache is not None
        runs = self.cache.runs
        words = shared_settings(runs)
        label = "every run: " if len(runs) > 1 else "settings: "
        self.query_one("#runs-shared", Static).update(Text(label + words if words else ""))

    def _show_detail(self) -> None:
        run = self.target_run()
        detail = self.query_one("#runs-detail", Static)
        if run is None:
            folder = self.cache.runs_dir if self.cache else "the runs folder"
            detail.update(
                Text(
                    f"No runs in {folder} yet. Train on the Train screen (1: s, or b for the "
                    "background), or run: cnn-tui train --detach"
                )
            )
            return
        title = f" · {run.title}" if run.title else ""
        text = Text.assemble(
            (run.state, "bold"), title, f" · {short_dataset(run.dataset)} · {run.path}"
        )
        if run.message and run.state == "failed":
            text.append(f"\n{run.message}")
        hint = keys_hint(run)
        if hint:
            text.append(f"\nkeys: {hint}")
        detail.update(text)

    def _show_preview(self) -> None:
        """Tall terminals show the highlighted run's charts under the table."""
        if not self.has_class("-tall"):
            return
        charts = list(self.query("#runs-preview > *").results(MetricChart))
        if not charts:
            return
        run = self.target_run()
        if run is None:
            self.preview = RunFiles(".")
            key: tuple = (None,)
        else:
            if self.preview.run_dir != Path(run.path):
                self.preview = RunFiles(run.path)
            self.preview.refresh()
            key = (run.path, self.preview.version, run.best_epoch)
        if key == self._preview_drawn:
            return
        self._preview_drawn = key
        best = run.best_epoch if run is not None else None
        for chart in charts:
            chart.show(self.preview.epochs if run is not None else [], ChartView(), best)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        self._show_preview()
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    @on(RunStarted)
    def _run_started(self, event: RunStarted) -> None:
        """A run started in the background: list it now, and open it if asked."""
        self.poll()
        if not event.open_it:
            return
        top = self.app.screen
        if not (isinstance(top, RunScreen) and Path(top.run_path) == event.run_dir):
            self.app.push_screen(RunScreen(event.run_dir))

    # -- RunKeys ------------------------------------------------------------------------

    def target_run(self) -> RunSummary | None:
        if self.cache is None:
            return None
        path = self.query_one(RunTable).current_path
        return self.cache.get(path) if path else None

    def runs_changed(self) -> None:
        self.poll()

    def after_delete(self, run: RunSummary) -> None:
        self.marked.discard(run.path)
        self.poll()

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rename" and isinstance(self.focused, Input):
            return False  # a priority key: in the filter, n is a letter
        if action in ("mark", "open", "rename"):
            return True if self.target_run() is not None else None
        if action in ("sort", "reverse_sort"):
            return True if self.query_one(RunTable).row_count > 1 else None
        if action == "clear_filter":
            return self._filter_open()
        if action == "filter":  # a priority key: in a field, / is the field's character
            return not isinstance(self.focused, Input)
        if action == "compare":
            return True if len(self.marked) >= 2 else None
        return self.run_action_allowed(action, parameters)

    def action_open(self) -> None:
        run = self.target_run()
        if run is not None:
            self.app.push_screen(RunScreen(run.path))

    def action_mark(self) -> None:
        table = self.query_one(RunTable)
        path = table.current_path
        if path is None:
            return
        self.marked.symmetric_difference_update({path})
        self._redraw_marks()
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def action_mark_all(self) -> None:
        if self.cache is None:
            return
        every = set(self.query_one(RunTable).paths)  # the runs the filter shows
        self.marked = set() if self.marked >= every else every
        self._redraw_marks()

    def _redraw_marks(self) -> None:
        assert self.cache is not None
        self.query_one(RunTable).show(self.cache.runs, self.marked, self.has_class("-wide"))
        self._show_head()
        self.refresh_bindings()

    def action_compare(self) -> None:
        if self.cache is None:
            return
        runs = [run for run in self.cache.runs if run.path in self.marked]
        if len(runs) < 2:
            self.notify("Mark two runs or more with space (a marks all), then press c.")
            return
        self.app.push_screen(CompareScreen([run.path for run in runs]))

    # -- naming, sorting, filtering ------------------------------------------------------

    def action_rename(self) -> None:
        run = self.target_run()
        if run is not None:
            self.app.push_screen(RenameScreen(run), partial(self._renamed, run))

    def _renamed(self, run: RunSummary, name: str | None) -> None:
        if name is None:
            return
        try:
            stored = actions.rename(run, name)
        except actions.ActionRefused as error:
            self.notify(str(error), title="Not renamed", severity="error")
            return
        said = f"is now named {stored}" if stored else "has no name now"
        self.notify(f"{run.name} {said}", title="Run named")
        self.poll()

    def action_sort(self) -> None:
        self.query_one(RunTable).next_sort()

    def action_reverse_sort(self) -> None:
        self.query_one(RunTable).reverse_sort()

    def action_filter(self) -> None:
        field = self.query_one("#runs-filter", Input)
        field.add_class("-open")
        # Shown and focused now, not after the next refresh: a letter typed right after
        # `/` went to the table (seen in CI: `/ADAM` filtered by "DAM").
        field.display = True
        self.set_focus(field)  # at once: Widget.focus waits its turn behind keys in the queue

    def action_clear_filter(self) -> None:
        field = self.query_one("#runs-filter", Input)
        field.value = ""  # Input.Changed clears the table's filter
        field.remove_class("-open")
        field.display = False
        self.query_one(RunTable).focus()

    def _filter_open(self) -> bool:
        return self.query_one("#runs-filter", Input).has_class("-open")

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(RunTable).set_filter(event.value)
        self._show_head()
        self._show_detail()
        self.refresh_bindings()

    @on(Input.Submitted, "#runs-filter")
    def _filter_kept(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-open")
            event.input.display = False
        self.query_one(RunTable).focus()
