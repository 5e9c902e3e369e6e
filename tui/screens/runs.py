"""The Runs screen (key 5): every run folder, one run's charts, runs compared, and actions.

Everything shown is read from the run folders that core writes (config.json, state.json,
metrics.jsonl, progress.json), so a run trained here, in another terminal or detached in
the background looks the same, and a live one is followed as its files grow. Files are
re-read only when their size or mtime changed (see runs_cache.py).

Actions on the highlighted run: resume a stopped or crashed run (here in the app's
training worker, or in the background), use its best or final weights as the current
model, export its metrics as CSV, stop it (a live run) and delete it (asking first).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from cnn_tui.core.resume import Resume, ResumePlan, ResumeRefused
from cnn_tui.core.runs import BEST, LAST, WEIGHTS, RunError, RunSummary, read_progress
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.runs_cache import (
    RunFiles,
    RunsCache,
    accuracy_pair,
    files_key,
    short_dataset,
)
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.state import CurrentModel, format_duration
from cnn_tui.tui.widgets.chart_view import ChartView
from cnn_tui.tui.widgets.compare_charts import RUN_COLOURS, RunSeries
from cnn_tui.tui.widgets.nav import NavBar
from cnn_tui.tui.widgets.run_table import RunTable
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.events import ScreenResume
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, ProgressBar, Static

REFRESH_SECONDS = 1.0  # the list looks at the runs folder this often
FOLLOW_SECONDS = 0.5  # an open run looks at its files this often
RUN_KEYS = Binding.Group("Run", compact=True)
CHART_KEYS = Binding.Group("Chart", compact=True)
RESUMABLE = ("stopped", "crashed", "failed", "unreadable")
CSV_NAME = "metrics.csv"


def runs_folder(app: Any) -> Path:
    """The runs folder the app trains into (--runs, else CNN_TUI_RUNS or the user's)."""
    from cnn_tui.core.paths import default_runs_dir

    given = getattr(app, "runs_dir", None)
    return Path(given).expanduser() if given else default_runs_dir()


def is_own_run(run: RunSummary) -> bool:
    """Trained by this process (the app's training worker) rather than another one."""
    return run.alive and run.pid == os.getpid()


def run_title(run: RunSummary) -> Text:
    return Text.assemble((run.model or "?", "bold"), f" · preset {run.preset or '-'} · {run.name}")


def run_status_text(run: RunSummary, progress: Any = None) -> str:
    """One line: state, who trains it, epoch k of N, best val accuracy, training time."""
    planned = run.epochs_planned if run.epochs_planned is not None else "?"
    if run.alive:
        who = "in this app" if is_own_run(run) else f"pid {run.pid}" if run.pid else ""
        parts = [f"{run.state} {who}".strip()]
        epoch = getattr(progress, "epoch", None)
        parts.append(f"epoch {epoch or run.epochs_done + 1} of {planned}")
    else:
        parts = [run.state, f"{run.epochs_done} of {planned} epochs"]
    if run.best_val_accuracy is not None:
        parts.append(f"best val {run.best_val_accuracy:.3f} (epoch {run.best_epoch})")
    if run.duration_seconds is not None:
        parts.append(f"time {format_duration(run.duration_seconds)}")
    if run.state in RESUMABLE and not run.alive:
        parts.append("r resumes")
    return " · ".join(parts)


def run_info_text(run: RunSummary) -> Text:
    """The run's data and folder, what went wrong if anything did, and the keys for it."""
    lines = [f"{run.dataset or 'data set unknown'} · {run.path}"]
    if run.message and run.state == "failed":  # a stop's message says only that
        lines.append(run.message)
    elif run.state == "crashed":
        lines.append("its trainer ended without saying so (killed, terminal closed, power cut)")
    lines.extend(run.warnings[:1])
    hint = keys_hint(run)
    return Text("\n".join(lines[:2] + ([f"keys: {hint}"] if hint else [])))


def compare_labels(runs: list[RunSummary]) -> list[str]:
    """Short, distinct labels: the model, then its preset, then the folder's suffix."""
    models = [run.model or "?" for run in runs]
    for labels in (
        models,
        [f"{model} {run.preset or '-'}" for model, run in zip(models, runs, strict=True)],
        [f"{model} {run.name.rsplit('-', 1)[-1]}" for model, run in zip(models, runs, strict=True)],
    ):
        if len(set(labels)) == len(labels):
            return labels
    return [f"{i + 1}:{label}" for i, label in enumerate(models)]


def keys_hint(run: RunSummary) -> str:
    """The keys that act on this run, in words (the footer groups them as 'Run')."""
    path = Path(run.path)
    keys = []
    if run.alive:
        keys.append("x stop")
    elif run.state in RESUMABLE:
        keys.append("r resume")
    final = (path / WEIGHTS).is_file() or (path / LAST).is_file()
    best = (path / BEST).is_file()
    if final and best:
        keys.append("w/b use final/best weights")
    elif final or best:
        keys.append(f"{'w' if final else 'b'} use {'final' if final else 'best'} weights")
    if run.epochs_done:
        keys.append("e export CSV")
    if not run.alive:
        keys.append("d delete")
    return " · ".join(keys)


def live_progress(app: Any, run: RunSummary) -> Any:
    """Where the live run is within its epoch: the app's own events, else progress.json."""
    if not run.alive:
        return None
    if is_own_run(run):
        progress = app.train.progress
        started = app.train.started
        if progress is not None and started is not None and Path(started.run_dir) == Path(run.path):
            return progress
        return None
    progress = read_progress(run.path)
    if progress is None or progress.epoch != run.epochs_done + 1 or progress.batches <= 0:
        return None
    return progress


# ---------------------------------------------------------------------------------------
# Actions on a run, shared by the list and the run's own screen


class ResumeScreen(ModalScreen[str | None]):
    """Where to resume a run: here (the app's training worker) or in the background.

    When a plain resume is refused (no last.pt, other data), the dialog offers the choice
    that allows it (from best.pt, on the other data) and says what it costs; its buttons
    name that choice, so picking one is explicit.
    """

    BINDINGS = [
        Binding("h", "answer('here')", "Here", show=False),
        Binding("b", "answer('background')", "Background", show=False),
        Binding("escape", "answer(None)", "Cancel"),
    ]

    def __init__(
        self,
        run: RunSummary,
        here: str | None,
        plan: ResumePlan | None = None,
        refusals: list[ResumeRefused] | None = None,
    ) -> None:
        """here: None when the app can train it, else why it cannot (the button is off).
        plan: what the resume will do; refusals: what a plain resume would have met."""
        super().__init__()
        self.run = run
        self.why_not_here = here
        self.plan = plan
        self.refusals = refusals or []

    def question(self) -> str:
        run = self.run
        plan = self.plan
        planned = plan.config.epochs if plan else run.epochs_planned or "?"
        name = f"{run.model or 'the run'} ({run.name})"
        from_best = plan is not None and plan.request.from_best
        if from_best and plan is not None:
            cut = plan.describe_cut()
            lines = [
                f"{name} cannot resume from its last checkpoint: "
                + "; ".join(r.reason for r in self.refusals if r.fix == "from_best")
                + ".",
                f"Continue from best.pt (epoch {plan.best_epoch}) to epoch {planned} instead?"
                + (f" That {cut}." if cut else ""),
            ]
        else:
            lines = [
                f"Resume {name} after epoch {run.epochs_done} of {planned}, "
                "from its last checkpoint?"
            ]
        lines += [f"Other data: {r.reason}." for r in self.refusals if r.fix == "other_data"]
        lines.append(
            "Here: in this app, as the Train screen's run. In the background: a process of "
            "its own that goes on when the app quits."
        )
        if self.why_not_here:
            lines.append(f"(Not here: {self.why_not_here}.)")
        return "\n".join(lines)

    def compose(self) -> ComposeResult:
        choices = []
        if self.plan is not None and self.plan.request.from_best:
            choices.append("from best.pt")
        if self.plan is not None and self.plan.request.other_data:
            choices.append("on other data")
        how = f" {', '.join(choices)}" if choices else ""
        with Vertical(id="confirm-dialog", classes="resume-dialog"):
            yield Static(Text(self.question()), id="confirm-question")  # run names: no markup
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    f"Here{how} (h)",
                    variant="warning" if choices else "primary",
                    id="here",
                    compact=True,
                    disabled=bool(self.why_not_here),
                )
                yield Button(
                    f"In the background{how} (b)",
                    variant="warning" if choices else "primary",
                    id="background",
                    compact=True,
                )
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        # (none if the dialog was dismissed before it mounted)
        for button in self.query("#background" if self.why_not_here else "#here").results(Button):
            button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)

    def action_answer(self, answer: str | None) -> None:
        if answer == "here" and self.why_not_here:
            self.notify(f"Not here: {self.why_not_here}.", severity="warning")
            return
        self.dismiss(answer)


class RunActions:
    """Keys that act on one run; the screen says which run (target_run) and redraws."""

    ACTION_BINDINGS = [
        Binding("r", "resume", "Resume", group=RUN_KEYS, tooltip="Resume a stopped or crashed run"),
        Binding("x", "stop", "Stop", group=RUN_KEYS, tooltip="Stop the live run (checkpoint kept)"),
        Binding(
            "w", "use_weights('final')", "Final", group=RUN_KEYS, tooltip="Use its final weights"
        ),
        Binding("b", "use_weights('best')", "Best", group=RUN_KEYS, tooltip="Use its best weights"),
        Binding("e", "export", "CSV", group=RUN_KEYS, tooltip="Export its metrics as CSV"),
        Binding("d", "delete", "Delete", group=RUN_KEYS, tooltip="Delete the run (asks first)"),
    ]
    ACTION_HELP = {
        "resume": ("Run: resume", "Resume a stopped or crashed run, here or in the background (r)"),
        "stop": ("Run: stop", "Stop the live run; it keeps its last checkpoint (x)"),
        "use_weights('final')": ("Run: use its final weights", "As the current model (w)"),
        "use_weights('best')": (
            "Run: use its best weights",
            "The best val accuracy's epoch, as the current model (b)",
        ),
        "export": ("Run: export metrics as CSV", f"Writes {CSV_NAME} in the run folder (e)"),
        "delete": ("Run: delete", "Delete the run folder, asking first (d)"),
    }

    # what the screen provides

    def target_run(self) -> RunSummary | None:
        raise NotImplementedError

    def runs_changed(self) -> None:
        """Something was done to a run: look at the files again now."""

    # which actions apply

    def run_action_allowed(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """True, or None (shown but off) when it does not apply to this run."""
        run = self.target_run()
        if run is None:
            return None
        path = Path(run.path)
        if action == "resume":
            ok = run.state in RESUMABLE and not run.alive
        elif action == "stop":
            ok = run.alive
        elif action.startswith("use_weights"):  # the palette passes "use_weights('best')"
            which = parameters[0] if parameters else ("best" if "best" in action else "final")
            names = (BEST,) if which == "best" else (WEIGHTS, LAST)
            ok = any((path / name).is_file() for name in names)
        elif action == "export":
            ok = run.epochs_done > 0
        elif action == "delete":
            ok = not run.alive
        else:
            return True
        return True if ok else None

    # the actions

    def action_resume(self) -> None:
        run = self.target_run()
        if run is None or not self.run_action_allowed("resume", ()):
            return
        from cnn_tui.core.config import ConfigError
        from cnn_tui.core.resume import Resume, plan_with_choices

        app = self.app  # type: ignore[attr-defined]
        try:  # the checks the CLI makes, by the same core function
            plan, refusals = plan_with_choices(Resume(Path(run.path), run.epochs_planned))
        except (RunError, ConfigError, OSError) as error:
            app.notify(str(error), title="Cannot resume", severity="error")
            return
        why = None
        if app.train.active:
            why = "the app is training another run"
        elif app.engine_state != "ready":
            why = "the engine is still loading" if app.engine_state == "loading" else "no engine"
        app.push_screen(
            ResumeScreen(run, why, plan, refusals), partial(self._resume_answered, run, plan)
        )

    def _resume_answered(self, run: RunSummary, plan: ResumePlan, where: str | None) -> None:
        if where is None:
            return
        app = self.app  # type: ignore[attr-defined]
        if where == "here":
            if app.start_training(plan.config, resume=plan.request):
                after = plan.best_epoch if plan.request.from_best else run.epochs_done
                app.notify(
                    f"Resuming {run.name} in the app after epoch {after}; "
                    "the Train screen (1) shows it too.",
                    title="Resumed",
                )
            self.runs_changed()
            return
        start_background_run(app, plan.config, resume=plan.request, open_it=False)

    def action_stop(self) -> None:
        run = self.target_run()
        if run is None or not run.alive:
            return
        where = "in this app" if is_own_run(run) else f"pid {run.pid}"
        self.app.push_screen(  # type: ignore[attr-defined]
            ConfirmScreen(
                f"Stop run {run.name} ({where})? It finishes its batch, keeps its last "
                "checkpoint and can be resumed (r).",
                yes="Stop it",
                no="Keep training",
            ),
            partial(self._stop_answered, run),
        )

    def _stop_answered(self, run: RunSummary, yes: bool | None) -> None:
        if not yes:
            return
        app = self.app  # type: ignore[attr-defined]
        started = app.train.started
        if (
            is_own_run(run)
            and app.train.active
            and (started is None or Path(started.run_dir) == Path(run.path))
        ):  # the app's training worker (not a background run the app is launching)
            app.stop_training()
            app.notify(f"Stopping {run.name} after this batch; its checkpoint is kept.")
        else:
            from cnn_tui.core.runs import stop_run

            try:
                pid = stop_run(run.path)
            except RunError as error:
                app.notify(str(error), title="Not stopped", severity="error")
                return
            app.notify(
                f"Asked run {run.name} (pid {pid}) to stop; it keeps its last checkpoint.",
                title="Stopping",
            )
        self.runs_changed()

    def action_use_weights(self, which: str = "final") -> None:
        run = self.target_run()
        if run is None:
            return
        path = Path(run.path)
        if which == "best":
            file = path / BEST
        else:
            file = path / WEIGHTS if (path / WEIGHTS).is_file() else path / LAST
        if not file.is_file():
            self.app.notify(  # type: ignore[attr-defined]
                f"{run.name} has no {'best' if which == 'best' else 'final'} weights yet",
                severity="warning",
            )
            return
        self.app.notify(f"Loading {file.name} of {run.name}...")  # type: ignore[attr-defined]
        self.run_worker(  # type: ignore[attr-defined]
            partial(self._load_weights_job, file, which),
            thread=True,
            group="run-weights",
            exclusive=True,
            exit_on_error=False,
        )

    def _load_weights_job(self, file: Path, which: str) -> None:
        from cnn_tui.core.model_files import load_weights_file
        from cnn_tui.core.weights import WeightsError

        app = self.app  # type: ignore[attr-defined]
        try:
            _, meta = load_weights_file(file)
        except WeightsError as error:
            reason = str(error)
        except Exception as error:  # one line, never a traceback
            reason = f"{file}: {type(error).__name__}: {error}"
        else:
            app.call_from_thread(self._weights_loaded, file, meta, which)
            return
        app.call_from_thread(
            app.notify, reason + "; the current weights are unchanged", severity="error"
        )

    def _weights_loaded(self, file: Path, meta: dict[str, Any], which: str) -> None:
        app = self.app  # type: ignore[attr-defined]
        app.set_current_model(CurrentModel(file, meta, "run"))
        what = "best" if which == "best" else "final"
        app.notify(
            f"{meta.get('model', '?')} with the {what} weights of {file.parent.name} "
            f"({file.name}) is now the current model.",
            title="Current model",
        )

    def action_export(self) -> None:
        from cnn_tui.core.runs import export_metrics_csv

        run = self.target_run()
        if run is None:
            return
        app = self.app  # type: ignore[attr-defined]
        try:
            written = export_metrics_csv(run.path, Path(run.path) / CSV_NAME)
        except RunError as error:
            app.notify(str(error), title="Not exported", severity="error")
            return
        app.notify(f"{run.epochs_done} epochs written to {written}", title="Metrics exported")

    def action_delete(self) -> None:
        run = self.target_run()
        if run is None or run.alive:
            return
        app = self.app  # type: ignore[attr-defined]
        question = (
            f"Delete run {run.name} ({run.model}, {run.epochs_done} epochs, {run.state})? "
            "Its checkpoints, weights and metrics go; this cannot be undone."
        )
        current = app.current_model
        if current is not None and Path(current.path).parent == Path(run.path):
            question += " Its weights are the current model: other screens will not find them."
        app.push_screen(
            ConfirmScreen(question, yes="Delete", no="Keep it"), partial(self._delete_answered, run)
        )

    def _delete_answered(self, run: RunSummary, yes: bool | None) -> None:
        if not yes:
            return
        from cnn_tui.core.runs import delete_run

        app = self.app  # type: ignore[attr-defined]
        try:
            delete_run(run.path)
        except RunError as error:
            app.notify(str(error), title="Not deleted", severity="error")
            return
        app.notify(f"Deleted {run.path}", title="Run deleted")
        self.after_delete(run)

    def after_delete(self, run: RunSummary) -> None:
        self.runs_changed()


def start_background_run(
    app: Any, config: Any, resume: str | Path | Resume | None = None, open_it: bool = True
) -> None:
    """Start (or resume) a run in a process of its own (core.detach); open it when started.

    The launch runs in a thread worker (it checks the data folder and takes the run's lock,
    which may wait a second); a refusal is one line in a notification.
    """

    def job() -> None:
        from cnn_tui.core.config import ConfigError
        from cnn_tui.core.data import DataError
        from cnn_tui.core.detach import start_detached

        try:
            run_dir, pid = start_detached(config, app.runs_dir, resume=resume)
        except (ConfigError, DataError, RunError, OSError) as error:
            app.call_from_thread(
                app.notify, str(error), title="Not started in the background", severity="error"
            )
            return
        app.call_from_thread(_background_started, app, run_dir, pid, resume, open_it)

    app.run_worker(job, thread=True, group="detach", name="detach", exit_on_error=False)


def _background_started(app: Any, run_dir: Path, pid: int, resume: Any, open_it: bool) -> None:
    what = "Resumed" if resume else "Training"
    app.notify(
        f"{what} in the background (pid {pid}); it goes on when the app quits. "
        f"Run folder: {run_dir}",
        title="Background run",
    )
    for screen in app.screen_stack:
        if isinstance(screen, RunsScreen):
            screen.poll()
    if open_it:
        app.run_worker(open_run(app, run_dir), group="open-run", exclusive=True)


async def open_run(app: Any, run_dir: Path) -> None:
    """Show the Runs screen with this run opened (its charts follow its files)."""
    if app.current_mode != "runs":
        await app.switch_mode("runs")
    top = app.screen
    if isinstance(top, RunScreen) and Path(top.run_path) == Path(run_dir):
        return
    await app.push_screen(RunScreen(run_dir))


# ---------------------------------------------------------------------------------------
# The list


class RunsScreen(ReportsWorkerErrors, RunActions, Screen):
    """Every run in the runs folder; open one, mark several to compare, act on one."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("space", "mark", "Mark", key_display="␣", tooltip="Mark or unmark for comparing"),
        Binding("c", "compare", "Compare", tooltip="Compare the marked runs"),
        *RunActions.ACTION_BINDINGS,
        Binding("a", "mark_all", "Mark all", show=False),
    ]
    COMMANDS_HELP = {
        "open": ("Runs: open", "The highlighted run's charts, live while it trains (enter)"),
        "mark": ("Runs: mark for comparing", "Mark or unmark the highlighted run (space)"),
        "mark_all": ("Runs: mark all or none", "Mark every run, or clear the marks (a)"),
        "compare": (
            "Runs: compare",
            "Val accuracy curves and train/val bars of the marked runs (c)",
        ),
        **RunActions.ACTION_HELP,
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
        from cnn_tui.tui.widgets.charts import MetricChart

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
        self.cache = RunsCache(runs_folder(self.app))
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
            self._show_detail()
            self.refresh_bindings()
        self._show_preview()

    def _show_head(self) -> None:
        assert self.cache is not None
        runs = self.cache.runs
        live = sum(run.alive for run in runs)
        text = f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {self.cache.runs_dir}"
        if live:
            text += f" · {live} live"
        if len(self.marked) >= 2:
            text += f" · {len(self.marked)} marked: c compares them"
        elif len(runs) >= 2:
            text += f" · {len(self.marked)} marked: space marks runs to compare"
        self.query_one("#runs-head", Static).update(Text(text))  # a folder's name: no markup

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
        text = Text.assemble((run.state, "bold"), f" · {short_dataset(run.dataset)} · {run.path}")
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
        charts = list(self.query("#runs-preview > *"))
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

    # -- RunActions ---------------------------------------------------------------------

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
        if action in ("mark", "open"):
            return True if self.target_run() is not None else None
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
        every = {run.path for run in self.cache.runs}
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


# ---------------------------------------------------------------------------------------
# One run


class RunScreen(ReportsWorkerErrors, RunActions, Screen):
    """One run's charts as on the Train screen, following its files while it trains."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the list of runs"),
        *RunActions.ACTION_BINDINGS,
        Binding("m", "toggle_smooth", "Smooth", group=CHART_KEYS, tooltip="Smoothing (EMA)"),
        Binding("l", "toggle_log", "Log", group=CHART_KEYS, tooltip="Log scale for the loss"),
        Binding("t", "toggle_time", "Time", group=CHART_KEYS, tooltip="x-axis: epoch or time"),
        Binding("c", "next_chart", "Which", group=CHART_KEYS, tooltip="Loss or accuracy chart"),
    ]
    COMMANDS_HELP = {
        "back": ("Run: back to the list", "The Runs screen's table (escape)"),
        **RunActions.ACTION_HELP,
        "toggle_smooth": ("Chart: smoothing", "Exponential moving average on or off (m)"),
        "toggle_log": ("Chart: log scale for the loss", "Log or linear loss axis (l)"),
        "toggle_time": ("Chart: x-axis by epoch or time", "Epochs or training time (t)"),
        "next_chart": ("Chart: loss or accuracy", "Which chart a small terminal shows (c)"),
    }

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(classes="run-screen")
        self.run_path = str(run_dir)
        self.files = RunFiles(run_dir)
        self.run: RunSummary | None = None
        self.view = ChartView()
        self._drawn: tuple | None = None
        self._texts: dict[str, str] = {}
        self._files_key: tuple | None = None
        self._dirty = True  # read the files at the next look even if they look the same
        self._gone = False

    def compose(self) -> ComposeResult:
        from cnn_tui.tui.widgets.charts import MetricChart

        yield NavBar("runs")
        with Vertical(id="run-top"):
            yield Static("", id="run-title")
            yield Static("", id="run-status")
            with Horizontal(id="run-progress-row"):
                yield ProgressBar(total=1, show_eta=False, id="run-progress")
                yield Static("", id="run-rate")
        with Container(id="run-charts", classes="-show-accuracy"):
            yield MetricChart("loss", id="run-loss-chart")
            yield MetricChart("accuracy", id="run-accuracy-chart")
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
        from cnn_tui.core.runs import LIVE_STATES, run_summary

        key = files_key(Path(self.run_path))
        before = self.run
        quiet = before is not None and not before.alive and before.state not in LIVE_STATES
        if quiet and key == self._files_key and not self._dirty:
            return  # a finished, stopped or crashed run whose files did not change
        self._files_key, self._dirty = key, False
        try:
            run = run_summary(self.run_path)
        except RunError:
            self._gone = True
            self._put("#run-status", "this run folder is gone")
            return
        changed = self.files.refresh()
        state_changed = before is None or (run.state, run.alive) != (before.state, before.alive)
        self.run = run
        progress = live_progress(self.app, run)
        self._put("#run-title", run_title(run))
        self._put("#run-status", run_status_text(run, progress))
        self._put("#run-info", run_info_text(run))
        self._show_progress(run, progress)
        key = (self.files.version, self.view, run.best_epoch)
        if changed or key != self._drawn:
            self._drawn = key
            for chart in self.query("#run-charts > *"):
                chart.show(self.files.epochs, self.view, run.best_epoch)
        if state_changed:
            self.refresh_bindings()

    def _put(self, selector: str, text: str | Text) -> None:
        """Update a line only when its text changed (this runs twice a second)."""
        if self._texts.get(selector) != str(text):
            self._texts[selector] = str(text)
            # names and messages as written: a str would be read as markup
            self.query_one(selector, Static).update(text if isinstance(text, Text) else Text(text))

    def _show_progress(self, run: RunSummary, progress: Any) -> None:
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

    # -- RunActions ---------------------------------------------------------------------

    def target_run(self) -> RunSummary | None:
        return None if self._gone else self.run

    def runs_changed(self) -> None:
        self._dirty = True
        self.follow()

    def after_delete(self, run: RunSummary) -> None:
        self._gone = True
        self.app.pop_screen()

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.run_action_allowed(action, parameters)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_smooth(self) -> None:
        self._set_view(ChartView(not self.view.smooth, self.view.log_loss, self.view.by_time))

    def action_toggle_log(self) -> None:
        self._set_view(ChartView(self.view.smooth, not self.view.log_loss, self.view.by_time))

    def action_toggle_time(self) -> None:
        self._set_view(ChartView(self.view.smooth, self.view.log_loss, not self.view.by_time))

    def _set_view(self, view: ChartView) -> None:
        self.view = view
        self._dirty = True
        self.follow()

    def action_next_chart(self) -> None:
        charts = self.query_one("#run-charts")
        loss = charts.has_class("-show-loss")
        charts.set_class(not loss, "-show-loss")
        charts.set_class(loss, "-show-accuracy")
        if not (self.has_class("-narrow") and self.has_class("-short")):
            self.notify("Both charts are shown at this size; c picks one on small terminals.")


# ---------------------------------------------------------------------------------------
# Runs compared


COMPARE_COLUMNS = (
    ("label", "run"),
    ("preset", "preset"),
    ("epochs", "epochs"),
    ("train", "train"),
    ("val", "val"),
    ("best", "best val"),
    ("state", "state"),
)


class CompareScreen(ReportsWorkerErrors, Screen):
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
        from cnn_tui.tui.widgets.compare_charts import AccuracyBars, ValCurvesChart

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
        from cnn_tui.core.runs import run_summary

        summaries, files = [], []
        for run_files in self.files:
            try:
                summaries.append(run_summary(run_files.run_dir))
            except RunError:
                continue  # deleted meanwhile
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
        self.query_one("#compare-curves").show(series)
        self.query_one("#compare-bars").show(series)

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
