"""What the training loop reports, as plain dataclasses any front end can render.

The loop calls one callback with these objects; the CLI prints them, the app posts them
to its screens. They carry numbers only, never tensors, so they cross threads freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .layer_stats import Histogram, LayerStats, MachineStats, layers_to_json, machine_to_json
from .states import EndState, LogLevel


@dataclass(frozen=True)
class Progress:
    """Progress within an epoch, sent a few times a second at most."""

    epoch: int  # 1-based
    epochs: int
    batch: int  # batches done in this epoch
    batches: int
    images_per_second: float
    eta_seconds: float  # time left in this epoch
    elapsed_seconds: float  # since the run (or resume) started
    # Per batch, for a chart by step: the training loss of each batch since the previous
    # Progress (read in one go with the loss the loop checks anyway: no sync per batch)
    # and the learning rate each batch used; step counts batches over the run's epochs.
    step: int = 0
    losses: tuple[float, ...] = ()
    lrs: tuple[float, ...] = ()
    epoch_seconds: float = 0.0  # this epoch's training time so far, pauses left out
    machine: MachineStats | None = None  # the trainer process, at most once a second

    def run_seconds_left(self, epoch_seconds: float | None = None) -> float:
        """Time left for the whole run: this epoch's rest, then each epoch still to come at
        epoch_seconds (the last finished epoch's time; without one, this epoch's own
        estimate). The one estimate the command line and the app both show."""
        per_epoch = epoch_seconds
        if per_epoch is None:
            per_epoch = self.elapsed_seconds + self.eta_seconds
        return self.eta_seconds + (self.epochs - self.epoch) * per_epoch


@dataclass(frozen=True)
class EpochEnd:
    """One finished epoch; the same fields as a line of metrics.jsonl, and the look inside
    it (core/layer_stats.py) where the run measured one."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    epoch_seconds: float
    images_per_second: float
    layers: dict[str, LayerStats] | None = None  # module name -> its figures
    machine: MachineStats | None = None
    histograms: dict[str, Histogram] | None = None  # in histograms.jsonl, not metrics.jsonl

    def to_dict(self) -> dict[str, float]:
        """The epoch's figures (EPOCH_FIGURES): `train --json`'s line and a CSV row."""
        return {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "epoch_seconds": self.epoch_seconds,
            "images_per_second": self.images_per_second,
        }

    def to_record(self) -> dict[str, Any]:
        """The epoch's metrics.jsonl line: its figures, then "layers" and "machine" where
        measured."""
        record: dict[str, Any] = self.to_dict()
        if self.layers:
            record["layers"] = layers_to_json(self.layers)
        if self.machine is not None:
            record["machine"] = machine_to_json(self.machine)
        return record


EPOCH_FIGURES = tuple(
    f.name for f in fields(EpochEnd) if f.name not in ("layers", "machine", "histograms")
)  # an epoch's scalar figures: the keys of EpochEnd.to_dict, the columns of its CSV


@dataclass(frozen=True)
class Log:
    """A line for the log: data set fallbacks, warnings, NaN stops."""

    message: str
    level: LogLevel = "info"


@dataclass(frozen=True)
class Started:
    """Training is about to begin: what runs, on what, where it is written."""

    run_dir: str
    model: str
    dataset: str  # a human name that says plainly what the data are
    device: str
    epochs: int
    start_epoch: int  # epochs already done (resume)
    train_size: int
    val_size: int
    classes: list[str] = field(default_factory=list)
    sample: bool = False  # the bundled sample, not the full data set (say so plainly)
    architecture: str | None = None  # a net not the book's, in words ("5x5 kernels, ...")


@dataclass(frozen=True)
class Finished:
    """The run ended: finished, stopped or failed."""

    state: EndState
    run_dir: str
    weights: str | None  # the plain state_dict, None when no epoch completed
    epochs_done: int
    best_val_accuracy: float | None
    best_epoch: int | None
    message: str = ""


Event = Progress | EpochEnd | Log | Started | Finished
