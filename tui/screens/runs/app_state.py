"""What the Runs screens need of the app beside Textual's own, typed: the training
worker's state, the engine's, the current model and the runs folder.

The screens reach it as `runs_host(self.app)`; when the session service takes over the
app's state, this protocol is what it offers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from cnn_tui.core.config import TrainConfig
from cnn_tui.core.resume import Resume
from cnn_tui.tui.state import CurrentModel, TrainState


@runtime_checkable
class RunsHost(Protocol):
    """The app as the Runs screens use it (CnnTuiApp is one)."""

    train: TrainState  # the app's own training worker
    engine_state: str  # loading, ready, failed
    current_model: CurrentModel | None

    @property
    def runs_dir(self) -> str | None:
        """The --runs folder, or None for the default one."""

    def start_training(
        self, config: TrainConfig, resume: str | Path | Resume | None = None
    ) -> bool:
        """Train in the app's worker (resume: how to continue a run); False if one is going."""

    def stop_training(self) -> None: ...

    def set_current_model(self, model: CurrentModel) -> None: ...


def runs_host(app: object) -> RunsHost:
    """The app a Runs screen belongs to, as what the screen needs of it."""
    if isinstance(app, RunsHost):
        return app
    raise TypeError(f"{type(app).__name__} is not the cnn-tui app")
