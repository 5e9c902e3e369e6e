"""Pilot tests of the Explore screen (4): feature maps, the kernel playground, conv1's kernels.

The app runs with the shipped weights and the bundled sample (nothing downloaded); what
the screen shows is checked against core's own numbers for the same image and weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from app_support import options, static_text, tiny_dataset, wait_for
from cnn_tui.core.data import load_sample
from cnn_tui.core.features import feature_maps
from cnn_tui.core.kernels import KERNELS, apply_kernel, learned_kernels
from cnn_tui.core.models import build_model
from cnn_tui.core.paths import default_weights, shipped_weights_dir
from cnn_tui.core.weights import load_model, save_weights
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.explore import ExploreScreen
from cnn_tui.tui.state import CurrentModel
from cnn_tui.tui.widgets.heatmap import HeatMap
from cnn_tui.tui.widgets.map_grid import MapGrid
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Input


@dataclass(frozen=True)
class Picked:
    """What the Predict screen keeps as App.picked_image."""

    pixels: Any
    label: str


def make_app(tmp_path: Path, **kwargs) -> CnnTuiApp:
    return CnnTuiApp(options(tmp_path), **kwargs)


def screen_of(pilot: Pilot) -> ExploreScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ExploreScreen)
    return screen


async def settle(pilot: Pilot) -> None:
    """Let every worker finish and the screen draw what they sent."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_explore(pilot: Pilot) -> ExploreScreen:
    await wait_for(pilot, lambda: pilot.app.session.engine_state == "ready")
    await pilot.press("4")
    screen = screen_of(pilot)
    await wait_for(pilot, lambda: screen.side is not None)
    await settle(pilot)
    return screen


def sample_image(index: int = 0) -> torch.Tensor:
    return load_sample().val.images[index]


def shipped_model():
    return load_model(default_weights())[0]


def test_key_4_opens_the_explore_screen():
    assert CnnTuiApp.MODES["explore"] is ExploreScreen


async def test_feature_maps_of_every_layer_step_with_brackets(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        grid = screen.query_one("#maps-grid", MapGrid)
        head = static_text(pilot, "#maps-head")
        assert "1/6 conv1" in head and "(16, 32, 32)" in head
        assert "net from birds_vs_airplanes.pt (shipped)" in head
        assert grid.count == 16
        assert "sample val #0" in static_text(pilot, "#explore-tabs")

        # The numbers are core's, for the same image and weights.
        expected = feature_maps(shipped_model(), sample_image(), precise=True)
        conv1 = screen.side.layers[0]
        assert conv1.value_range == pytest.approx(expected[0].value_range)
        assert conv1.maps[5][10] == pytest.approx(expected[0].maps[5, 10].tolist())
        lo, hi = expected[0].value_range
        assert f"range {lo:.3g} … {hi:.3g}" in head

        shapes = []
        for _ in range(6):
            shapes.append((screen.side.layers[screen.layer_index].name, grid.count))
            await pilot.press("]")
        assert shapes == [
            ("conv1", 16),
            ("act1", 16),
            ("pool1", 16),
            ("conv2", 8),
            ("act2", 8),
            ("pool2", 8),
        ]
        assert screen.layer_index == 0  # wrapped round
        await pilot.press("[")
        assert "6/6 pool2" in static_text(pilot, "#maps-head")
        assert "(8, 8, 8)" in static_text(pilot, "#maps-head")


async def test_a_channel_is_picked_with_the_arrows_and_shown_large(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        grid = screen.query_one("#maps-grid", MapGrid)
        assert screen.focused is grid
        await pilot.press("right", "right")
        assert screen.channel == 2
        cols = grid.layout_now[0]
        await pilot.press("down")
        assert screen.channel == 2 + cols
        title = static_text(pilot, "#detail-title")
        assert f"conv1 channel {2 + cols} of 16 · 32x32" in title
        lo, hi = screen.side.layers[0].ranges[2 + cols]
        assert f"values {lo:.3g} … {hi:.3g}" in static_text(pilot, "#detail-bar")
        # 80 columns: the large view replaces the grid (z, or Enter), Escape goes back.
        detail = screen.query_one("#maps-detail")
        assert not detail.display or detail.region.width == 0
        await pilot.press("enter")
        await pilot.pause()
        assert screen.has_class("-zoom")
        assert detail.region.width > 60
        big = screen.query_one("#detail-map", HeatMap)
        assert big.pixel_size == (32, 32)
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.has_class("-zoom")
        assert grid.region.width > 60
        # Colours over the whole layer's range instead of each channel's.
        await pilot.press("r")
        assert "colours per layer" in static_text(pilot, "#maps-head")


async def test_wide_terminals_show_grid_and_channel_side_by_side(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explore(pilot)
        grid = screen.query_one("#maps-grid", MapGrid)
        detail = screen.query_one("#maps-detail")
        assert grid.region.width > 40 and detail.region.width > 30
        assert grid.region.right <= detail.region.x
        assert grid.layout_now[1] > 10  # bigger tiles than at 80x24
        assert screen.query_one("#detail-map", HeatMap).pixel_size[0] > 32


async def test_kernel_playground_switches(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert screen.query_one(ContentSwitcher).current == "kernels"
        image = sample_image()

        def shown_range() -> str:
            return static_text(pilot, "#kp-out-title")

        # The chapter's vertical edge first, padding 1, no pool.
        expected = apply_kernel(image, KERNELS["vertical edge"], precise=True)
        lo, hi = expected.value_range
        assert shown_range() == f"output 32x32 · {lo:.3g} … {hi:.3g}"
        assert static_text(pilot, "#kp-message") == "(1,3,32,32) → conv 3x3 pad 1 → (1,1,32,32)"
        assert "-1    0    1" in static_text(pilot, "#kp-kernel")
        assert screen.query_one("#kp-in", HeatMap).pixel_size == (32, 32)
        assert screen.query_one("#kp-out", HeatMap).pixel_size == (32, 32)

        await pilot.press("p")  # no padding
        await settle(pilot)
        assert shown_range().startswith("output 30x30")
        assert screen.query_one("#kp-out", HeatMap).pixel_size == (30, 30)
        await pilot.press("o")  # max pool 2
        await settle(pilot)
        assert shown_range().startswith("output 15x15")
        assert static_text(pilot, "#kp-message").endswith("→ max pool 2 → (1,1,15,15)")
        assert screen.query_one("#kp-out", HeatMap).pixel_size == (15, 15)
        await pilot.press("p")  # padding again: 32 -> 16
        await settle(pilot)
        assert shown_range().startswith("output 16x16")
        await pilot.press("o")  # average pool
        await settle(pilot)
        expected = apply_kernel(image, KERNELS["vertical edge"], pool="avg", precise=True)
        lo, hi = expected.value_range
        assert shown_range() == f"output 16x16 · {lo:.3g} … {hi:.3g}"
        await pilot.press("o")  # no pool
        await settle(pilot)
        assert shown_range().startswith("output 32x32")

        # ] steps to the next kernel: the horizontal edge, then sharpen...
        await pilot.press("]")
        await settle(pilot)
        assert screen.choice == "horizontal edge"
        expected = apply_kernel(image, KERNELS["horizontal edge"], precise=True)
        lo, hi = expected.value_range
        assert shown_range() == f"output 32x32 · {lo:.3g} … {hi:.3g}"
        await pilot.press("[", "[")
        await settle(pilot)
        assert screen.choice == "blur"
        assert " 1/9  1/9  1/9\n" in static_text(pilot, "#kp-kernel")
        # s: the input in 0..1 instead of normalised.
        await pilot.press("s")
        await settle(pilot)
        expected = apply_kernel(image, KERNELS["blur"], scale="unit", precise=True)
        lo, hi = expected.value_range
        assert shown_range() == f"output 32x32 · {lo:.3g} … {hi:.3g}"
        assert "0..1" in static_text(pilot, "#kp-in-title")


async def test_the_mouse_works_too(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        tabs = static_text(pilot, "#explore-tabs")
        await pilot.click("#explore-tabs", offset=(tabs.index("k Kernels") + 2, 0))
        await settle(pilot)
        assert screen.query_one(ContentSwitcher).current == "kernels"
        choices = static_text(pilot, "#kp-choices")
        await pilot.click("#kp-choices", offset=(choices.index("sharpen") + 3, 0))
        await settle(pilot)
        assert screen.choice == "sharpen"
        options = static_text(pilot, "#kp-options")
        await pilot.click("#kp-options", offset=(options.index("o none") + 2, 0))
        await settle(pilot)
        assert screen.pool == "max"
        assert static_text(pilot, "#kp-out-title").startswith("output 16x16")
        await pilot.click("#kp-options", offset=(options.index("p padding") + 2, 0))
        await settle(pilot)
        assert not screen.padding
        tabs = static_text(pilot, "#explore-tabs")
        await pilot.click("#explore-tabs", offset=(tabs.index("l Learned") + 2, 0))
        await settle(pilot)
        grid = screen.query_one("#ln-grid", MapGrid)
        _, _, pw = grid.layout_now
        await pilot.click("#ln-grid", offset=(pw + 2, 0))  # the second tile: to the playground
        await settle(pilot)
        assert screen.choice == "learned" and screen.learned_index == 1
        assert screen.query_one(ContentSwitcher).current == "kernels"


async def test_typed_kernel_is_checked_at_the_field(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        await pilot.press("k", "t")
        field = screen.query_one("#kp-typed", Input)
        assert screen.focused is field
        assert field.value == "-1 0 1; -1 0 1; -1 0 1"  # the shown kernel, to edit
        field.value = ""
        await pilot.press(*"1 2 3 4 5")  # digits go into the field, not to the screen keys
        await pilot.pause()
        assert app.current_mode == "explore"
        assert "exactly nine numbers, got 5" in static_text(pilot, "#kp-message")
        assert field.has_class("-invalid")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.choice == "vertical edge"  # refused: nothing changed
        await pilot.press(*" 6 7 8 x")
        await pilot.pause()
        assert "'x' is not a number" in static_text(pilot, "#kp-message")
        await pilot.press("backspace", "9", "enter")
        await settle(pilot)
        assert screen.choice == "typed"
        assert screen.typed == ((1, 2, 3), (4, 5, 6), (7, 8, 9))
        assert screen.focused is None  # Enter leaves the field
        expected = apply_kernel(sample_image(), [[1, 2, 3], [4, 5, 6], [7, 8, 9]], precise=True)
        lo, hi = expected.value_range
        assert static_text(pilot, "#kp-out-title") == f"output 32x32 · {lo:.3g} … {hi:.3g}"
        assert "typed" in static_text(pilot, "#kp-kernel")
        # Escape leaves the field without applying.
        await pilot.press("t")
        await pilot.press("escape")
        assert screen.focused is None


async def test_learned_kernels_as_tiles_and_in_the_playground(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        await pilot.press("l")
        await settle(pilot)
        grid = screen.query_one("#ln-grid", MapGrid)
        assert screen.focused is grid
        assert grid.count == 16
        assert "conv1: 16 kernels of 3x3" in static_text(pilot, "#ln-head")
        kernels = learned_kernels(shipped_model())
        assert screen.side.kernel_tiles[3] == [
            [tuple(p) for p in row] for row in kernels.tiles()[3].tolist()
        ]
        await pilot.press("right", "right", "right")
        await settle(pilot)
        assert screen.learned_index == 3
        # Applied to the image with its bias it is the model's own conv1 channel 3.
        conv1 = feature_maps(shipped_model(), sample_image(), precise=True)[0]
        lo, hi = conv1.channel_range(3)
        assert static_text(pilot, "#ln-out-title") == (
            f"#3 applied (= conv1 channel 3) · {lo:.3g} … {hi:.3g}"
        )
        await pilot.press("u")
        await settle(pilot)
        assert screen.query_one(ContentSwitcher).current == "kernels"
        assert screen.choice == "learned"
        assert "conv1 #3" in static_text(pilot, "#kp-choices")
        assert static_text(pilot, "#kp-out-title") == f"output 32x32 · {lo:.3g} … {hi:.3g}"
        # The playground's switches apply to it too.
        await pilot.press("o")
        await settle(pilot)
        assert static_text(pilot, "#kp-out-title").startswith("output 16x16")


async def test_the_image_picked_on_predict_is_used(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        generator = np.random.default_rng(5)
        pixels = generator.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        app.session.picked_image = Picked(pixels, "validation #7 (bird)")
        await pilot.press("1", "4")  # leave and come back: the screen looks again
        await wait_for(pilot, lambda: screen.picture.key[0] == "picked")
        await settle(pilot)
        assert "picked: validation #7 (bird)" in static_text(pilot, "#explore-tabs")
        chw = torch.from_numpy(pixels).permute(2, 0, 1).contiguous()
        expected = feature_maps(shipped_model(), chw, precise=True)[0]
        assert screen.side.layers[0].value_range == pytest.approx(expected.value_range)
        # i goes back to the validation images, and on through them.
        await pilot.press("i")
        await wait_for(pilot, lambda: screen.picture.key[0] == "index")
        await settle(pilot)
        assert "sample val #0" in static_text(pilot, "#explore-tabs")
        await pilot.press("i")
        await wait_for(pilot, lambda: screen.picture.key == ("index", 1))
        await settle(pilot)
        assert "sample val #1" in static_text(pilot, "#explore-tabs")
        expected = feature_maps(shipped_model(), sample_image(1), precise=True)[0]
        assert screen.side.layers[0].value_range == pytest.approx(expected.value_range)
        await pilot.press("I")  # back one
        await wait_for(pilot, lambda: screen.picture.key == ("index", 0))
        # A new pick is used again.
        app.session.picked_image = Picked(pixels.copy(), "cat.png")
        screen.sync()
        await wait_for(pilot, lambda: "cat.png" in screen.picture.label)


async def test_the_command_palette_lists_the_screens_actions(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        commands = {command.title: command for command in app.get_system_commands(screen)}
        assert "Explore: zoom the channel" in commands
        assert "Kernels: padding" not in commands  # only the shown view's actions
        await commands["Explore: kernel playground"].callback()
        await settle(pilot)
        assert screen.query_one(ContentSwitcher).current == "kernels"
        commands = {command.title: command for command in app.get_system_commands(screen)}
        await commands["Kernels: pooling"].callback()
        await settle(pilot)
        assert screen.pool == "max"


async def test_images_of_the_apps_own_data(tmp_path):
    app = make_app(tmp_path, dataset=tiny_dataset(8, 4))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        assert screen.picture.label.startswith("data val #0 (")
        assert torch.equal(screen.picture.pixels, app.session.dataset.val.images[0])


async def test_a_new_current_model_is_explored(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explore(pilot)
        depth = shipped_weights_dir() / "net-depth.pt"
        app.session.set_current_model(CurrentModel(depth, {"model": "net-depth"}, "file"))
        await wait_for(pilot, lambda: screen.side.label.startswith("net-depth"))
        await settle(pilot)
        assert len(screen.side.layers) == 9
        assert "1/9 conv1" in static_text(pilot, "#maps-head")
        assert screen.query_one("#maps-grid", MapGrid).count == 32
        await pilot.press("l")
        await settle(pilot)
        assert screen.query_one("#ln-grid", MapGrid).count == 32
        assert "conv1: 32 kernels" in static_text(pilot, "#ln-head")


async def test_a_model_without_convolutions_says_so(tmp_path):
    path = save_weights(
        tmp_path / "fc.pt", build_model("fc-small"), {"model": "fc-small", "classes": ["a", "b"]}
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        app.session.set_current_model(CurrentModel(path, {"model": "fc-small"}, "file"))
        await wait_for(pilot, lambda: screen.side.label.startswith("fc-small"))
        await settle(pilot)
        assert "no convolution or pooling layer" in static_text(pilot, "#maps-head")
        assert screen.query_one("#maps-grid", MapGrid).count == 0
        await pilot.press("l")
        assert "no convolution" in static_text(pilot, "#ln-head")
        assert not screen.check_action("use_learned", ())
        await pilot.press("k")
        await settle(pilot)
        assert static_text(pilot, "#kp-out-title").startswith("output 32x32")  # still works


async def test_a_weights_file_that_cannot_be_read_is_one_line(tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a weights file")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_explore(pilot)
        before = screen.side
        app.session.set_current_model(CurrentModel(bad, {}, "file"))
        await wait_for(pilot, lambda: "cannot show this" in screen._status)
        assert "broken.pt" in screen._status and "\n" not in screen._status
        assert screen.side is before  # what was shown stays
        await pilot.press("k", "o")
        await settle(pilot)
        assert static_text(pilot, "#kp-out-title").startswith("output 16x16")


async def test_the_screen_waits_for_the_engine(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.session.engine_state == "ready")
        app.session.engine_state = "loading"
        await pilot.press("4")
        screen = screen_of(pilot)
        await pilot.pause()
        assert "loading the engine" in static_text(pilot, "#maps-head")
        assert screen.side is None
        app.session.engine_state = "ready"
        screen.sync()
        await wait_for(pilot, lambda: screen.side is not None)
