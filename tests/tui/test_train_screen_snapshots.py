"""SVG snapshots of the Train screen at 80x24 and 120x40, idle and after a short run.

Deterministic by construction: the data set is made up and named, the device is pinned,
and the finished run is a fixed list of core events replayed through the same message the
training worker posts (TrainEvent), so no timing, date or machine-dependent number reaches
the screen. Real runs are exercised by test_train_screen.py.

Update after an intended change: `pytest tests/tui/test_train_screen_snapshots.py
--snapshot-update`, then look at the SVGs in tests/tui/snapshots/ before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import options, tiny_dataset
from cnn_tui.core.events import EpochEnd, Finished, Log, Progress, Started
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.session.messages import TrainEvent
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

# A short run as core.train.train reports it: six epochs of net on made-up data.
LOSSES = [
    (0.693, 0.601, 0.690, 0.612),
    (0.571, 0.689, 0.552, 0.701),
    (0.498, 0.752, 0.513, 0.734),
    (0.452, 0.781, 0.489, 0.756),
    (0.421, 0.803, 0.497, 0.749),
    (0.398, 0.817, 0.505, 0.744),
]
RUN_DIR = "runs/demo-net"


def short_run() -> list:
    events: list = [
        Log("decoded 64 train images in 0.1s", "info"),
        Started(RUN_DIR, "net", "made-up test data (64 train / 32 val)", "cpu", 6, 0, 64, 32),
    ]
    for epoch, (train_loss, train_acc, val_loss, val_acc) in enumerate(LOSSES, 1):
        batches = (train_loss + 0.04, train_loss - 0.04)  # each batch's loss, about the mean
        events.append(
            Progress(epoch, 6, 2, 2, 3200.0, 0.0, 0.5 * epoch, 2 * epoch, batches, (0.01,) * 2, 0.5)
        )
        events.append(EpochEnd(epoch, train_loss, train_acc, val_loss, val_acc, 0.5, 3200.0))
    events.append(Finished("finished", RUN_DIR, None, 6, 0.756, 4, ""))
    return events


def make_app(tmp_path: Path) -> CnnTuiApp:
    return CnnTuiApp(options(tmp_path, epochs=6), dataset=tiny_dataset(64, 32))


async def settle(pilot: Pilot) -> None:
    """Engine ready, device pinned, no toasts: the same frame on every machine."""
    app = pilot.app
    while app.session.engine_state == "loading" or not app.screen.built:
        await pilot.pause(0.05)
    app.session.train.device = "cpu"
    app.session.train.version += 1
    app.clear_notifications()
    app.screen.set_focus(None)
    app.screen.sync()
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES)
def test_train_screen_idle(size: str, tmp_path: Path, svg_snapshot) -> None:
    svg = take_svg_screenshot(make_app(tmp_path), terminal_size=SIZES[size], run_before=settle)
    assert svg == svg_snapshot


@pytest.mark.parametrize("size", SIZES)
def test_train_screen_after_a_short_run(size: str, tmp_path: Path, svg_snapshot) -> None:
    async def replay(pilot: Pilot) -> None:
        await settle(pilot)
        app = pilot.app
        app.session.train.begin(app.session.initial_config, None)
        for event in short_run():
            app.post_message(TrainEvent(event))
        while app.session.train.phase != "finished":
            await pilot.pause(0.05)
        await settle(pilot)

    svg = take_svg_screenshot(make_app(tmp_path), terminal_size=SIZES[size], run_before=replay)
    assert svg == svg_snapshot
