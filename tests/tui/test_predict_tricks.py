"""The Predict screen's attack view (a) and its Grad-CAM overlay (g, n), through the
keyboard, checked against the engine run by hand on the same pixels."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from app_support import static_text, wait_for
from cnn_tui.core.explain import heat_map, overlay
from cnn_tui.core.images import load_image_array
from cnn_tui.core.our_png import written_by_cnn_tui
from cnn_tui.core.predict import Predictor
from cnn_tui.tui.screens.predict.attack import AttackScreen
from cnn_tui.tui.widgets.picture import PicturePanel, ProbabilityBars, to_picture, top_class
from screen_support import make_predict_app as make_app
from screen_support import open_predict


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run in tmp_path (the attack view writes there), with half blocks everywhere."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CNN_TUI_GRAPHICS", "halfcell")


def readings(predictor: Predictor, pixels: np.ndarray) -> dict[str, float]:
    """The engine's own forward pass on (32, 32, 3) uint8 pixels."""
    image = torch.from_numpy(pixels.transpose(2, 0, 1).copy())[None]
    return dict(zip(predictor.classes, predictor.predict(image)[0].tolist(), strict=True))


def attacks_running(app) -> bool:
    return any(w.group == "attack" and not w.is_finished for w in app.workers)


async def test_the_attack_view_reaches_its_target_on_8_bit_pixels(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        predicted = top_class(screen.query_one(ProbabilityBars).probabilities)
        await pilot.press("a")
        view = app.screen
        assert isinstance(view, AttackScreen)
        await wait_for(pilot, lambda: view.trick is not None)
        trick = view.trick
        # aimed at the other class, within 8/255, judged on the 8-bit result
        assert trick.target != predicted and trick.levels == 8
        result = view.query_one("#attack-result", PicturePanel)
        shown = result.query_one(ProbabilityBars).probabilities
        engine = Predictor.from_weights(app.session.current_model.path)
        expected = readings(engine, result.pixels)
        assert shown == pytest.approx(expected, abs=1e-6)
        assert top_class(shown) == trick.target and trick.success
        assert "fooled: it now reads as " + trick.target in static_text(pilot, "#attack-status")
        change = result.pixels.astype(int) - view.picked.pixels.astype(int)
        assert 0 < np.abs(change).max() <= 8 and trick.moved == np.abs(change).max()
        seen = view.query_one("#attack-seen", PicturePanel)
        assert (seen.pixels == app.session.picked_image.pixels).all()
        assert seen.query_one(ProbabilityBars).probabilities == pytest.approx(
            readings(engine, seen.pixels), abs=1e-6
        )
        # the change, amplified: grey where nothing moved, the largest change at an end
        amplified = view.query_one("#attack-change", PicturePanel).pixels
        assert ((amplified == 128) == (change == 0)).all()
        assert amplified.min() == 1 or amplified.max() == 255
        # eps keys, then a request overtaken by a newer one is never drawn
        await pilot.press("plus")
        assert "eps 9/255" in static_text(pilot, "#attack-head")
        await wait_for(pilot, lambda: view.trick.levels == 9)
        gate = threading.Event()
        real = app.session.tricking.attack

        def slow(current, pixels, target, levels):  # the 8/255 answer comes last
            if levels == 8:
                gate.wait(10)
            return real(current, pixels, target, levels)

        monkeypatch.setattr(app.session.tricking, "attack", slow)
        await pilot.press("minus", "minus")
        assert "eps 7/255" in static_text(pilot, "#attack-head")
        await wait_for(pilot, lambda: view.trick.levels == 7)
        gate.set()
        await wait_for(pilot, lambda: not attacks_running(app))
        await pilot.pause()
        assert view.trick.levels == 7 and "eps 7/255" in static_text(pilot, "#attack-head")
        # s writes the PNG; read back, it is the picture shown and reads as the target
        (tmp_path / "validation-0-as-bird.png").write_text("a user's own file")
        (tmp_path / "validation-0-as-airplane.png").write_text("a user's own file")
        await pilot.press("s")
        written = next(tmp_path.glob("validation-0-as-*-2.png"))
        assert str(written) in static_text(pilot, "#attack-status")
        assert written_by_cnn_tui(written)
        back = load_image_array(written)
        assert (back == view.trick.adversarial_pixels).all()
        assert top_class(readings(engine, back)) == view.trick.target
        assert (tmp_path / "validation-0-as-bird.png").read_text() == "a user's own file"
        await pilot.press("t")  # the next target: the class predicted now
        await wait_for(pilot, lambda: view.trick.target == predicted)
        assert "already read as" in static_text(pilot, "#attack-status")
        await pilot.press("escape")
        assert app.screen is screen


async def test_g_shows_what_the_model_looked_at_and_n_for_the_other_class(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        panel = screen.query_one(PicturePanel)
        assert not screen.check_action("look_class", ())  # n only with the overlay
        plain = panel.image_widget.image.tobytes()
        await pilot.press("g")
        await wait_for(pilot, lambda: panel.covered_with is not None)
        probabilities = screen.query_one(ProbabilityBars).probabilities
        predicted = top_class(probabilities)
        caption = static_text(pilot, "#picture-cover")
        assert caption.startswith(f"Grad-CAM on conv2 for {predicted}")
        await pilot.pause()
        assert panel.image_widget.image.tobytes() != plain  # the picture changed
        # the engine's own map of the same pixels, enlarged as `predict --explain` writes it
        engine = Predictor.from_weights(app.session.current_model.path)
        image = torch.from_numpy(panel.pixels.transpose(2, 0, 1).copy())
        index = engine.classes.index(predicted)
        expected = overlay(panel.pixels, heat_map(engine.model, image, index)[0])
        assert np.abs(panel.covered_with.astype(int) - expected.astype(int)).max() <= 1
        first = panel.covered_with
        await pilot.press("n")
        other = next(name for name in probabilities if name != predicted)
        await wait_for(pilot, lambda: f"for {other}" in static_text(pilot, "#picture-cover"))
        assert panel.covered_with is not None and (panel.covered_with != first).any()
        await pilot.press("down")  # another image: its overlay, for its predicted class
        await wait_for(pilot, lambda: "validation #1" in static_text(pilot, "#picture-title"))
        await wait_for(pilot, lambda: panel.covered_with is not None)
        now = top_class(screen.query_one(ProbabilityBars).probabilities)
        assert f"for {now}" in static_text(pilot, "#picture-cover")
        await pilot.press("g")
        assert panel.covered_with is None and not panel.query_one("#picture-cover").display
        await pilot.pause()
        assert panel.image_widget.image.tobytes() == to_picture(panel.pixels).tobytes()
