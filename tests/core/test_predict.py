"""core/predict.py: any picture a user has gets an answer; a bad one gets one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from cnn_tui.core import paths
from cnn_tui.core.data import normalize
from cnn_tui.core.images import load_image_tensor
from cnn_tui.core.models import build_model
from cnn_tui.core.predict import Predictor, predict_files
from cnn_tui.core.weights import WeightsError, save_weights
from PIL import Image

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "reference"


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = build_model("net")
    meta = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"]}
    return save_weights(tmp_path / "w.pt", model, meta)


def _pixels(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _images_of_every_kind(folder: Path) -> list[Path]:
    """RGBA, LA, L, 1-bit, 16-bit, CMYK, P with transparency, animated GIF, big JPEG, BMP."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(_pixels(48, 64))
    made = {
        "rgba.png": rgb.convert("RGBA"),
        "la.png": rgb.convert("LA"),
        "gray.png": rgb.convert("L"),
        "mono.png": rgb.convert("1"),
        "cmyk.jpg": rgb.convert("CMYK"),
        "photo.jpg": Image.fromarray(_pixels(200, 300, seed=1)),
        "tiny.bmp": Image.fromarray(_pixels(7, 5, seed=2)),
    }
    for name, image in made.items():
        image.save(folder / name)
    sixteen = Image.fromarray(
        np.random.default_rng(3).integers(0, 65535, (40, 30), dtype=np.uint16)
    )
    assert sixteen.mode in ("I;16", "I")
    sixteen.save(folder / "sixteen.png")
    palette = rgb.convert("P")
    palette.info["transparency"] = 0
    palette.save(folder / "palette.png", transparency=0)
    frames = [Image.fromarray(_pixels(32, 32, seed=s)).convert("P") for s in (4, 5, 6)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    return sorted(folder.iterdir())


def test_any_size_or_mode_gets_an_answer(tmp_path, weights):
    files = _images_of_every_kind(tmp_path / "images")
    assert Image.open(tmp_path / "images" / "anim.gif").n_frames == 3
    results = predict_files(files, weights)
    assert [r["path"] for r in results] == [str(f) for f in files]
    for result in results:
        assert set(result) == {"path", "class", "probabilities"}, result
        assert result["class"] in ("airplane", "bird")
        probs = result["probabilities"]
        assert list(probs) == ["airplane", "bird"]
        assert all(isinstance(p, float) and 0 <= p <= 1 for p in probs.values())
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-5)
        assert result["class"] == max(probs, key=probs.get)
    json.dumps(results)


def test_bad_files_get_one_line_and_the_others_still_their_answer(tmp_path, weights):
    good = tmp_path / "good.png"
    Image.fromarray(_pixels(32, 32)).save(good)
    text = tmp_path / "notes.png"
    text.write_text("not a picture\n")
    jpeg = tmp_path / "cut.jpg"
    Image.fromarray(_pixels(300, 200)).save(jpeg, quality=95)
    data = jpeg.read_bytes()
    jpeg.write_bytes(data[: len(data) // 2])
    order = [text, good, tmp_path / "missing.png", jpeg, tmp_path]
    results = predict_files(order, weights)
    assert [r["path"] for r in results] == [str(p) for p in order]
    assert "class" in results[1] and set(results[1]) == {"path", "class", "probabilities"}
    for index in (0, 2, 3, 4):
        assert set(results[index]) == {"path", "error"}
        assert "\n" not in results[index]["error"] and results[index]["error"]
    assert "not an image" in results[0]["error"]
    assert "no such file" in results[2]["error"]
    assert "truncated" in results[3]["error"]
    assert "folder" in results[4]["error"]


def test_predictor_matches_the_model_run_by_hand(tmp_path, weights):
    path = tmp_path / "a.png"
    Image.fromarray(_pixels(32, 32, seed=9)).save(path)
    predictor = Predictor.from_weights(weights)
    assert predictor.classes == ["airplane", "bird"] and not predictor.model.training
    image = load_image_tensor(path)
    with torch.no_grad():
        expected = predictor.model(normalize(image[None])).softmax(dim=1)[0]
    got = predictor.predict(image[None])[0]
    torch.testing.assert_close(got, expected)
    [result] = predictor.predict_files([path])
    assert result["probabilities"]["bird"] == pytest.approx(float(expected[1]))
    batch = torch.stack([image, image.flip(2)])
    assert predictor.predict(batch).shape == (2, 2)
    assert predictor.predict(batch[:0]).shape == (0, 2)


def test_predict_wants_uint8_images(weights):
    predictor = Predictor.from_weights(weights)
    with pytest.raises(ValueError, match="uint8"):
        predictor.predict(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="32"):
        predictor.predict(torch.zeros(1, 3, 28, 28, dtype=torch.uint8))


def test_ten_classes_and_a_model_named_by_the_caller(tmp_path):
    model = build_model("net-width", 10)
    path = tmp_path / "ten.pt"
    torch.save(model.state_dict(), path)  # no sidecar: recognised from keys and shapes
    image = tmp_path / "x.png"
    Image.fromarray(_pixels(32, 32)).save(image)
    [result] = predict_files([image], path)
    assert len(result["probabilities"]) == 10 and "truck" in result["probabilities"]
    with pytest.raises(WeightsError, match="fc2.weight"):
        predict_files([image], path, model="net-width", num_classes=2)
    with pytest.raises(WeightsError, match="shapes differ"):
        predict_files([image], path, model="net")


def test_missing_shipped_weights_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "default_weights", lambda: tmp_path / "nope.pt")
    with pytest.raises(WeightsError, match="--weights"):
        predict_files([tmp_path / "x.png"])


def test_shipped_weights_are_the_default(tmp_path):
    if not paths.default_weights().exists():
        pytest.skip("weights/birds_vs_airplanes.pt is not in this checkout yet")
    image = tmp_path / "x.png"
    Image.fromarray(_pixels(32, 32)).save(image)
    [result] = predict_files([image])
    assert set(result["probabilities"]) == {"airplane", "bird"}


def test_book_checkpoint_tells_the_reference_airplanes():
    folder = SHARED / "cifar10-test-png"
    if not (SHARED / "book_birds_vs_airplanes.pt").exists() or not folder.is_dir():
        pytest.skip(f"shared reference data not present at {SHARED}")
    # cifar10_II_L.png: L is the CIFAR-10 label; 0 is airplane (no birds among the 20)
    airplanes = sorted(folder.glob("cifar10_*_0.png"))
    assert len(airplanes) == 2
    results = predict_files(airplanes, SHARED / "book_birds_vs_airplanes.pt")
    assert [r["class"] for r in results] == ["airplane", "airplane"]
    assert all(r["probabilities"]["airplane"] > 0.8 for r in results)
