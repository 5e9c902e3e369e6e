"""Helpers for the tests that drive the app's screens (Predict, Model, Train), shared by the
screens' own tests and the hostile-file tests: an app with made-up weights, a screen opened
and waited for, the file dialog typed into, a made-up epoch record."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from app_support import options, ready, static_text, tiny_dataset, wait_for
from cnn_tui.core.events import EpochEnd
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import save_weights
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.model import ModelScreen
from cnn_tui.tui.screens.predict import PredictScreen
from cnn_tui.tui.widgets.file_picker import FilePickerScreen
from cnn_tui.tui.widgets.picture import PicturePanel
from textual.widgets import DataTable, Input

# -- Predict ------------------------------------------------------------------------------


def weights_file(folder: Path, classes: int = 2, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = ["airplane", "bird"] if classes == 2 else [f"c{i}" for i in range(classes)]
    meta = {"model": "net", "num_classes": classes, "classes": names}
    return save_weights(folder / "w.pt", build_model("net", classes), meta)


def make_predict_app(tmp_path: Path, **changes) -> CnnTuiApp:
    changes.setdefault("weights", str(weights_file(tmp_path / "weights")))
    return CnnTuiApp(options(tmp_path, **changes), dataset=tiny_dataset(16, 24))


async def open_predict(pilot) -> PredictScreen:
    await ready(pilot)
    await pilot.press("3")
    screen = pilot.app.screen
    assert isinstance(screen, PredictScreen)
    await wait_for(pilot, lambda: screen.results is not None or "cannot" in status(pilot))
    return screen


def status(pilot) -> str:
    return static_text(pilot, "#val-status")


def panel_text(screen) -> str:
    panel = screen.query_one(PicturePanel)
    parts = [
        str(panel.query_one(f"#picture-{name}").render()) for name in ("title", "verdict", "note")
    ]
    return " | ".join(parts)


# -- Model --------------------------------------------------------------------------------


def net_weights(folder: Path, name: str = "w.pt", model: str = "net", seed: int = 0) -> Path:
    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"model": model, "num_classes": 2, "classes": ["airplane", "bird"]}
    return save_weights(folder / name, build_model(model), meta)


def make_model_app(tmp_path: Path, **changes) -> CnnTuiApp:
    changes.setdefault("weights", str(net_weights(tmp_path / "weights")))
    return CnnTuiApp(options(tmp_path, **changes), dataset=tiny_dataset())


async def open_model_screen(pilot) -> ModelScreen:
    await ready(pilot)
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, ModelScreen)
    await wait_for(pilot, lambda: screen.query_one("#layer-table", DataTable).row_count > 0)
    return screen


async def type_path(pilot, path: Path | str) -> None:
    """In the file dialog: clear the path field, type a path (relative to the current
    folder where it is under it), press Enter."""
    dialog = pilot.app.screen
    assert isinstance(dialog, FilePickerScreen)
    box = dialog.query_one("#picker-path", Input)
    box.focus()
    box.value = ""
    text = os.path.relpath(path)
    await pilot.press(*(str(path) if text.startswith("..") else text))
    await pilot.press("enter")


# -- Train --------------------------------------------------------------------------------


def epoch_record(epoch: int, seconds: float = 2.0) -> EpochEnd:
    return EpochEnd(
        epoch, 1 / epoch, 0.5 + epoch / 100, 1.2 / epoch, 0.5 + epoch / 120, seconds, 900
    )
