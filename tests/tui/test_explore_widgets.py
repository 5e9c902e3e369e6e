"""The Explore screen's picture widgets: layout, resampling and colours (no torch, no terminal
except where a small App hosts a widget)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cnn_tui.tui.widgets.heatmap import (
    HALF,
    VIRIDIS,
    HeatMap,
    colour_bar,
    colour_of,
    fitted_size,
    half_block_lines,
    resample,
    to_colours,
)
from cnn_tui.tui.widgets.map_grid import MapGrid, grid_layout
from textual.app import App, ComposeResult


def test_viridis_runs_from_dark_purple_to_yellow_and_gets_lighter():
    assert VIRIDIS[0] == (0x44, 0x01, 0x54)
    assert VIRIDIS[-1] == (0xFD, 0xE7, 0x25)
    assert len(VIRIDIS) == 256
    # Perceptual: lightness (roughly, luma) rises all along the map.
    luma = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in VIRIDIS]
    assert all(b >= a - 0.5 for a, b in zip(luma, luma[1:], strict=False))


def test_colour_of_stretches_between_lo_and_hi():
    assert colour_of(0.0, 0.0, 1.0) == VIRIDIS[0]
    assert colour_of(1.0, 0.0, 1.0) == VIRIDIS[255]
    assert colour_of(0.5, 0.0, 1.0) == VIRIDIS[128]
    assert colour_of(5.0, 0.0, 1.0) == VIRIDIS[255]  # clipped
    assert colour_of(-5.0, 0.0, 1.0) == VIRIDIS[0]
    assert colour_of(3.0, 3.0, 3.0) == VIRIDIS[0]  # a constant map
    assert colour_of(float("nan"), 0.0, 1.0) == VIRIDIS[0]


def test_resample_averages_when_shrinking_and_repeats_when_growing():
    grid = [[0.0, 2.0, 4.0, 6.0], [2.0, 4.0, 6.0, 8.0], [4.0, 6.0, 8.0, 10.0], [6, 8, 10, 12]]
    assert resample(grid, 2, 2) == [[2.0, 6.0], [6.0, 10.0]]
    assert resample([[1.0, 2.0]], 2, 4) == [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    assert resample(grid, 4, 4) == [list(row) for row in grid]
    rgb = [[(0, 0, 0), (255, 255, 255)]]
    assert resample(rgb, 1, 1) == [[(128, 128, 128)]]
    assert resample([], 3, 3) == []


def test_half_blocks_put_two_pixel_rows_in_each_line():
    colours = [[(1, 1, 1), (2, 2, 2)], [(3, 3, 3), (4, 4, 4)], [(5, 5, 5), (6, 6, 6)]]
    lines = half_block_lines(colours)
    assert len(lines) == 2  # 3 pixel rows -> 2 lines, the last half empty
    first = lines[0][1]
    assert first.text == HALF
    assert first.style.color.triplet == (2, 2, 2)  # upper pixel: the foreground
    assert first.style.bgcolor.triplet == (4, 4, 4)  # lower pixel: the background
    assert lines[1][0].style.bgcolor is None


def test_to_colours_uses_the_grids_own_range_unless_given():
    grid = [[0.0, 10.0]]
    assert to_colours(grid) == [[VIRIDIS[0], VIRIDIS[255]]]
    assert to_colours(grid, 0.0, 20.0) == [[VIRIDIS[0], VIRIDIS[128]]]
    assert to_colours([[(1, 2, 3)]]) == [[(1, 2, 3)]]  # RGB stays RGB


def test_fitted_size_keeps_maps_relative_sizes_with_a_reference():
    assert fitted_size(32, 32, 32, 16, None) == (32, 32)
    assert fitted_size(32, 32, 80, 16, None) == (32, 32)  # height limits
    assert fitted_size(32, 32, 64, 32, None) == (64, 64)
    assert fitted_size(16, 16, 32, 16, (32, 32)) == (16, 16)  # a pooled map stays half
    assert fitted_size(30, 30, 64, 32, (32, 32)) == (60, 60)
    assert fitted_size(32, 32, 16, 40, None) == (16, 16)  # shrinks to fit


@pytest.mark.parametrize(
    ("count", "side", "width", "height", "expected"),
    [
        (16, 32, 78, 17, (8, 8, 8)),  # net's conv1 at 80x24: 8 maps of 8x8 per row
        (8, 16, 78, 17, (4, 14, 14)),  # conv2's 16x16 maps: 2 rows of 4 (1 of 16x16 is short)
        (8, 8, 78, 17, (8, 8, 8)),  # pool2's 8x8 maps: one row at their own size
        (8, 8, 78, 30, (4, 16, 16)),  # ... grown 2x where there is room
        (16, 3, 30, 17, (4, 6, 6)),  # conv1's kernels: 3x3 tiles grown 2x
        (1, 32, 78, 17, (1, 32, 32)),
    ],
)
def test_grid_layout_picks_the_largest_tiles_that_fit(count, side, width, height, expected):
    cols, ph, pw = grid_layout(count, side, side, width, height, max_scale=4)
    assert (cols, ph, pw) == expected
    rows = -(-count // cols)
    assert cols * pw + (cols - 1) <= width
    assert rows * ((ph + 1) // 2 + 1) <= height


def test_grid_layout_never_grows_by_a_fraction():
    for width in range(10, 120, 7):
        for height in range(5, 40, 3):
            _, ph, pw = grid_layout(16, 8, 8, width, height, max_scale=4)
            assert pw <= 8 or pw % 8 == 0


def test_colour_bar_names_its_ends():
    bar = colour_bar(-1.5, 2.25, 8)
    assert bar.plain.startswith("-1.5 ") and bar.plain.endswith(" 2.25")
    assert len(bar.plain) == len("-1.5 ") + 8 + len(" 2.25")


def test_the_widgets_module_does_not_import_torch_or_numpy():
    code = (
        "import sys; import cnn_tui.tui.widgets.heatmap, cnn_tui.tui.widgets.map_grid; "
        "import cnn_tui.tui.screens.explore; "
        "bad = [m for m in ('torch', 'numpy') if m in sys.modules]; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


class GridApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[int] = []

    def compose(self) -> ComposeResult:
        yield MapGrid(id="grid")
        yield HeatMap(id="map")

    def on_map_grid_chosen(self, message: MapGrid.Chosen) -> None:
        self.chosen.append(message.index)


async def test_map_grid_moves_and_chooses_with_keys_and_clicks():
    app = GridApp()
    chosen = app.chosen
    async with app.run_test(size=(40, 20)) as pilot:
        grid = app.query_one(MapGrid)
        grid.styles.height = 10
        maps = [[[float(i + r * c) for c in range(8)] for r in range(8)] for i in range(6)]
        grid.show(maps)
        app.screen.set_focus(grid)
        await pilot.pause()
        cols, ph, pw = grid.layout_now
        assert grid.count == 6 and pw >= 8
        await pilot.press("right")
        assert grid.selected == 1
        await pilot.press("down")
        assert grid.selected == (1 + cols if 1 + cols < 6 else 1)  # no row below: stays
        await pilot.press("end")
        assert grid.selected == 5
        await pilot.press("home", "enter")
        await pilot.pause()
        assert chosen[-1] == 0
        # A click on the second tile selects and chooses it.
        await pilot.click(MapGrid, offset=(pw + 1 + 1, 0))
        await pilot.pause()
        assert grid.selected == 1 and chosen[-1] == 1
        # The selected label is drawn under its tile.
        label_line = grid.render_line((ph + 1) // 2)
        assert "1" in label_line.text
        heat = app.query_one(HeatMap)
        heat.show([[0.0, 1.0], [2.0, 3.0]])
        await pilot.pause()
        assert heat.pixel_size[0] >= 2
        assert HALF in "".join(heat.render_line(y).text for y in range(heat.size.height))
