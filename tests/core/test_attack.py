"""core/attack.py: a targeted attack that fools the shipped model, judged from the PNG on disk."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cnn_tui.core.attack import (
    attack_file,
    check_eps,
    check_steps,
    class_index,
)
from cnn_tui.core.images import load_image_array
from cnn_tui.core.models import build_model
from cnn_tui.core.our_png import PngFileError, check_writable, write_png
from cnn_tui.core.paths import default_weights
from cnn_tui.core.predict import Predictor
from cnn_tui.core.refused import ConfigError
from PIL import Image

BOOK_MEAN, BOOK_STD = (0.4915, 0.4823, 0.4468), (0.2470, 0.2435, 0.2616)


def _read_by_hand(png) -> tuple[np.ndarray, int]:
    """The PNG's pixels as Pillow reads them and the class index the shipped weights give
    them, with the model and normalisation built here, not by the code under test."""
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.uint8)
    model = build_model("net")
    model.load_state_dict(torch.load(default_weights(), weights_only=True))
    x = torch.from_numpy(pixels.transpose(2, 0, 1).copy()).float()[None] / 255
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (BOOK_MEAN, BOOK_STD))
    with torch.no_grad():
        return pixels, int(model.eval()((x - mean) / std).argmax(dim=1))


def test_attack_fools_the_shipped_model_as_the_png_read_back_shows(shared_data, tmp_path):
    predictor = Predictor.from_weights()
    assert predictor.classes == ["airplane", "bird"]
    test = shared_data / "cifar10-jpeg" / "test"
    for image, target, eps in (
        (test / "airplane" / "0001.jpg", "bird", 8 / 255),
        (test / "bird" / "0003.jpg", "airplane", 0.01),
    ):
        out = tmp_path / f"{image.parent.name}.png"
        result = attack_file(predictor, image, target, out, eps=eps)
        assert result.original.label != target  # the shipped model read it right
        pixels, index = _read_by_hand(out)
        assert predictor.classes[index] == target and result.success
        original = load_image_array(image)
        change = np.abs(pixels.astype(int) - original.astype(int)).max() / 255
        assert 0 < change <= eps and result.linf == pytest.approx(change)
        assert result.adversarial.label == target and result.out == str(out)
        assert set(result.as_json()) == {
            "path",
            "target",
            "eps",
            "linf",
            "success",
            "out",
            "original",
            "adversarial",
        }


def test_options_and_the_files_an_attack_may_write(tmp_path):
    assert check_eps("8/255") == pytest.approx(8 / 255)
    assert check_eps("0.03") == 0.03 and check_eps("0") == 0
    for bad in ("2", "-0.1", "nan", "x", "1/0", "inf"):
        with pytest.raises(ConfigError, match="eps must be"):
            check_eps(bad)
    assert check_steps("40") == 40
    for bad in ("0", "x", "10001"):
        with pytest.raises(ConfigError, match="steps must be"):
            check_steps(bad)
    assert class_index(["airplane", "bird"], " Bird") == 1
    with pytest.raises(ConfigError, match="'cat' is not one of the model's classes: airplane"):
        class_index(["airplane", "bird"], "cat")
    ours = write_png(tmp_path / "ours.png", np.zeros((32, 32, 3), np.uint8), "cnn-tui attack")
    check_writable(ours)  # an attack's own PNG may be replaced
    check_writable(tmp_path / "new.png")
    theirs = tmp_path / "theirs.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(theirs)
    for place, words in (
        (theirs, "exists already"),
        (tmp_path, "is a folder"),
        (tmp_path / "no" / "x.png", "does not exist"),
    ):
        with pytest.raises(PngFileError, match=words):
            check_writable(place)
