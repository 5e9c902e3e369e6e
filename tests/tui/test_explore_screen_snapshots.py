"""SVG snapshots of the Explore screen's three views at 80x24 and 120x40.

Deterministic by construction: the shipped weights and the bundled sample's first
validation image (both in the package), and the screen computes in float64, so no
machine's float32 summation order can move a colour or a printed digit.

Update after an intended change: `pytest tests/tui/test_explore_screen_snapshots.py
--snapshot-update`, then look at the SVGs in tests/tui/snapshots/ before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import options, wait_for
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.explore import ExploreScreen
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
VIEWS = {
    # view: keys pressed on the Explore screen before the picture is taken
    "feature-maps": ["right", "right", "down"],
    "kernels": ["k", "o"],
    "learned": ["l", "right"],
}


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("size", SIZES)
def test_explore_screen(size: str, view: str, tmp_path: Path, svg_snapshot) -> None:
    async def show(pilot: Pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.session.engine_state == "ready")
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        await wait_for(pilot, lambda: screen.side is not None)
        await settle(pilot)
        await pilot.press(*VIEWS[view])
        await settle(pilot)
        app.clear_notifications()
        await pilot.pause(0.1)

    app = CnnTuiApp(options(tmp_path))
    svg = take_svg_screenshot(app, terminal_size=SIZES[size], run_before=show)
    assert svg == svg_snapshot
