"""The Predict screen's Folder tab: every image of a folder classified in a thread worker,
its answers added as rows while they come, the rest of the app usable meanwhile."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.session import session_of
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.state import CurrentModel
from cnn_tui.tui.widgets.prediction_tables import add_folder_rows, folder_summary
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static, TabPane
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from cnn_tui.core.predict import FileAnswer

FolderState = Literal["idle", "running", "stopped", "done", "failed"]


class FolderPane(ReportsWorkerErrors, TabPane):
    """The folder's answers as a table, under a line that says how far it got."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.folder: Path | None = None
        self.rows: list[FileAnswer] = []  # as they came
        self.state: FolderState = "idle"

    def compose(self) -> ComposeResult:
        yield Static("d picks a folder to classify", id="folder-status")
        yield DataTable(id="folder-table", cursor_type="row")

    def on_mount(self) -> None:
        for column in ("file", "predicted"):
            self.query_one("#folder-table", DataTable).add_column(column, key=column)

    def say(self, message: str, level: str = "info") -> None:
        line = self.query_one("#folder-status", Static)
        line.update(Text(message))
        line.set_class(level == "error", "-error")

    def _set_state(self, state: FolderState) -> None:
        self.state = state
        self.screen.refresh_bindings()  # x (stop) comes and goes with a running folder

    def start(self, current: CurrentModel, folder: Path) -> None:
        """Classify every image in folder with these weights, in a worker."""
        self.folder = folder
        self.rows = []
        self._set_state("running")
        self.query_one("#folder-table", DataTable).clear()
        self.say(f"{folder.name}/: reading the folder...")
        self.run_worker(
            partial(self._job, current, folder),
            thread=True,
            group="predict-folder",
            exclusive=True,
            exit_on_error=False,
        )

    def stop(self) -> None:
        if self.state != "running" or self.folder is None:
            self.say("nothing is being classified")
            return
        self.workers.cancel_group(self, "predict-folder")
        self._set_state("stopped")
        done = len(self.rows)
        self.say(f"{self.folder}: stopped after {done} file{'' if done == 1 else 's'}")

    def _job(self, current: CurrentModel, folder: Path) -> None:
        worker = get_current_worker()
        try:
            total, answers = session_of(self.app).predicting.classify_folder(current, folder)
            batch: list[FileAnswer] = []
            sent = time.monotonic()
            for answer in answers:
                if worker.is_cancelled:
                    return
                batch.append(answer)
                # rows go to the screen in small groups: often enough to watch them come,
                # not so often that the UI thread does nothing else
                if len(batch) >= 32 or time.monotonic() - sent > 0.1:
                    self._from_thread(self._add, batch, total)
                    batch, sent = [], time.monotonic()
            self._from_thread(self._add, batch, total)
        except SessionError as error:
            self._from_thread(self._failed, str(error))
            return
        if not worker.is_cancelled:
            self._from_thread(self._done, total)

    def _add(self, answers: list[FileAnswer], total: int) -> None:
        if self.state != "running" or self.folder is None:
            return
        self.rows.extend(answers)
        classes = session_of(self.app).predicting.classes
        add_folder_rows(self.query_one("#folder-table", DataTable), answers, classes)
        self.say(f"{self.folder.name}/: {len(self.rows)} of {total}... (x stops)")

    def _done(self, total: int) -> None:
        if self.state != "running" or self.folder is None:
            return
        self._set_state("done")
        self.say(folder_summary(self.folder, total, self.rows))

    def _failed(self, reason: str) -> None:
        self._set_state("failed")
        self.say(reason, "error")

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """Run callback on the UI thread; quietly nothing if the app has gone meanwhile."""
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(callback, *args)
