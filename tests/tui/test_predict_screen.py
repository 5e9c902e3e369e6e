"""The Predict screen through the keyboard, on made-up data and images the tests make:
the validation browser and its filters, files and bad files, a whole folder in a worker
(stopped, and with the rest of the app usable), confusion and top losses, half blocks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from app_support import burst, options, ready, static_text, tiny_dataset, wait_for
from cnn_tui.core.predict import Predictor
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.train import TrainScreen
from cnn_tui.tui.state import PickedImage
from cnn_tui.tui.widgets.file_picker import FilePickerScreen
from cnn_tui.tui.widgets.picture import PicturePanel, ProbabilityBars
from made_images import write_bad_images, write_odd_images
from screen_support import make_predict_app as make_app
from screen_support import open_predict, panel_text, status, weights_file
from textual.events import Paste
from textual.widgets import DataTable, Input, TabbedContent


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run in tmp_path (typed paths are short), with half blocks (the same on any terminal)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CNN_TUI_GRAPHICS", "halfcell")


def rows(screen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_validation_list_shows_true_predicted_and_confidence(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        results = screen.results
        assert len(results) == 24 and "accuracy" in status(pilot)
        # the weights are named, and what they can answer stays said on every tab
        assert static_text(pilot, "#current-weights") == "weights: net from w.pt (file)"
        known = "This model knows only airplane and bird: any picture gets one of the two."
        assert static_text(pilot, "#known-classes") == known
        assert f"accuracy {results.accuracy:.3f}" in status(pilot)
        # the same numbers as the model run by hand
        expected = Predictor.from_weights(app.session.current_model.path).predict(
            app.session.dataset.val.images
        )
        table = rows(screen, "#val-table")
        assert len(table) == 24 and "24/24" in static_text(pilot, "#val-filters")
        for index, row in enumerate(table[:5]):
            probs = expected[index]
            top = int(probs.argmax())
            true = int(app.session.dataset.val.labels[index])
            assert row[0] == str(index) and row[1] == ["airplane", "bird"][true]
            # the answer with its confidence beside it: `bird 53.3%`
            assert row[2].split() == [["airplane", "bird"][top], f"{float(probs[top]):.1%}"]
            assert row[3] == ("✓" if top == true else "✗")
        # the first image is shown, with bars for both classes
        assert "validation #0" in panel_text(screen)
        bars = screen.query_one(ProbabilityBars)
        assert list(bars.probabilities) == ["airplane", "bird"]
        assert bars.true == table[0][1]
        assert isinstance(app.session.picked_image, PickedImage)
        assert app.session.picked_image.pixels.shape == (32, 32, 3)
        # arrows browse
        await pilot.press("down", "down")
        assert "validation #2" in panel_text(screen)
        assert app.session.picked_image.label.startswith("validation #2")
        assert (
            app.session.picked_image.pixels
            == app.session.dataset.val.images[2].permute(1, 2, 0).numpy()
        ).all()


async def test_a_long_list_is_added_a_page_at_a_time_as_the_cursor_goes_down(tmp_path):
    from cnn_tui.tui.screens.predict import LIST_PAGE

    app = CnnTuiApp(
        options(tmp_path, weights=str(weights_file(tmp_path / "weights"))),
        dataset=tiny_dataset(16, LIST_PAGE + 100),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        table = screen.query_one("#val-table", DataTable)
        assert table.row_count == LIST_PAGE
        assert f"{LIST_PAGE + 100}/{LIST_PAGE + 100}" in static_text(pilot, "#val-filters")
        await pilot.press("ctrl+end")  # the last listed row: the next page comes
        assert table.row_count == LIST_PAGE + 100
        await pilot.press("ctrl+end")
        assert f"validation #{LIST_PAGE + 99}" in panel_text(screen)


async def test_filters_wrong_only_by_class_and_least_confident(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        everything = rows(screen, "#val-table")
        wrong = [row for row in everything if row[3] == "✗"]
        assert wrong, "the made-up data should give some mistakes"
        await pilot.press("w")
        assert rows(screen, "#val-table") == wrong
        assert "wrong ·" in static_text(pilot, "#val-filters")
        await pilot.press("w", "c")  # all again, then true class airplane
        assert rows(screen, "#val-table") == [r for r in everything if r[1] == "airplane"]
        assert "true airplane" in static_text(pilot, "#val-filters")
        await pilot.press("c")
        assert rows(screen, "#val-table") == [r for r in everything if r[1] == "bird"]
        await pilot.press("c")  # back to every class
        assert len(rows(screen, "#val-table")) == 24
        await pilot.press("o")
        shown = rows(screen, "#val-table")
        confidences = [float(r[2].split()[1].rstrip("%")) for r in shown]
        assert confidences == sorted(confidences)
        assert "least sure first" in static_text(pilot, "#val-filters")
        assert f"validation #{shown[0][0]}" in panel_text(screen)
        await pilot.press("o")
        confidences = [float(r[2].split()[1].rstrip("%")) for r in rows(screen, "#val-table")]
        assert confidences == sorted(confidences, reverse=True)


async def test_confusion_matrix_and_most_confident_mistakes(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        await pilot.press("m")
        assert screen.query_one(TabbedContent).active == "mistakes"
        matrix = rows(screen, "#confusion-table")
        results = screen.results
        assert [r[0] for r in matrix] == ["airplane", "bird"]
        assert [[int(v) for v in r[1:3]] for r in matrix] == results.confusion
        assert sum(int(v) for r in matrix for v in r[1:3]) == 24
        losses = rows(screen, "#losses-table")
        wrong = sum(1 for t, p in zip(results.labels, results.predictions, strict=True) if t != p)
        assert len(losses) == min(20, wrong)
        assert all(r[1] != r[2].split()[0] for r in losses)
        values = [float(r[3]) for r in losses]
        assert values == sorted(values, reverse=True)
        assert f"validation #{losses[0][0]}" in panel_text(screen)
        await pilot.press("down")
        if len(losses) > 1:
            assert f"validation #{losses[1][0]}" in panel_text(screen)
        # Enter on a cell lists that cell's images: true airplane, predicted bird
        table = screen.query_one("#confusion-table", DataTable)
        table.focus()
        table.move_cursor(row=0, column=2)
        await pilot.press("enter")
        assert screen.query_one(TabbedContent).active == "validation"
        listed = rows(screen, "#val-table")
        assert len(listed) == results.confusion[0][1]
        assert all(r[1] == "airplane" and r[2].split()[0] == "bird" for r in listed)


async def test_image_files_from_the_tree_and_typed_paths_and_bad_files(tmp_path):
    odd = write_odd_images(tmp_path / "pictures")
    bad = write_bad_images(tmp_path / "pictures")
    (tmp_path / "pictures" / "readme.txt").write_text("not an image")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        await pilot.press("f")
        assert screen.query_one(TabbedContent).active == "files"
        box = screen.query_one("#file-path", Input)
        box.focus()
        await pilot.press(*"pictures", "enter")  # a folder: the tree shows it
        tree = screen.query_one("#file-tree")
        assert Path(tree.path) == tmp_path / "pictures"
        await wait_for(pilot, lambda: len(tree.root.children) > 0)
        names = [node.data.path.name for node in tree.root.children]
        assert "readme.txt" not in names and "gray.png" in names and "notes.jpg" in names
        tree.focus()
        await pilot.press("down")  # the first file: highlighted means classified
        first = names[0]
        await wait_for(pilot, lambda: first in panel_text(screen))
        # typed paths, good and bad; each bad one says why in one line and nothing else
        for kind, path, expected in [
            ("grayscale", odd["grayscale"], "grayscale, copied to 3 channels"),
            ("16-bit", odd["16-bit"], "16-bit, scaled to 8 bits"),
            ("alpha", odd["alpha"], "transparency composited on white"),
            ("animated", odd["animated"], "animated (3 frames)"),
            ("not an image", bad["not an image"], "not an image file"),
            ("truncated", bad["truncated"], "truncated or damaged"),
            ("huge", bad["huge"], "image too large"),
            ("missing", tmp_path / "pictures" / "nope.png", "no such file"),
        ]:
            box.focus()
            box.value = ""
            await pilot.press(*os.path.relpath(path), "enter")
            await wait_for(pilot, lambda e=expected: e in panel_text(screen))
            text = panel_text(screen)
            panel = screen.query_one(PicturePanel)
            if kind in ("grayscale", "16-bit", "alpha", "animated"):
                assert panel.pixels is not None and "→" in text, kind
                assert screen.query_one(ProbabilityBars).probabilities, kind
            else:
                assert panel.pixels is None and "→" not in text, kind
                assert not screen.query_one(ProbabilityBars).probabilities, kind
                assert panel.query_one("#picture-note").has_class("-error")
        # a path typed while the tree has the keys: its / starts it in the field, and its
        # letters (d, m, u, v ... are the screen's keys) go there too
        tree.focus()
        box.value = ""
        await pilot.press(*str(odd["alpha"]), "enter")
        assert box.value == str(odd["alpha"]) and app.focused is box
        await wait_for(pilot, lambda: "transparency composited" in panel_text(screen))
        assert screen.query_one(TabbedContent).active == "files"
        # the same path in one burst (one read over SSH): the keys behind its / were
        # queued for the tree, and reach the field all the same
        tree.focus()
        box.value = ""
        await burst(pilot, str(odd["alpha"]))
        await wait_for(pilot, lambda: box.value == str(odd["alpha"]))
        assert app.focused is box and screen.query_one(TabbedContent).active == "files"
        # a path pasted while the tree has the keys is opened as typed
        tree.focus()
        tree.post_message(Paste(str(odd["grayscale"])))
        await wait_for(pilot, lambda: "grayscale, copied" in panel_text(screen))
        assert box.value == str(odd["grayscale"]) and app.focused is box
        assert app.is_running


async def test_a_file_in_a_class_folder_shows_its_true_class(tmp_path):
    folder = tmp_path / "test" / "bird"
    write_odd_images(folder)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        await pilot.press("f")
        box = screen.query_one("#file-path", Input)
        box.focus()
        await pilot.press(*"test/bird/plain.png", "enter")
        await wait_for(pilot, lambda: "plain.png" in panel_text(screen))
        assert "true bird" in panel_text(screen)
        assert app.session.picked_image.path == str(tmp_path / "test" / "bird" / "plain.png")


async def test_classify_a_whole_folder(tmp_path):
    odd = write_odd_images(tmp_path / "shots")
    write_bad_images(tmp_path / "shots")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, FilePickerScreen)
        dialog = app.screen
        dialog.query_one("#picker-path", Input).value = ""
        await pilot.press(*"shots", "enter")
        await wait_for(pilot, lambda: screen.folder_state == "done")
        assert screen.query_one(TabbedContent).active == "folder"
        table = rows(screen, "#folder-table")
        assert [r[0] for r in table] == sorted(r[0] for r in table) and len(table) == 10
        good = [r for r in table if r[1].split()[0] in ("airplane", "bird")]
        assert len(good) == len(odd)
        # each answer with its confidence, the probability `cnn-tui predict` prints for it
        answers = app.session.predicting.predictor(app.session.current_model).predict_files(
            [str(tmp_path / "shots" / r[0]) for r in good]
        )
        for row, answer in zip(good, answers, strict=True):
            confidence = answer["probabilities"][answer["class"]]
            assert row[1].split() == [answer["class"], f"{confidence:.1%}"]
        errors = {r[0]: r[1] for r in table if r not in good}
        assert "truncated or damaged" in errors["cut.jpg"]
        assert "image too large" in errors["huge.png"]
        summary = static_text(pilot, "#folder-status")
        assert summary.startswith("shots/ 10: ") and "4 unreadable" in summary
        # a row's file is shown large when highlighted
        folder_table = screen.query_one("#folder-table", DataTable)
        folder_table.focus()
        folder_table.move_cursor(row=table.index(good[0]))
        await wait_for(pilot, lambda: good[0][0] in panel_text(screen))


async def test_a_folder_in_a_worker_leaves_the_app_usable_and_x_stops_it(tmp_path, monkeypatch):
    write_odd_images(tmp_path / "many")
    real = Predictor.classify_folder

    def slow(self, folder, **kwargs):  # a slow disk: one file per second
        for answer in real(self, folder, batch_size=1):
            time.sleep(1.0)
            yield answer

    monkeypatch.setattr(Predictor, "classify_folder", slow)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        screen.classify_folder(tmp_path / "many")
        assert screen.folder_state == "running"
        await pilot.press("1")  # the rest of the app answers while the worker runs
        assert isinstance(app.screen, TrainScreen)
        await pilot.press("3")
        assert app.screen is screen
        assert screen.folder_state == "running" and len(screen.folder_rows) < 6
        await wait_for(pilot, lambda: len(screen.folder_rows) >= 1)
        await pilot.press("x")
        assert screen.folder_state == "stopped"
        done = len(screen.folder_rows)
        assert done < 6 and f"stopped after {done} file" in static_text(pilot, "#folder-status")
        await pilot.pause(2.2)
        assert len(screen.folder_rows) == done  # nothing more arrives
        assert not screen.check_action("stop_folder", ())  # x is off (and out of the footer)
        await pilot.press("x")
        assert f"stopped after {done} file" in static_text(pilot, "#folder-status")


async def test_a_missing_folder_typed_in_the_dialog_is_refused_there(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        await pilot.press("d")
        app.screen.query_one("#picker-path", Input).value = ""
        await pilot.press(*"nowhere", "enter")
        assert "no such folder" in static_text(pilot, "#picker-error")
        await pilot.press("escape")
        assert app.screen is screen and screen.folder_state == "idle"


async def test_h_forces_half_blocks_and_back(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_TUI_GRAPHICS", "sixel")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        panel = screen.query_one(PicturePanel)
        assert panel.mode == "sixel"
        import textual_image.widget as graphics

        assert isinstance(panel.image_widget, graphics.SixelImage)
        await pilot.press("h")
        assert panel.mode == "halfcell"
        await pilot.pause()
        assert isinstance(panel.image_widget, graphics.HalfcellImage)
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(panel.image_widget, graphics.SixelImage)


async def test_new_weights_are_scored_again_and_named_with_their_data(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        first = screen.results
        assert "sample" not in static_text(pilot, "#current-weights")
        other = weights_file(tmp_path / "other", seed=5)
        from cnn_tui.tui.state import CurrentModel

        # weights trained on the bundled sample (as their sidecar says) are labelled so
        meta = {"model": "net", "data_source": "sample", "train_images": 500}
        app.session.set_current_model(CurrentModel(other, meta, "run"))
        await wait_for(pilot, lambda: screen.results is not first and screen.results is not None)
        assert screen.results.probabilities != first.probabilities
        label = "weights: net, trained on the 500-image sample, from w.pt (run)"
        assert static_text(pilot, "#current-weights") == label
        await pilot.press("2")
        await wait_for(pilot, lambda: "500-image sample" in static_text(pilot, "#model-weights"))


async def test_weights_for_other_classes_say_why_they_cannot_be_scored(tmp_path):
    app = make_app(tmp_path, weights=str(weights_file(tmp_path / "ten", classes=10)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        assert screen.results is None
        assert "cannot score these weights" in status(pilot) and "10 classes" in status(pilot)
        known = static_text(pilot, "#known-classes")
        assert known.startswith("This model knows only its 10 classes (c0, c1, c2, c3, …)")
        assert screen.query_one("#val-status").has_class("-error")


async def test_without_weights_the_screen_says_what_to_do(tmp_path):
    app = make_app(tmp_path, weights=str(tmp_path / "missing.pt"))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert "no current weights" in status(pilot)
