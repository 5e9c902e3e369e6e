"""The Predict screen's Fooled tab: pictures of classes the weights do not know that they
are sure of, as core's find_fooled finds them, at the threshold `t` steps through; and the
line saying why there are none where the data hold no other class."""

from __future__ import annotations

import torch
from app_support import options, static_text, tiny_dataset, wait_for
from cnn_tui.core.data import DataSet, Split
from cnn_tui.core.fooled import find_fooled
from cnn_tui.core.paths import default_weights
from cnn_tui.core.predict import Predictor
from cnn_tui.core.weights import read_sidecar
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.state import CurrentModel
from screen_support import open_predict, weights_file
from textual.widgets import DataTable, TabbedContent

CLASSES = ["airplane", "bird", "cat", "frog"]


def four_classes() -> DataSet:
    """Plain colours with a little noise: the shipped weights are sure of some (7 of the 24
    cats and frogs with at least 0.90, 4 with 0.95, 2 with 0.99)."""
    generator = torch.Generator().manual_seed(0)
    colours = torch.randint(0, 256, (48, 3, 1, 1), dtype=torch.uint8, generator=generator)
    noise = torch.randint(-20, 21, (48, 3, 32, 32), generator=generator)
    images = (colours.int() + noise).clamp(0, 255).to(torch.uint8)
    val = Split(images, torch.arange(48) % 4)
    return DataSet("made-up four classes", "memory", CLASSES, val, val, "memory")


async def test_fooled_rows_are_find_fooleds_at_each_threshold_and_no_data_says_why(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("CNN_TUI_GRAPHICS", "halfcell")
    data = four_classes()
    predictor = Predictor.from_weights(default_weights())
    app = CnnTuiApp(options(tmp_path, weights=str(default_weights())), dataset=data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        table = screen.query_one("#fooled-table", DataTable)
        await pilot.press("u")
        assert screen.query_one(TabbedContent).active == "fooled"
        await wait_for(pilot, lambda: table.row_count > 0)  # searched once, in a worker
        for minimum, count in ((0.95, 4), (0.99, 2), (0.90, 7), (0.95, 4)):  # t refilters
            found = find_fooled(predictor, data.val, CLASSES, minimum).found
            assert len(found) == count
            shown = [[str(cell) for cell in table.get_row_at(i)] for i in range(count)]
            expected = [
                [str(f.index), f.true_class, f.label, f"{f.probability:.6f}"] for f in found
            ]
            assert shown == expected
            text = static_text(pilot, "#fooled-status")
            assert f"{count} of 24 images of the 2 other classes read ≥ {minimum:.0%}" in text
            assert "data: made-up four classes" in static_text(pilot, "#fooled-data")
            await pilot.press("t")
        # the highlighted row is shown large and becomes the picked image
        await pilot.press("down")
        second = find_fooled(predictor, data.val, CLASSES, 0.99).found[1]
        title = f"validation #{second.index} ({second.true_class})"
        assert static_text(pilot, "#picture-title") == title
        assert app.session.picked_image.true_class == second.true_class

        # weights changed while the tab is shown, and data of their two classes only
        app.session.dataset = tiny_dataset()
        other = weights_file(tmp_path / "other")
        app.session.set_current_model(CurrentModel(other, read_sidecar(other), "file"))
        await wait_for(pilot, lambda: "does not know" in static_text(pilot, "#fooled-status"))
        assert static_text(pilot, "#fooled-status").startswith(
            "the data hold no image of a class the model does not know (it knows airplane, "
            "bird; the data have airplane, bird): `cnn-tui fooled` downloads CIFAR-10 into "
        )
        assert not table.display and table.row_count == 0
