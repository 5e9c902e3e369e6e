"""SVG snapshots of the Runs screen, one run's screen and a comparison, at 80x24 and 120x40.

Deterministic by construction: the run folders are written with core's writers and fixed
numbers, names and start times (runs_support.py), times are shown in UTC, and the runs
folder is given as a relative path from a fixed working folder, so no date, path or
machine-dependent number reaches the screen. The runs differ in settings (columns of
their own), one is named and one trained on the bundled sample (a data-set column, and
the comparison's warning). Live runs are left to test_runs_screen.py.

Update after an intended change: `pytest tests/tui/test_runs_screen_snapshots.py
--snapshot-update`, then look at the SVGs in tests/tui/snapshots/ before committing them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_support import tiny_dataset
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.state import AppOptions
from runs_support import SAMPLE, T0, write_run
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture
def app(tmp_path, monkeypatch) -> CnnTuiApp:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    runs = Path("runs")
    write_run(runs, "20251124-160000-net-a1b2")
    write_run(runs, "20251124-170000-net-width-c3d4", model="net-width", preset="fast",
              started=T0 + 3600, title="fast width", lr=5e-3, optimizer="adam", augment=True,
              schedule="one-cycle")  # fmt: skip
    write_run(runs, "20251124-180000-net-res-e5f6", model="net-res", state="stopped", done=3,
              planned=8, started=T0 + 7200, message="stopped by the user",
              dataset_name=SAMPLE)  # fmt: skip
    write_run(runs, "20251124-190000-net-0a1b", state="running", done=2, started=T0 + 10800)
    yield CnnTuiApp(AppOptions(runs="runs"), dataset=tiny_dataset(64, 32))
    monkeypatch.undo()
    time.tzset()


async def settle(pilot: Pilot) -> None:
    """Engine ready, no toasts, redrawn: the same frame on every machine."""
    app = pilot.app
    while app.session.engine_state == "loading" or not getattr(app.screen, "built", True):
        await pilot.pause(0.05)
    app.clear_notifications()
    await pilot.pause(0.2)


async def runs_list(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("5", "down")  # the stopped net-res run
    await settle(pilot)


async def one_run(pilot: Pilot) -> None:
    await runs_list(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def compared(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("5", "a", "c")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", ["list", "run", "compare"])
def test_runs_screen(scene: str, size: str, app: CnnTuiApp, svg_snapshot) -> None:
    run_before = {"list": runs_list, "run": one_run, "compare": compared}[scene]
    svg = take_svg_screenshot(app, terminal_size=SIZES[size], run_before=run_before)
    assert svg == svg_snapshot
