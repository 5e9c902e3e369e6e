"""Run folders for the Runs screen's tests (no tests here).

`write_run` writes a run folder with core's own writers (config.json, metrics.jsonl,
state.json) and fixed numbers, names and times, for listings and snapshots; real
checkpoints, for resuming and loading weights, come from `train_run` (core.train.train
on made-up data). `EPOCH_KEYS` are the fields of one epoch's record, in metrics.jsonl and
in `train --json` lines alike; a trained run's metrics.jsonl line adds `INSIDE_KEYS` (the
look inside training: each layer's figures and the machine's).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cnn_tui.core.atomic import write_json_atomic
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.run_writer import append_metrics, write_state

T0 = 1_764_000_000.0  # 2025-11-24 16:00 UTC: fixed start times (tests set TZ=UTC)
EPOCH_KEYS = {
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "epoch_seconds",
    "images_per_second",
}
INSIDE_KEYS = {"layers", "machine"}
CIFAR2 = "CIFAR-2 (image folder /data/cifar10-jpeg, 10000 train / 2000 val)"
SAMPLE = "CIFAR-2 bundled sample (400 train / 100 val images, not the full data set)"

# (train_loss, train_accuracy, val_loss, val_accuracy) per epoch
CURVES = {
    "net": [
        (0.62, 0.66, 0.58, 0.70),
        (0.50, 0.76, 0.49, 0.77),
        (0.44, 0.80, 0.45, 0.79),
        (0.40, 0.82, 0.43, 0.81),
        (0.37, 0.84, 0.42, 0.82),
        (0.35, 0.85, 0.42, 0.82),
    ],
    "net-width": [
        (0.58, 0.70, 0.52, 0.74),
        (0.45, 0.79, 0.44, 0.80),
        (0.38, 0.83, 0.40, 0.83),
        (0.32, 0.86, 0.38, 0.84),
        (0.27, 0.89, 0.39, 0.85),
        (0.22, 0.91, 0.41, 0.84),
    ],
    "net-res": [
        (0.55, 0.72, 0.50, 0.75),
        (0.42, 0.81, 0.41, 0.82),
        (0.34, 0.85, 0.37, 0.85),
    ],
}


def epoch_record(epoch: int, values: tuple[float, float, float, float]) -> dict:
    train_loss, train_accuracy, val_loss, val_accuracy = values
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
        "epoch_seconds": 30.0,
        "images_per_second": 1000.0,
    }


def write_run(
    runs: Path,
    name: str,
    *,
    model: str = "net",
    preset: str = "book",
    done: int = 6,
    planned: int = 6,
    state: str = "finished",
    started: float = T0,
    message: str = "",
    dataset_name: str = CIFAR2,
    title: str = "",
    **settings: Any,
) -> Path:
    """A run folder as core leaves it (without checkpoints), with fixed numbers: name is
    its folder's, title the run's name (train --name); settings are TrainConfig's fields
    (lr, optimizer...)."""
    run = runs / name
    run.mkdir(parents=True)
    config = TrainConfig(model=model, preset=preset, epochs=planned, name=title, **settings)
    write_json_atomic(
        run / "config.json",
        {**config.to_dict(), "dataset_name": dataset_name, "classes": ["airplane", "bird"]},
    )
    for epoch, values in enumerate(CURVES[model][:done], 1):
        append_metrics(run, epoch_record(epoch, values))
    fields = {"state": state, "pid": 999_999_999, "started": started, "epochs": planned}
    if state != "running":  # "running" with nobody holding the lock reads as crashed
        fields.update(ended=started + 30.0 * done, message=message)
    write_state(run, **fields)
    return run


def train_run(runs: Path, epochs: int, stop_after: int | None = None, model: str = "net"):
    """A real run (checkpoints and weights) on made-up data; stopped after `stop_after`."""
    from app_support import tiny_dataset
    from cnn_tui.core.events import EpochEnd
    from cnn_tui.core.train import TrainControl, train

    control = TrainControl()

    def on_event(event) -> None:
        if stop_after is not None and isinstance(event, EpochEnd) and event.epoch >= stop_after:
            control.stop()

    config = TrainConfig(model=model, epochs=epochs, batch_size=16, device="cpu", preset="book")
    finished = train(config, on_event, control=control, runs_dir=runs, dataset=tiny_dataset())
    time.sleep(0.01)  # distinct start times, so the newest-first order is fixed
    return Path(finished.run_dir)
