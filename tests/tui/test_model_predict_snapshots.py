"""SVG snapshots of the Model and Predict screens at 80x24 and 120x40.

Deterministic by construction: made-up data with a fixed seed, weights whose answer does
not depend on the image (every parameter zero but the last bias: 70% airplane, 30% bird),
a weights file named the same everywhere, half-block images with a fixed cell size, and
no notifications or timing on screen.

Update after an intended change: `pytest tests/tui/test_model_predict_snapshots.py
--snapshot-update`, then look at the SVGs in tests/tui/snapshots/ before committing them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from app_support import options, tiny_dataset
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import save_weights
from cnn_tui.tui.app import CnnTuiApp
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture(autouse=True)
def _same_everywhere(monkeypatch):
    monkeypatch.setenv("CNN_TUI_GRAPHICS", "halfcell")
    from cnn_tui.tui.widgets.picture import load_textual_image
    from textual_image._terminal import CellSize, get_cell_size

    load_textual_image()
    monkeypatch.setattr(get_cell_size, "_result", CellSize(10, 20), raising=False)


def fixed_weights(folder: Path) -> Path:
    model = build_model("net")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.fc2.bias.copy_(torch.tensor([math.log(0.7), math.log(0.3)]))
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"]}
    return save_weights(folder / "fixed.pt", model, meta)


def make_app(tmp_path: Path) -> CnnTuiApp:
    weights = fixed_weights(tmp_path / "weights")
    return CnnTuiApp(options(tmp_path, weights=str(weights)), dataset=tiny_dataset(16, 24))


async def until(pilot: Pilot, condition) -> None:
    for _ in range(600):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {condition}")


async def settle(pilot: Pilot) -> None:
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


def model_run_before(tab: str):
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.session.engine_state == "ready")
        await pilot.press("2")
        screen = app.screen
        await until(pilot, lambda: screen.query_one("#layer-table", DataTable).row_count == 10)
        if tab == "shapes":
            await pilot.press("f")
            await until(pilot, lambda: screen._lesson_drawn)
        await settle(pilot)

    return run_before


def predict_run_before(tab: str):
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.session.engine_state == "ready")
        await pilot.press("3")
        screen = app.screen
        await until(pilot, lambda: screen.results is not None)
        await until(pilot, lambda: screen.query_one("#picture").image_widget is not None)
        if tab == "mistakes":
            await pilot.press("m")
        await settle(pilot)
        assert "70.0%" in str(screen.query_one("#picture-verdict", Static).render())

    return run_before


@pytest.mark.parametrize("tab", ["layers", "shapes"])
@pytest.mark.parametrize("size", SIZES)
def test_model_screen(size: str, tab: str, tmp_path: Path, svg_snapshot) -> None:
    svg = take_svg_screenshot(
        make_app(tmp_path), terminal_size=SIZES[size], run_before=model_run_before(tab)
    )
    assert svg == svg_snapshot


@pytest.mark.parametrize("tab", ["validation", "mistakes"])
@pytest.mark.parametrize("size", SIZES)
def test_predict_screen(size: str, tab: str, tmp_path: Path, svg_snapshot) -> None:
    svg = take_svg_screenshot(
        make_app(tmp_path), terminal_size=SIZES[size], run_before=predict_run_before(tab)
    )
    assert svg == svg_snapshot
