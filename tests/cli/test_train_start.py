"""cnn-tui train's start: the data read in a thread while torch imports, and the line
that breaks the start down (issue 13)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from cnn_tui.core.config import preset_config
from cnn_tui.core.data import DataError, load_dataset
from cnn_tui.core.events import Finished, Progress, Started
from cnn_tui.core.train import TrainControl
from cnn_tui.tui import STARTED
from cnn_tui.tui.cli.output import Output
from cnn_tui.tui.cli.train import load_while_importing
from cnn_tui.tui.cli.train_view import StartTimes, TrainView


def test_the_data_read_beside_the_imports_are_the_data_load_dataset_reads(image_folder: Path):
    config = preset_config("fast", data_dir=str(image_folder))
    for _ in ("decoded", "from the cache"):
        dataset, start = load_while_importing(Output(), config)
        expected = load_dataset("cifar2", image_folder, download=False)
        assert dataset.name == expected.name and dataset.classes == expected.classes
        for got, want in ((dataset.train, expected.train), (dataset.val, expected.val)):
            assert torch.equal(got.images, want.images) and torch.equal(got.labels, want.labels)
        assert start.imports >= 0 and start.data > 0 and start.ready >= start.began
    shutil.rmtree(image_folder / "train" / "bird")  # an error in the thread reaches the caller
    with pytest.raises(DataError, match="no bird class"):
        load_while_importing(Output(), config)


def test_the_start_line_breaks_the_start_down_within_80_columns(capsys):
    start = StartTimes(began=STARTED + 0.2, imports=12.3, data=10.4, ready=STARTED + 12.5)
    view = TrainView(Output(), TrainControl(), start)
    view(Started("/runs/r", "net", "CIFAR-2", "cpu", 8, 0, 100, 20))
    view.started_at = STARTED + 12.6
    view(Progress(1, 8, 1, 2, 100.0, 1.0, 12.7, epoch_seconds=0.051))
    view(Progress(1, 8, 2, 2, 100.0, 0.0, 12.8, epoch_seconds=0.1))
    view(finished := Finished("finished", "/runs/r", None, 8, 0.9, 8))
    view.finished_at = STARTED + 112.6
    assert view.time_line(8, STARTED + 112.7) == (
        "time: 112.7 s in all: 12.6 s to start, then 100.0 s for 8 epochs"
    )
    line = view.start_line()
    assert line == "start: 12.5 s imports, 10.4 s data alongside, 0.1 s set-up; first batch 0.05 s"
    assert len(line) <= 80
    view.report(finished)
    assert capsys.readouterr().out.endswith(line + "\n")
