"""What the app knows between screens, as typed records: its options, the current model,
the picked image and the training run.

The session (tui/session) owns these, not any screen, so switching screens neither stops
training nor loses its charts: a screen re-renders from here whenever it is shown.
Nothing here imports torch or Textual (torch and numpy types are for the type checker).
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cnn_tui.core.events import EpochEnd, Event, Finished, Log, Progress, Started
from cnn_tui.core.layer_stats import MachineStats
from cnn_tui.core.states import LogLevel
from cnn_tui.core.states import TrainingPhase as Phase
from cnn_tui.core.weights import known_classes, trained_on
from cnn_tui.tui.batch_series import BatchSeries
from cnn_tui.tui.layer_figures import thin_histograms

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from cnn_tui.core.config import TrainConfig
    from cnn_tui.core.control import TrainControl

LOG_LINES = 1000  # the log keeps this many lines (wrapped lines in the widget); older ones go

EngineState = Literal["loading", "ready", "failed"]  # whether torch is imported yet
Origin = Literal["shipped", "file", "run", "book"]  # where the current weights came from
ENDED: dict[str, Phase] = {"finished": "finished", "stopped": "stopped", "failed": "failed"}


@dataclass(frozen=True)
class AppOptions:
    """The command line's presets for the app (None: not given)."""

    model: str | None = None
    preset: str | None = None
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    data: str | None = None
    dataset: str | None = None
    weights: str | None = None
    runs: str | None = None
    theme: str | None = None

    @classmethod
    def from_namespace(cls, args: argparse.Namespace | None) -> AppOptions:
        """Read the fields an argparse Namespace has; missing ones stay None."""
        if args is None:
            return cls()
        names = cls.__dataclass_fields__
        return cls(**{name: getattr(args, name, None) for name in names})


@dataclass
class CurrentModel:
    """The weights the other screens use: a file and what its sidecar says about it."""

    path: Path
    meta: dict[str, object] = field(default_factory=dict)
    origin: Origin = "shipped"

    @property
    def label(self) -> str:
        model = self.meta.get("model", "?")
        return f"{model} from {self.path.name} ({self.origin})"

    @property
    def classes(self) -> list[str]:
        """The classes the weights tell apart: every answer is one of them."""
        classes = self.meta.get("classes")
        if isinstance(classes, list) and all(isinstance(c, str) for c in classes):
            return list(classes)
        return []

    @property
    def known_classes(self) -> str:
        """That any picture gets one of these classes, in a sentence ("" for none known)."""
        return known_classes(self.classes)

    @property
    def trained_on(self) -> str:
        """ "trained on the 500-image sample" for weights trained on the bundled sample;
        "" for the full data or where the sidecar does not say."""
        return trained_on(self.meta)


@dataclass(frozen=True)
class PickedImage:
    """The image picked on the Predict screen, which the Explore screen shows."""

    pixels: npt.NDArray[np.uint8]  # (32, 32, 3): what the network reads
    label: str  # where it comes from, in words
    path: str | None = None  # the file, for an image from disk
    true_class: str | None = None  # where known


@dataclass(frozen=True)
class LogLine:
    number: int  # counts every line ever written, so a view knows which it has shown
    message: str
    level: LogLevel = "info"


class TrainState:
    """One training run as the app has seen it through core events, plus the log.

    phase: idle (nothing yet), starting (loading data), running, paused, stopping,
    finished, stopped or failed. `version` changes whenever anything shown changes and
    `epochs_version` only when the charts' data change, so views redraw only what moved.
    """

    def __init__(self) -> None:
        self.phase: Phase = "idle"
        self.control: TrainControl | None = None  # of the run in progress
        self.config: TrainConfig | None = None  # of the current or last run
        self.started: Started | None = None
        self.progress: Progress | None = None
        self.history: list[EpochEnd] = []
        self.batches = BatchSeries()  # per batch, since this run (or resume) started
        self.finished: Finished | None = None
        self.machine: MachineStats | None = None  # the trainer process, live (Progress)
        self.device: str = ""
        self.log: deque[LogLine] = deque(maxlen=LOG_LINES)
        self._log_count = 0
        self.version = 0
        self.epochs_version = 0
        self.began_at: float | None = None  # monotonic time of the start key

    # -- what the views ask -------------------------------------------------------------

    @property
    def active(self) -> bool:
        """A run is in progress (its worker is alive)."""
        return self.phase in ("starting", "running", "paused", "stopping")

    @property
    def epochs(self) -> int:
        """Planned epochs of the current run (0 before it starts)."""
        if self.started is not None:
            return self.started.epochs
        return self.config.epochs if self.config is not None else 0

    @property
    def best(self) -> EpochEnd | None:
        """The epoch with the best validation accuracy (the first one on ties)."""
        best = None
        for record in self.history:
            if best is None or record.val_accuracy > best.val_accuracy:
                best = record
        return best

    @property
    def wall_times(self) -> list[float]:
        """Seconds of training at the end of each epoch (pauses not counted)."""
        total, times = 0.0, []
        for record in self.history:
            total += record.epoch_seconds
            times.append(total)
        return times

    @property
    def elapsed(self) -> float:
        if self.progress is not None:
            return self.progress.elapsed_seconds
        return sum(record.epoch_seconds for record in self.history)

    @property
    def run_seconds_left(self) -> float | None:
        """Time left for the whole run (core's one estimate: the CLI shows the same)."""
        if self.progress is None:
            return None
        last = self.history[-1].epoch_seconds if self.history else None
        return self.progress.run_seconds_left(last)

    @property
    def one_cycle(self) -> bool:
        """The run's learning rate follows the one-cycle schedule (worth a curve)."""
        return self.config is not None and self.config.schedule == "one-cycle"

    @property
    def sample_sizes(self) -> tuple[int, int] | None:
        """(train, val) images of the bundled sample while the run trains on it."""
        started = self.started
        if started is None or not started.sample:
            return None
        return started.train_size, started.val_size

    @property
    def log_count(self) -> int:
        return self._log_count

    # -- what changes it ----------------------------------------------------------------

    def begin(self, config: TrainConfig, control: TrainControl | None) -> None:
        """A new run was asked for: forget the last run's numbers, keep the log."""
        self.phase = "starting"
        self.config = config
        self.control = control
        self.started = None
        self.progress = None
        self.history = []
        self.batches = BatchSeries()
        self.finished = None
        self.machine = None
        self.began_at = time.monotonic()
        self.epochs_version += 1
        self.version += 1

    def write(self, message: str, level: LogLevel = "info") -> None:
        self._log_count += 1
        self.log.append(LogLine(self._log_count, message, level))
        self.version += 1

    def set_phase(self, phase: Phase) -> None:
        self.phase = phase
        self.version += 1

    def apply(self, event: Event) -> None:
        """Take in one event from core.train.train."""
        if isinstance(event, Progress):
            self.progress = event
            if event.machine is not None:
                self.machine = event.machine
            before = sum(r.epoch_seconds for r in self.history if r.epoch < event.epoch)
            self.batches.add(event, before)
            if self.phase == "starting":
                self.phase = "running"
        elif isinstance(event, EpochEnd):
            self.history.append(event)
            self.history = thin_histograms(self.history)
            self.epochs_version += 1
            self.write(format_epoch(event, self.epochs))
        elif isinstance(event, Log):
            self.write(event.message, log_level(event.level))
        elif isinstance(event, Started):
            self.started = event
            self.device = event.device
            if event.start_epoch and not self.history:  # a resumed run: its earlier epochs
                self.history = _earlier_epochs(event.run_dir, event.start_epoch)
            if self.phase == "starting":
                self.phase = "running"
            resumed = f", from epoch {event.start_epoch + 1}" if event.start_epoch else ""
            self.write(f"training {event.model} on {event.dataset}, {event.device}{resumed}")
            self.epochs_version += 1
        elif isinstance(event, Finished):
            self.finished = event
            self.phase = ENDED.get(event.state, "failed")
            self.control = None
            self.epochs_version += 1
            self.write(format_finished(event), "error" if event.state == "failed" else "info")
        self.version += 1

    def fail(self, message: str) -> None:
        """The run could not start or crashed outside the loop's own handling."""
        self.phase = "failed"
        self.control = None
        self.write(message, "error")


def log_level(level: str) -> LogLevel:
    """core's Log.level as one of the log's levels (an unknown one reads as info)."""
    return "warning" if level == "warning" else "error" if level == "error" else "info"


def _earlier_epochs(run_dir: str, up_to: int) -> list[EpochEnd]:
    """The epochs a resumed run did before, from its metrics.jsonl, with their weights'
    histograms from histograms.jsonl (so the charts and the Layers view show them)."""
    from cnn_tui.core.run_records import read_histograms, read_metrics

    histograms = read_histograms(run_dir)
    earlier = [
        replace(r, histograms=histograms.get(r.epoch))
        for r in read_metrics(run_dir).epochs
        if r.epoch <= up_to
    ]
    return thin_histograms(earlier)


def format_epoch(record: EpochEnd, epochs: int) -> str:
    return (
        f"epoch {record.epoch}/{epochs or '?'}: "
        f"train loss {record.train_loss:.3f} acc {record.train_accuracy:.3f} · "
        f"val loss {record.val_loss:.3f} acc {record.val_accuracy:.3f} · "
        f"{record.images_per_second:,.0f} img/s"
    )


def format_finished(event: Finished) -> str:
    what = {"finished": "finished", "stopped": "stopped", "failed": "failed"}.get(
        event.state, event.state
    )
    parts = [f"run {what} after {event.epochs_done} epoch{'s' if event.epochs_done != 1 else ''}"]
    if event.best_val_accuracy is not None:
        parts.append(f"best val {event.best_val_accuracy:.3f} at epoch {event.best_epoch}")
    parts.append(f"run folder {event.run_dir}")
    return "; ".join(parts)


def format_duration(seconds: float | None) -> str:
    """h:mm:ss or m:ss; '-' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
