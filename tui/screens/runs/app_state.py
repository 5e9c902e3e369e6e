"""What the Runs screens need of the app beside Textual's own, typed: the training
worker's state, the engine's, the current model and the runs folder.

The screens reach it as `runs_host(self.app)`: the app's session (tui/session), which
offers exactly this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from cnn_tui.core.config import TrainConfig
from cnn_tui.core.resume import Resume
from cnn_tui.tui.session import session_of
from cnn_tui.tui.state import CurrentModel, EngineState, TrainState


class RunsHost(Protocol):
    """What the Runs screens use of the app's session."""

    train: TrainState  # the app's own training worker
    engine_state: EngineState
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
    """The session of the app a Runs screen belongs to, as what the screen needs of it."""
    return session_of(app)
