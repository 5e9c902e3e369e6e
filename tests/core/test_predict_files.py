"""core/predict.py for the Predict screen: one file with a note, a whole folder as a stream."""

from __future__ import annotations

import inspect

import pytest
import torch
from cnn_tui.core.models import build_model
from cnn_tui.core.predict import Predictor, describe_image, image_files
from made_images import pixels, write_bad_images, write_odd_images
from PIL import Image


@pytest.fixture
def predictor() -> Predictor:
    torch.manual_seed(0)
    return Predictor(build_model("net"), ["airplane", "bird"], "cpu")


def test_odd_images_get_an_answer_and_a_note_saying_what_was_done(tmp_path, predictor):
    files = write_odd_images(tmp_path)
    expected = {
        "plain": "32x32 PNG RGB",
        "grayscale": "grayscale, copied to 3 channels",
        "alpha": "transparency composited on white",
        "16-bit": "16-bit, scaled to 8 bits",
        "animated": "animated (3 frames), first frame used",
        "photo": "centre-cropped to 200x200; resized to 32x32",
    }
    for kind, path in files.items():
        answer = predictor.classify_file(path)
        assert answer.error is None, kind
        assert answer.label in ("airplane", "bird")
        assert sum(answer.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert answer.confidence == max(answer.probabilities.values())
        assert answer.pixels.shape == (32, 32, 3)
        assert expected[kind] in answer.note, (kind, answer.note)
        assert "\n" not in answer.note
    assert describe_image(files["plain"]) == "32x32 PNG RGB"


def test_bad_files_get_one_line_reasons(tmp_path, predictor):
    reasons = {
        "not an image": "not an image file",
        "truncated": "truncated or damaged",
        "huge": "image too large",
        "empty": "not an image file",
    }
    for kind, path in write_bad_images(tmp_path).items():
        answer = predictor.classify_file(path)
        assert answer.label is None and answer.confidence is None
        assert reasons[kind] in answer.error, (kind, answer.error)
        assert "\n" not in answer.error
    assert "no such file" in predictor.classify_file(tmp_path / "missing.png").error
    assert "folder" in predictor.classify_file(tmp_path).error


def test_the_answer_is_the_models_own(tmp_path, predictor):
    Image.fromarray(pixels(32, 32, seed=9)).save(tmp_path / "a.png")
    answer = predictor.classify_file(tmp_path / "a.png")
    tensor = torch.from_numpy(pixels(32, 32, seed=9).transpose(2, 0, 1).copy())
    expected = predictor.predict(tensor.unsqueeze(0))[0]
    assert answer.probabilities["bird"] == pytest.approx(float(expected[1]))


def test_folder_is_classified_as_a_stream_in_name_order(tmp_path, predictor):
    write_odd_images(tmp_path)
    write_bad_images(tmp_path)
    (tmp_path / "readme.txt").write_text("not listed")
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    Image.fromarray(pixels(32, 32)).save(tmp_path / "sub" / "deep.png")

    stream = predictor.classify_folder(tmp_path, batch_size=3)
    assert inspect.isgenerator(stream)
    first = next(stream)  # the first batch is ready before the rest are read
    answers = [first, *stream]
    names = [a.path.rsplit("/", 1)[1] for a in answers]
    assert names == sorted(names) and "readme.txt" not in names and ".hidden.png" not in names
    assert "deep.png" not in names
    good = [a for a in answers if a.error is None]
    bad = [a for a in answers if a.error is not None]
    assert len(good) == 6 and len(bad) == 4
    for answer in good:  # the same answer as one file at a time
        assert answer.label == predictor.classify_file(answer.path).label
    deep = list(predictor.classify_folder(tmp_path, recursive=True))
    assert any(a.path.endswith("deep.png") for a in deep)


def test_bad_folders(tmp_path, predictor):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        list(predictor.classify_folder(tmp_path / "missing"))
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        image_files(tmp_path / "file.png")
    (tmp_path / "empty").mkdir()
    assert list(predictor.classify_folder(tmp_path / "empty", batch_size=2)) == []
