"""The keys that act on one run (resume, stop, use its weights, export, delete), shared by
the list of runs and one run's screen.

RunKeys is mixed into a screen that says which run the keys act on and redraws after
them: what it needs of that screen is declared as the RunKeysHost protocol, and each
action takes its screen as that (no attribute it does not declare). What is asked of the
engine goes through the session (tui/session/run_actions.py); here are the questions,
the notifications and the app's own training worker.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import cnn_tui.tui.session.run_actions as actions
from cnn_tui.core.resume import ResumePlan
from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.runs.app_state import runs_host
from cnn_tui.tui.screens.runs.describe import RESUMABLE, is_own_run
from cnn_tui.tui.screens.runs.resume_dialog import ResumeScreen
from cnn_tui.tui.session.background import start_background_run
from cnn_tui.tui.session.run_actions import CSV_NAME, ActionRefused, Which
from cnn_tui.tui.state import CurrentModel
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker

RUN_KEYS = Binding.Group("Run", compact=True)


class RunKeysHost(Protocol):
    """What a screen with the run keys provides: its app, the run the keys act on (the
    highlighted or the open one), and what to redraw after an action."""

    @property
    def app(self) -> App[object]: ...

    def target_run(self) -> RunSummary | None: ...

    def runs_changed(self) -> None:
        """Something was done to a run: look at the files again now."""

    def after_delete(self, run: RunSummary) -> None:
        """The run's folder is gone."""

    def run_worker(
        self,
        work: Callable[[], None],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[None]: ...


class RunKeys:
    """The run keys' bindings, palette entries, availability and actions."""

    ACTION_BINDINGS = [
        Binding("r", "resume", "Resume", group=RUN_KEYS, tooltip="Resume a stopped or crashed run"),
        Binding("x", "stop", "Stop", group=RUN_KEYS, tooltip="Stop the live run (checkpoint kept)"),
        Binding(
            "w", "use_weights('final')", "Final", group=RUN_KEYS, tooltip="Use its final weights"
        ),
        Binding("b", "use_weights('best')", "Best", group=RUN_KEYS, tooltip="Use its best weights"),
        Binding("e", "export", "CSV", group=RUN_KEYS, tooltip="Export its metrics as CSV"),
        Binding(
            "d", "delete", "Delete", group=RUN_KEYS, tooltip="Delete the run (asks first; not live)"
        ),
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
        "delete": ("Run: delete", "Delete the run folder, asking first; not a live run (d)"),
    }

    def run_action_allowed(
        self: RunKeysHost, action: str, parameters: tuple[object, ...]
    ) -> bool | None:
        """True, or None (shown but off) when it does not apply to this run."""
        return action_allowed(self.target_run(), action, parameters)

    def action_resume(self: RunKeysHost) -> None:
        run = self.target_run()
        if run is None or not action_allowed(run, "resume", ()):
            return
        app, state = self.app, runs_host(self.app)
        try:
            plan, refusals = actions.resume_choices(run)
        except ActionRefused as error:
            app.notify(str(error), title="Cannot resume", severity="error")
            return
        why = None
        if state.train.active:
            why = "the app is training another run"
        elif state.engine_state != "ready":
            engine = state.engine_state
            why = "the engine is still loading" if engine == "loading" else "no engine"
        app.push_screen(
            ResumeScreen(run, why, plan, refusals), partial(_resume_answered, self, run, plan)
        )

    def action_stop(self: RunKeysHost) -> None:
        run = self.target_run()
        if run is None or not run.alive:
            return
        where = "in this app" if is_own_run(run) else f"pid {run.pid}"
        self.app.push_screen(
            ConfirmScreen(
                f"Stop run {run.name} ({where})? It finishes its batch, keeps its last "
                "checkpoint and can be resumed (r).",
                yes="Stop it",
                no="Keep training",
            ),
            partial(_stop_answered, self, run),
        )

    def action_use_weights(self: RunKeysHost, which: Which = "final") -> None:
        run = self.target_run()
        if run is None:
            return
        file = actions.weights_file(run, which)
        if not file.is_file():
            self.app.notify(f"{run.name} has no {which} weights yet", severity="warning")
            return
        self.app.notify(f"Loading {file.name} of {run.name}...")
        self.run_worker(
            partial(_load_weights_job, self.app, file, which),
            thread=True,
            group="run-weights",
            exclusive=True,
            exit_on_error=False,
        )

    def action_export(self: RunKeysHost) -> None:
        run = self.target_run()
        if run is None:
            return
        try:
            written = actions.export_csv(run)
        except ActionRefused as error:
            self.app.notify(str(error), title="Not exported", severity="error")
            return
        self.app.notify(f"{run.epochs_done} epochs written to {written}", title="Metrics exported")

    def action_delete(self: RunKeysHost) -> None:
        run = self.target_run()
        if run is None:
            return
        app = self.app
        if run.alive:
            who = " in this app" if is_own_run(run) else f" (pid {run.pid})" if run.pid else ""
            app.notify(
                f"{run.name} is {run.state}{who}, and a live run is never deleted: "
                "stop it (x), then delete it.",
                title="Not deleted",
                severity="warning",
            )
            return
        question = (
            f"Delete run {run.name} ({run.model}, {run.epochs_done} epochs, {run.state})? "
            "Its checkpoints, weights and metrics go; this cannot be undone."
        )
        current = runs_host(app).current_model
        if current is not None and Path(current.path).parent == Path(run.path):
            question += " Its weights are the current model: other screens will not find them."
        app.push_screen(
            ConfirmScreen(question, yes="Delete", no="Keep it"),
            partial(_delete_answered, self, run),
        )


def action_allowed(
    run: RunSummary | None, action: str, parameters: tuple[object, ...]
) -> bool | None:
    """True, or None (shown but off) when the action does not apply to this run."""
    if run is None:
        return None
    if action == "resume":
        ok = run.state in RESUMABLE and not run.alive
    elif action == "stop":
        ok = run.alive
    elif action.startswith("use_weights"):  # the palette passes "use_weights('best')"
        best = parameters[0] == "best" if parameters else "best" in action
        ok = actions.has_weights(run, "best" if best else "final")
    elif action == "export":
        ok = run.epochs_done > 0
    else:  # delete too: on a live run it says why it will not
        return True
    return True if ok else None


def _resume_answered(
    host: RunKeysHost, run: RunSummary, plan: ResumePlan, where: str | None
) -> None:
    if where is None:
        return
    app, state = host.app, runs_host(host.app)
    if where == "here":
        if state.start_training(plan.config, resume=plan.request):
            after = plan.best_epoch if plan.request.from_best else run.epochs_done
            app.notify(
                f"Resuming {run.name} in the app after epoch {after}; "
                "the Train screen (1) shows it too.",
                title="Resumed",
            )
        host.runs_changed()
        return
    start_background_run(app, state.runs_dir, plan.config, resume=plan.request, open_it=False)


def _stop_answered(host: RunKeysHost, run: RunSummary, yes: bool | None) -> None:
    if not yes:
        return
    app, state = host.app, runs_host(host.app)
    started = state.train.started
    if (
        is_own_run(run)
        and state.train.active
        and (started is None or Path(started.run_dir) == Path(run.path))
    ):  # the app's training worker (not a background run the app is launching)
        state.stop_training()
        app.notify(f"Stopping {run.name} after this batch; its checkpoint is kept.")
    else:
        try:
            pid = actions.stop(run)
        except ActionRefused as error:
            app.notify(str(error), title="Not stopped", severity="error")
            return
        app.notify(
            f"Asked run {run.name} (pid {pid}) to stop; it keeps its last checkpoint.",
            title="Stopping",
        )
    host.runs_changed()


def _load_weights_job(app: App[object], file: Path, which: Which) -> None:
    """In a thread: load the weights (torch), then make them the current model."""
    try:
        meta = actions.load_weights(file)
    except ActionRefused as error:
        app.call_from_thread(
            app.notify, f"{error}; the current weights are unchanged", severity="error"
        )
        return
    app.call_from_thread(_weights_loaded, app, file, meta, which)


def _weights_loaded(app: App[object], file: Path, meta: dict[str, Any], which: Which) -> None:
    current = CurrentModel(file, meta, "run")
    runs_host(app).set_current_model(current)
    sample = f", {current.trained_on}," if current.trained_on else ""
    app.notify(
        f"{meta.get('model', '?')} with the {which} weights of {file.parent.name} "
        f"({file.name}){sample} is now the current model.",
        title="Current model",
    )


def _delete_answered(host: RunKeysHost, run: RunSummary, yes: bool | None) -> None:
    if not yes:
        return
    try:
        actions.delete(run)
    except ActionRefused as error:
        host.app.notify(str(error), title="Not deleted", severity="error")
        return
    host.app.notify(f"Deleted {run.path}", title="Run deleted")
    host.after_delete(run)
