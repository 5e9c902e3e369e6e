"""The session's `tricking` alone, on the shipped weights and the bundled sample: the
attack view's answer judged on 8-bit pixels, the change made visible, the PNG written
beside (never over) a user's file, and the Grad-CAM overlay for a chosen class."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cnn_tui.core.data import load_sample
from cnn_tui.core.images import load_image_array
from cnn_tui.core.our_png import written_by_cnn_tui
from cnn_tui.core.paths import default_weights
from cnn_tui.core.predict import Predictor
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.tricking import Tricking, amplified, save_trick
from cnn_tui.tui.state import CurrentModel, PickedImage


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    return load_sample().val.images[3].permute(1, 2, 0).contiguous().numpy()


def shipped() -> CurrentModel:
    return CurrentModel(default_weights(), {"model": "net"}, "shipped")


def test_an_attack_is_judged_on_its_8_bit_pixels_within_its_budget(picture, tmp_path) -> None:
    tricking = Tricking()
    engine = Predictor.from_weights(default_weights())
    trick = tricking.attack(shipped(), picture, "bird", 4)
    assert trick.original.label == "airplane" and trick.target == "bird" and trick.success
    image = torch.from_numpy(trick.adversarial_pixels.transpose(2, 0, 1).copy())[None]
    label, probabilities = engine.answer(engine.predict(image)[0])
    assert trick.adversarial.label == label
    assert trick.adversarial.probabilities == pytest.approx(probabilities, abs=1e-6)
    moved = np.abs(trick.adversarial_pixels.astype(int) - picture.astype(int)).max()
    assert 0 < moved <= 4 and trick.moved == moved
    with pytest.raises(SessionError, match="eps must be 1/255 to 32/255"):
        tricking.attack(shipped(), picture, "bird", 33)
    with pytest.raises(SessionError, match="'cat' is not one of the model's classes"):
        tricking.attack(shipped(), picture, "cat", 8)
    # written next to a user's own file of that name, never over it; read back the same
    picked = PickedImage(picture, "validation #3 (airplane)", None, "airplane")
    (tmp_path / "validation-3-as-bird.png").write_text("mine")
    written = save_trick(trick, picked, tmp_path)
    assert written == tmp_path / "validation-3-as-bird-2.png" and written_by_cnn_tui(written)
    assert (load_image_array(written) == trick.adversarial_pixels).all()
    assert save_trick(trick, picked, tmp_path) == written  # its own file it may replace
    assert (tmp_path / "validation-3-as-bird.png").read_text() == "mine"
    with pytest.raises(SessionError, match="does not exist"):
        save_trick(trick, picked, tmp_path / "missing")


def test_the_change_is_grey_where_nothing_moved_and_fills_the_range() -> None:
    original = np.full((2, 2, 3), 100, np.uint8)
    same, gain, moved = amplified(original, original)
    assert (same == 128).all() and (gain, moved) == (1.0, 0)
    changed = original.copy()
    changed[0, 0, 0], changed[1, 1, 2] = 102, 99
    shown, gain, moved = amplified(original, changed)
    assert moved == 2 and gain == 63.5
    assert (shown[0, 0, 0], shown[1, 1, 2], shown[0, 1, 1]) == (255, 64, 128)


def test_the_overlay_is_for_the_predicted_class_or_the_one_asked(picture) -> None:
    tricking = Tricking()
    look = tricking.explain(shipped(), picture, None)
    assert (look.label, look.method, look.picture.shape) == (
        "airplane",
        "Grad-CAM on conv2",
        (256, 256, 3),
    )
    other = tricking.explain(shipped(), picture, "bird")
    assert other.label == "bird" and (other.picture != look.picture).any()
