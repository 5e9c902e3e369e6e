"""The Model screen through the keyboard: layers, the model picker, the comparison, the
flatten lesson, loading (file dialog, typed paths, legacy format, the book's checkpoint,
files that do not fit) and atomic saving with a question before overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from app_support import static_text, wait_for
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import read_state_dict, save_weights
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.model import ModelScreen
from cnn_tui.tui.widgets.file_picker import FilePickerScreen, FilteredTree
from screen_support import make_model_app as make_app
from screen_support import net_weights, open_model_screen, type_path
from textual.widgets import DataTable, Input, Select, TabbedContent


def table_rows(screen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run in tmp_path, so the tests type short relative paths, as users often do."""
    monkeypatch.chdir(tmp_path)


async def test_layers_of_net_with_shares_totals_and_the_books_list(tmp_path):
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        rows = {row[0]: row for row in table_rows(screen, "#layer-table")}
        assert list(rows) == [
            "conv1", "act1", "pool1", "conv2", "act2", "pool2", "flatten", "fc1", "act3", "fc2",
        ]  # fmt: skip
        assert rows["conv1"][1:] == [
            "Conv2d", "(1, 16, 32, 32)", "448", "2.5%", "3x3", "458,752", "yes",
        ]  # fmt: skip
        assert rows["fc1"][3:5] == ["16,416", "90.7%"]
        assert rows["pool2"][2] == "(1, 8, 8, 8)" and rows["flatten"][2] == "(1, 512)"
        assert rows["act1"][-1] == "-"
        totals = static_text(pilot, "#layer-totals")
        assert "18,090 parameters" in totals and "772,194 mult-adds" in totals
        assert "18090, [432, 16, 1152, 8, 16384, 32, 64, 2]" in totals
        assert "current weights" in totals
        assert "net from w.pt (file)" in static_text(pilot, "#model-weights")


async def test_the_picker_shows_every_model_and_switches_the_table(tmp_path):
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        picker = screen.query_one("#model-pick", Select)
        from cnn_tui.core.registry import MODELS

        assert [value for _, value in picker._options] == list(MODELS)
        await pilot.press("m")  # focus the picker
        assert screen.focused is picker
        await pilot.press("enter", "down", "enter")  # open it, next model, choose
        assert picker.value == "net-width"
        await wait_for(pilot, lambda: "38,386 parameters" in static_text(pilot, "#layer-totals"))
        rows = table_rows(screen, "#layer-table")
        assert rows[0][:3] == ["conv1", "Conv2d", "(1, 32, 32, 32)"]
        assert "current weights" not in static_text(pilot, "#layer-totals")


async def test_comparison_lists_every_model_with_scores_and_enter_shows_its_layers(tmp_path):
    run = tmp_path / "runs" / "20260101-fc-small"
    run.mkdir(parents=True)
    save_weights(
        run / "weights.pt",
        build_model("fc-small"),
        {
            "model": "fc-small",
            "num_classes": 2,
            "train_accuracy": 0.99,
            "val_accuracy": 0.8135,
            "data_source": "sample",  # trained on the bundled sample: marked so
            "train_images": 500,
        },
    )
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        await pilot.press("c")
        assert screen.query_one(TabbedContent).active == "compare"
        await wait_for(pilot, lambda: screen.query_one("#models-table", DataTable).row_count == 9)
        rows = {row[0]: row for row in table_rows(screen, "#models-table")}
        assert rows["net"][1:3] == ["18,090", "772,194"]
        sample = f"sample {run.name}"
        assert rows["fc-small"][1:7] == ["1.57M", "1.57M", "0.990", "0.814", "1.00/0.82", sample]
        assert rows["net"][6] == "shipped"  # the shipped weights' sidecar has the scores
        assert rows["fc-large"][3:5] == ["-", "-"]
        assert str(run / "weights.pt") not in static_text(pilot, "#models-note")
        table = screen.query_one("#models-table", DataTable)
        await pilot.press(*["down"] * 7)  # fc-small
        note = static_text(pilot, "#models-note")
        assert f"{run / 'weights.pt'} (trained on the 500-image sample)" in note
        await pilot.press("enter")
        assert screen.query_one(TabbedContent).active == "layers"
        assert screen.query_one("#model-pick", Select).value == "fc-small"
        await wait_for(pilot, lambda: "1,574,402 parameters" in static_text(pilot, "#layer-totals"))
        # u makes a row's best weights the current ones
        await pilot.press("c")
        assert table.cursor_row == 7
        await pilot.press("u")
        await wait_for(
            pilot, lambda: pilot.app.session.current_model.meta.get("model") == "fc-small"
        )
        assert pilot.app.session.current_model.path == run / "weights.pt"
        assert pilot.app.session.current_model.origin == "run"
        weights = "weights: fc-small, trained on the 500-image sample, from weights.pt (run)"
        assert static_text(pilot, "#model-weights") == weights


async def test_the_flatten_lesson_shows_the_caught_error_and_the_shapes(tmp_path):
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: "RuntimeError" in static_text(pilot, "#lesson-without"))
        without = static_text(pilot, "#lesson-without")
        assert "mat1 and mat2 shapes cannot be multiplied (64x8 and 512x32)" in without
        assert "pool2 MaxPool2d(2)          → (1, 8, 8, 8)" in without
        assert "fc1 Linear(512, 32)         ✗" in without
        assert "(4096x8 and 512x32)" in without  # a batch of 64, also measured
        with_flatten = static_text(pilot, "#lesson-with")
        assert "flatten Flatten             → (1, 512)" in with_flatten
        assert "fc2 Linear(32, 2)           → (1, 2)" in with_flatten
        assert screen.focused is screen.query_one("#lesson")


async def test_load_a_legacy_format_file_through_the_dialog(tmp_path):
    """torch.save(..., _use_new_zipfile_serialization=False): the pre-1.6 format."""
    model = build_model("net")
    legacy = tmp_path / "legacy" / "old_net.pt"
    legacy.parent.mkdir()
    torch.save(model.state_dict(), legacy, _use_new_zipfile_serialization=False)
    assert legacy.read_bytes()[:2] != b"PK"
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        heard = []
        pilot.app.session.current_model_changed.subscribe(screen, heard.append)
        await pilot.press("l")
        await type_path(pilot, legacy)
        await wait_for(pilot, lambda: pilot.app.session.current_model.path == legacy)
        assert isinstance(pilot.app.screen, ModelScreen)
        current = pilot.app.session.current_model
        assert current.meta["model"] == "net" and current.origin == "file"
        assert heard == [current]
        assert "loaded old_net.pt: net, 2 classes" in static_text(pilot, "#model-message")
        assert "net from old_net.pt (file)" in static_text(pilot, "#model-weights")


async def test_the_dialogs_tree_lists_weights_files_and_enter_loads_one(tmp_path):
    folder = tmp_path / "weights"
    other = net_weights(folder, "another.pth", model="net-depth", seed=3)
    (folder / "notes.txt").write_text("not weights")
    (folder / "sub").mkdir()
    async with make_app(tmp_path).run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        await pilot.press("l")
        dialog = pilot.app.screen
        assert isinstance(dialog, FilePickerScreen)
        tree = dialog.query_one(FilteredTree)
        assert Path(tree.path) == folder  # starts beside the current weights
        await wait_for(pilot, lambda: len(tree.root.children) > 0)
        shown = [node.data.path.name for node in tree.root.children]
        assert shown == ["sub", "another.pth", "w.pt"]  # no .json, no .txt
        await pilot.press("down", "down", "enter")  # root's children: sub, another.pth
        await wait_for(pilot, lambda: pilot.app.session.current_model.path == other)
        assert pilot.app.session.current_model.meta["model"] == "net-depth"
        screen = pilot.app.screen
        assert screen.query_one("#model-pick", Select).value == "net-depth"
        await wait_for(pilot, lambda: "16,130 parameters" in static_text(pilot, "#layer-totals"))


@pytest.mark.parametrize("kind", ["junk", "wrong shapes", "missing", "code"])
async def test_a_file_that_does_not_fit_says_why_and_keeps_the_current_weights(tmp_path, kind):
    bad = tmp_path / "bad.pt"
    if kind == "junk":
        bad.write_bytes(b"this is not a weights file")
        expected = "not a PyTorch weights file"
    elif kind == "wrong shapes":
        state = build_model("net").state_dict()
        state["fc1.weight"] = torch.zeros(32, 256)
        torch.save(state, bad)
        expected = "fc1.weight (32, 256) vs (32, 512)"
    elif kind == "missing":
        expected = "no such file"
    else:
        import pickle

        class Evil:
            def __reduce__(self):
                return (print, ("ran",))

        bad.write_bytes(pickle.dumps(Evil(), protocol=2))
        expected = "refused"
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        before = app.session.current_model
        await pilot.press("l")
        if kind == "missing":  # the dialog itself refuses a missing file
            await type_path(pilot, bad)
            assert expected in static_text(pilot, "#picker-error")
            await pilot.press("escape")
            assert isinstance(app.screen, ModelScreen) and app.session.current_model is before
            return
        await type_path(pilot, bad)
        await wait_for(pilot, lambda: app.screen.busy == "")
        message = static_text(pilot, "#model-message")
        assert expected in message and "current weights are unchanged" in message
        assert app.session.current_model is before
        assert "net from w.pt (file)" in static_text(pilot, "#model-weights")


async def test_the_books_checkpoint_is_found_beside_the_data(tmp_path):
    data = tmp_path / "data" / "cifar10-jpeg"
    data.mkdir(parents=True)
    reference = tmp_path / "data" / "reference"
    reference.mkdir()
    book = reference / "book_birds_vs_airplanes.pt"
    torch.save(build_model("net").state_dict(), book, _use_new_zipfile_serialization=False)
    app = make_app(tmp_path, data=str(data))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: app.session.current_model.path == book)
        assert app.session.current_model.origin == "book"
        assert "book_birds_vs_airplanes.pt (book)" in static_text(pilot, "#model-weights")


async def test_no_books_checkpoint_says_where_it_looked(tmp_path):
    data = tmp_path / "empty-data"
    data.mkdir()
    app = make_app(tmp_path, data=str(data))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        before = app.session.current_model
        await pilot.press("b")
        assert "checkpoint" in static_text(pilot, "#model-message")
        assert app.session.current_model is before


async def test_save_writes_atomically_and_asks_before_overwriting(tmp_path):
    app = make_app(tmp_path)
    target = tmp_path / "out" / "saved.pt"
    target.parent.mkdir()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, FilePickerScreen)
        assert dialog.query_one("#picker-path", Input).value.endswith("net-weights.pt")
        await type_path(pilot, target)
        await wait_for(pilot, lambda: "saved" in static_text(pilot, "#model-message"))
        assert f"saved {target} (and saved.json)" in static_text(pilot, "#model-message")
        source = read_state_dict(app.session.current_model.path)
        for key, value in read_state_dict(target).items():
            assert torch.equal(value, source[key])
        assert json.loads(target.with_suffix(".json").read_text())["model"] == "net"
        assert [p.name for p in target.parent.iterdir()] != [] and not any(
            p.name.endswith(".tmp") for p in target.parent.iterdir()
        )
        # again: asks first; "Keep it" leaves the file alone
        target.write_bytes(b"keep me")
        await pilot.press("s")
        await type_path(pilot, target)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        assert target.read_bytes() == b"keep me"
        assert "not saved" in static_text(pilot, "#model-message")
        # and "Replace" replaces it
        await pilot.press("s")
        await type_path(pilot, target)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: target.read_bytes()[:2] == b"PK")
        assert app.screen is screen


async def test_save_into_a_missing_folder_is_refused_in_the_dialog(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        await pilot.press("s")
        await type_path(pilot, tmp_path / "nope" / "x.pt")
        assert "does not exist" in static_text(pilot, "#picker-error")
        assert isinstance(app.screen, FilePickerScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ModelScreen)
        assert not (tmp_path / "nope").exists()


async def test_without_weights_save_says_what_to_do(tmp_path):
    app = make_app(tmp_path, weights=str(tmp_path / "missing.pt"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        assert app.session.current_model is None
        assert "none yet" in static_text(pilot, "#model-weights")
        await pilot.press("s")
        assert "no current weights" in static_text(pilot, "#model-message")
        assert isinstance(app.screen, ModelScreen)


async def test_model_screen_actions_are_in_the_command_palette(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        titles = [command.title for command in app.get_system_commands(screen)]
        for title in ("Model: load weights", "Model: save weights", "Model: pick a model"):
            assert title in titles
        assert "Model: load the book's checkpoint" in titles


async def test_the_lab_measures_as_typed_refuses_at_the_field_and_sends_the_train_form(
    tmp_path,
):
    """The chapter's exercise 1 in the Lab: the totals the issue pins, a refusal beside
    its field, and t giving the Train form a net of that architecture."""
    from cnn_tui.core.architecture import Architecture
    from cnn_tui.tui.screens.train import TrainScreen
    from cnn_tui.tui.widgets.train_form import TrainForm

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        await pilot.press("a")  # the Lab, its kernel field focused (and selected)

        def totals() -> str:
            return static_text(pilot, "#lab-totals")

        await wait_for(pilot, lambda: "18,090 parameters" in totals())
        await pilot.press("5")
        await wait_for(pilot, lambda: "20,906 parameters" in totals())
        assert "(+2,816)" in totals() and "5x5 kernels" in totals()
        assert ["conv1", "Conv2d", "(1, 16, 32, 32)", "5x5", "1,216"] in table_rows(
            screen, "#lab-table"
        )
        await pilot.press("backspace", "1", ",", "3")
        await wait_for(pilot, lambda: "17,034 parameters" in totals())
        assert "(-1,056)" in totals()
        channels = screen.query_one("#lab-channels", Input)
        channels.focus()
        channels.value = "32,16"
        await wait_for(pilot, lambda: "1x3 kernels, 32 and 16" in totals())
        kernel = screen.query_one("#lab-kernel", Input)
        kernel.value = "3"
        await wait_for(pilot, lambda: "38,386 parameters" in totals())
        kernel.focus()
        kernel.value = "4"
        await pilot.pause()
        assert "kernel size must be odd, from 1 to 15, not 4" in static_text(
            pilot, "#lab-kernel-note"
        )
        assert "refused" in totals()
        await pilot.press("enter", "t")  # Enter leaves the field; t, refused, stays
        assert screen.focused is None and isinstance(app.screen, ModelScreen)
        kernel.value = "5"
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        form = app.screen.query_one(TrainForm)
        await pilot.pause()
        wanted = Architecture(kernel_size=(5, 5), channels=(32, 16))
        config = form.config(None)
        assert config is not None and config.model == "net" and config.architecture == wanted
        assert "5x5 kernels, 32 and 16 channels, tanh" in static_text(pilot, "#architecture")
        await pilot.press("n")  # back to the book's Net
        config = form.config(None)
        assert config is not None and config.architecture is None
        assert not form.query_one("#architecture").display


async def test_capacity_column_shows_the_engines_figures_and_keeps_them(tmp_path, monkeypatch):
    """e measures each shipped model's median smallest eps (the real engine, on 8 made-up
    images); coming back shows them as they were, a new session finds them in the cache
    folder, and a weights file that changed is measured again."""
    from app_support import options, tiny_dataset
    from cnn_tui.core import paths, robustness
    from cnn_tui.core.predict import Predictor
    from cnn_tui.tui.app import CnnTuiApp
    from cnn_tui.tui.session.capacity import Capacity

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("birds_vs_airplanes", "net-depth"):
        for suffix in (".pt", ".json"):
            source = paths.shipped_weights_dir() / (name + suffix)
            (shipped / (name + suffix)).write_bytes(source.read_bytes())
    monkeypatch.setattr(paths, "shipped_weights_dir", lambda: shipped)
    data = tiny_dataset(8, 8)
    expected = {}
    for model, name in (("net", "birds_vs_airplanes"), ("net-depth", "net-depth")):
        images = robustness.fixed_set(data.val, 2)
        needed = robustness.smallest_levels(
            Predictor.from_weights(shipped / f"{name}.pt").model, images
        )
        expected[model] = f"{int(needed.sort().values[(len(needed) - 1) // 2])}/255"

    def app() -> CnnTuiApp:
        return CnnTuiApp(options(tmp_path, weights=str(net_weights(tmp_path / "w"))), dataset=data)

    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_model_screen(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: "2 not measured yet" in static_text(pilot, "#capacity-note"))
        note = static_text(pilot, "#capacity-note")
        assert "flip eps (shipped): median eps flipping 8 made-up test data val images" in note
        rows = {row[0]: row for row in table_rows(screen, "#models-table")}
        assert rows["net"][7] == "?" and rows["fc-small"][7] == "-"
        await pilot.press("e")
        await wait_for(
            pilot, lambda: "measured every shipped model" in static_text(pilot, "#model-message")
        )
        rows = {row[0]: row for row in table_rows(screen, "#models-table")}
        assert {model: rows[model][7] for model in expected} == expected
        assert "Easier with less or more capacity?" in static_text(pilot, "#capacity-note")
        assert "16,130-18,090 parameters" in static_text(pilot, "#capacity-note")
        await pilot.press("1", "2")  # away and back: shown as it was
        rows = {row[0]: row for row in table_rows(screen, "#models-table")}
        assert {model: rows[model][7] for model in expected} == expected

    measured = []

    def measure(path, images, classes, on_progress=None):
        measured.append(path.name)

    # a new session finds them in the cache folder, but for a file that has changed
    monkeypatch.setattr(robustness, "measure_weights", measure)
    torch.manual_seed(1)
    torch.save(build_model("net-depth").state_dict(), shipped / "net-depth.pt")
    table = Capacity(lambda: data).table(measure=True)
    assert f"{round(table.figures['net'].median_eps * 255)}/255" == expected["net"]
    assert measured == ["net-depth.pt"]
