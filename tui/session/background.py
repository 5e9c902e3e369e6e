"""Starting (or resuming) a run in a process of its own, from the Train screen or the Runs
screens, and showing it on the Runs screen once it started.

The start (run_actions.start_in_background: core.detach) runs in a thread
worker, as it checks the data folder and takes the run's lock, which may wait a second; a
refusal is one line in a notification. The Runs screens hear of the new run through
RunStarted, so the screen that starts a run needs not know them.
"""

from __future__ import annotations

from pathlib import Path

from cnn_tui.core.config import TrainConfig
from cnn_tui.core.resume import Resume
from textual.app import App
from textual.message import Message
from textual.screen import ModalScreen


class RunStarted(Message, bubble=False):
    """A run started in the background: the list shows it now, and opens it if asked."""

    def __init__(self, run_dir: Path, open_it: bool) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.open_it = open_it


def start_background_run(
    app: App[object],
    runs_dir: str | None,
    config: TrainConfig,
    resume: Resume | None = None,
    open_it: bool = True,
) -> None:
    """Start (or resume) a run detached (core.detach) in runs_dir (None: the default runs
    folder); open it on the Runs screen when started if open_it."""

    # (imported here: core.resume and core.config's checks are not needed for the first
    # frame, which the Train screen's import of this module would otherwise wait for)
    from cnn_tui.tui.session.run_actions import ActionRefused, start_in_background

    def job() -> None:
        try:
            run_dir, pid = start_in_background(config, runs_dir, resume)
        except ActionRefused as error:
            app.call_from_thread(
                app.notify, str(error), title="Not started in the background", severity="error"
            )
            return
        app.call_from_thread(_started, app, run_dir, pid, resume is not None, open_it)

    app.run_worker(job, thread=True, group="detach", name="detach", exit_on_error=False)


def _started(app: App[object], run_dir: Path, pid: int, resumed: bool, open_it: bool) -> None:
    what = "Resumed" if resumed else "Training"
    app.notify(
        f"{what} in the background (pid {pid}); it goes on when the app quits. "
        f"Run folder: {run_dir}",
        title="Background run",
    )
    if open_it:
        app.run_worker(_show(app, run_dir), group="open-run", exclusive=True)
    else:
        _tell_screens(app, run_dir, open_it=False)


async def _show(app: App[object], run_dir: Path) -> None:
    """Switch to the Runs screen, which then opens the run (its charts follow its files);
    not while a dialog or the palette is open: the notification says where the run is."""
    if isinstance(app.screen, ModalScreen):
        _tell_screens(app, run_dir, open_it=False)
        return
    if app.current_mode != "runs":
        await app.switch_mode("runs")
    _tell_screens(app, run_dir, open_it=True)


def _tell_screens(app: App[object], run_dir: Path, open_it: bool) -> None:
    """Every screen of the shown mode hears of it (the Runs screen is the one that acts)."""
    for screen in app.screen_stack:
        screen.post_message(RunStarted(run_dir, open_it))
