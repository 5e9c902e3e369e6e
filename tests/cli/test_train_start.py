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


PAUSED_IMPORTS = """
import gc, sys
full = []
gc.callbacks.append(lambda phase, info: phase == "stop" and full.append(info["generation"]))
from cnn_tui.tui.slow_imports import import_for_training
import_for_training()
print("torch" in sys.modules, "torch._dynamo" in sys.modules, gc.isenabled(),
      gc.get_freeze_count(), full.count(2))
frozen = gc.get_freeze_count()
import_for_training()  # a second time: torch is there, nothing changes
print(gc.isenabled(), gc.get_freeze_count() == frozen)
"""


def test_a_training_process_imports_torch_without_full_collections_then_freezes_them():
    """import_for_training (cnn-tui train, a detached trainer): no garbage collection
    during torch's imports (five or six full ones, 0.65 s, without the pause), the imported
    objects frozen after, the collector on again."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", PAUSED_IMPORTS], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    torch_in, dynamo_in, enabled, frozen, full = first.split()
    assert (torch_in, dynamo_in, enabled) == ("True", "True", "True")
    assert int(frozen) > 200_000 and full == "0"  # (about 500,000 with torch 2.14)
    assert second == "True True"


ENGINE_IMPORTS = """
import gc
full = []
gc.callbacks.append(lambda phase, info: phase == "stop" and full.append(info["generation"]))
from cnn_tui.tui.session.engine import load_engine
device, model, why = load_engine(None)
print(device, gc.isenabled(), gc.get_freeze_count() > 100_000, full.count(2))
"""


def test_the_apps_engine_imports_torch_without_full_collections():
    """The app's engine worker imports torch while the UI runs; a full collection there
    would hold Python's lock and stall the UI (0.1-0.2 s each)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", ENGINE_IMPORTS], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cpu", "True", "True", "0"]
