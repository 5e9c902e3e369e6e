"""Data sources: image folders, torchvision's CIFAR-10 files, the bundled sample, the
no-network fallback, relabelling to CIFAR-2 and the decode cache."""

from __future__ import annotations

import hashlib
import pickle
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from cnn_tui.core import data
from cnn_tui.core.data import (
    CIFAR2_CLASSES,
    CIFAR10_CLASSES,
    MEAN,
    STD,
    DataError,
    Split,
    describe_source,
    detect_layout,
    load_dataset,
    load_sample,
    normalize,
)
from log_recorder import LogRecorder
from PIL import Image


def _solid(path: Path, colour: tuple[int, int, int], size: int = 32) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), colour).save(path)


# ---- layout detection and errors ----------------------------------------------------------


def test_detect_layout(tmp_path, image_folder):
    assert detect_layout(image_folder) == "folder"
    assert detect_layout(tmp_path / "missing") == "empty"
    (tmp_path / "empty").mkdir()
    assert detect_layout(tmp_path / "empty") == "empty"
    (tmp_path / "tv" / "cifar-10-batches-py").mkdir(parents=True)
    assert detect_layout(tmp_path / "tv") == "torchvision"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    assert detect_layout(tmp_path / "other") == "unknown"


def test_describe_source_names_the_source(tmp_path, image_folder):
    assert "image folder" in describe_source(image_folder)
    assert "bundled sample" in describe_source(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    assert "no CIFAR-10 layout" in describe_source(tmp_path / "other")


def test_folder_without_layout_raises_data_error(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    (root / "holiday.jpg").write_bytes(b"not really")
    with pytest.raises(DataError, match=r"neither CIFAR-10's cifar-10-batches-py/ nor an image"):
        load_dataset("cifar2", root)


def test_data_dir_that_is_a_file_raises_data_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_dataset("cifar2", path)


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="choose cifar2 or cifar10"):
        load_dataset("mnist")


def test_image_folder_without_test_split(tmp_path):
    root = tmp_path / "images"
    _solid(root / "train" / "airplane" / "a.png", (0, 0, 0))
    _solid(root / "train" / "bird" / "b.png", (0, 0, 0))
    with pytest.raises(DataError, match="no test/ or val/"):
        load_dataset("cifar2", root)


def test_image_folder_without_cifar2_classes(tmp_path, make_image_folder):
    root = make_image_folder(tmp_path / "pets", classes=("cat", "dog"), train=1, test=1)
    with pytest.raises(DataError, match="no airplane or bird class"):
        load_dataset("cifar2", root)
    # All its classes are usable as a 10-class style data set.
    pets = load_dataset("cifar10", root)
    assert pets.classes == ["cat", "dog"]
    assert len(pets.train) == 2 and len(pets.val) == 2


def test_image_folder_without_images(tmp_path):
    root = tmp_path / "images"
    for split in ("train", "test"):
        for name in CIFAR2_CLASSES:
            (root / split / name).mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        load_dataset("cifar2", root)


# ---- image folders ------------------------------------------------------------------------


def test_image_folder_loads_as_uint8_tensors(image_folder):
    dataset = load_dataset("cifar2", image_folder)
    assert dataset.kind == "folder"
    assert dataset.classes == CIFAR2_CLASSES
    assert "image folder" in dataset.name and "8 train / 4 val" in dataset.name
    assert not dataset.is_sample
    for split, count in ((dataset.train, 8), (dataset.val, 4)):
        assert split.images.shape == (count, 3, 32, 32)
        assert split.images.dtype == torch.uint8
        assert split.labels.dtype == torch.int64
        assert sorted(split.labels.tolist()) == [0] * (count // 2) + [1] * (count // 2)


def test_image_folder_cifar2_keeps_airplane_and_bird_relabelled(tmp_path):
    """Each class gets its own colour, so labels can be checked against pixels."""
    root = tmp_path / "cifar10"
    colours = {name: (i * 25, 255 - i * 25, 7) for i, name in enumerate(CIFAR10_CLASSES)}
    for split in ("train", "test"):
        for name, colour in colours.items():
            _solid(root / split / name / "0000.png", colour)
            _solid(root / split / name / "0001.png", colour)

    two = load_dataset("cifar2", root)
    assert two.classes == ["airplane", "bird"]
    assert len(two.train) == 4 and len(two.val) == 4
    for split in (two.train, two.val):
        for image, label in zip(split.images, split.labels, strict=True):
            expected = colours[CIFAR2_CLASSES[int(label)]]
            assert tuple(image[:, 0, 0].tolist()) == expected

    ten = load_dataset("cifar10", root)
    assert ten.classes == sorted(CIFAR10_CLASSES)
    assert len(ten.train) == 20 and ten.name.startswith("CIFAR-10 (image folder ")
    assert two.name.startswith("CIFAR-2 (image folder ")
    for image, label in zip(ten.train.images, ten.train.labels, strict=True):
        assert tuple(image[:, 0, 0].tolist()) == colours[ten.classes[int(label)]]


def test_image_folder_accepts_val_and_resizes_odd_images(tmp_path):
    root = tmp_path / "mine"
    _solid(root / "train" / "airplane" / "big.png", (10, 20, 30), size=200)
    _solid(root / "train" / "bird" / "small.jpg", (200, 100, 50), size=8)
    _solid(root / "val" / "airplane" / "x.bmp", (1, 2, 3))
    _solid(root / "val" / "bird" / "y.png", (4, 5, 6))
    dataset = load_dataset("cifar2", root)
    assert dataset.train.images.shape == (2, 3, 32, 32)
    assert dataset.val.images.shape == (2, 3, 32, 32)


def test_unreadable_images_are_skipped_with_a_warning(image_folder):
    (image_folder / "train" / "bird" / "broken.png").write_bytes(b"\x89PNG not really")
    log = LogRecorder()
    dataset = load_dataset("cifar2", image_folder, on_log=log)
    assert len(dataset.train) == 8
    assert any("skipped 1 unreadable" in m for m in log.warnings())


def test_decoding_is_cached(image_folder, monkeypatch):
    calls = []
    real = data._decode_32

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(data, "_decode_32", counting)
    first = load_dataset("cifar2", image_folder)
    assert len(calls) == 12
    assert any(data.cache_dir().glob("folder-*.npz"))
    second = load_dataset("cifar2", image_folder)
    assert len(calls) == 12, "the second load decoded images again instead of using the cache"
    assert torch.equal(first.train.images, second.train.images)
    assert torch.equal(first.val.labels, second.val.labels)

    # A changed file invalidates the cache.
    _solid(image_folder / "train" / "bird" / "new.png", (1, 1, 1))
    third = load_dataset("cifar2", image_folder)
    assert len(third.train) == 9
    assert len(calls) == 12 + 9


def test_damaged_cache_is_ignored_with_a_warning(image_folder):
    first = load_dataset("cifar2", image_folder)
    for cache in data.cache_dir().glob("folder-*.npz"):
        cache.write_bytes(b"garbage")
    log = LogRecorder()
    again = load_dataset("cifar2", image_folder, on_log=log)
    assert torch.equal(first.train.images, again.train.images)
    assert any("damaged cache" in m for m in log.warnings())


# ---- bundled sample and the no-network fallback --------------------------------------------


def test_bundled_sample_is_real_cifar2_and_says_sample():
    sample = load_sample()
    assert "sample" in sample.name
    assert sample.is_sample and sample.kind == "sample"
    assert sample.classes == CIFAR2_CLASSES
    assert sample.train.images.dtype == torch.uint8
    assert sample.train.images.shape[1:] == (3, 32, 32)
    assert 200 <= len(sample.train) <= 2000 and 50 <= len(sample.val) <= 1000
    assert set(sample.train.labels.tolist()) == {0, 1}
    assert set(sample.val.labels.tolist()) == {0, 1}
    # Real photographs, not noise: neighbouring pixels are strongly correlated.
    images = sample.train.images.float()
    diff = (images[..., 1:] - images[..., :-1]).abs().mean()
    assert diff < 30


def test_no_network_falls_back_to_the_sample_with_a_warning(tmp_path, monkeypatch):
    def offline(root, on_download=None):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "download_cifar10", offline)
    log = LogRecorder()
    dataset = load_dataset("cifar2", tmp_path / "empty", on_log=log)
    assert dataset.is_sample and "sample" in dataset.name
    warnings = log.warnings()
    assert any(
        "could not download CIFAR-10" in m and "network is unreachable" in m for m in warnings
    )
    assert any("sample" in m for m in warnings)


def test_download_off_falls_back_to_the_sample(tmp_path, monkeypatch):
    def must_not_run(root, on_download=None):
        raise AssertionError("download attempted although download=False")

    monkeypatch.setattr(data, "download_cifar10", must_not_run)
    log = LogRecorder()
    dataset = load_dataset("cifar2", tmp_path / "empty", download=False, on_log=log)
    assert dataset.is_sample
    assert any("downloading is off" in m for m in log.warnings())


def test_default_data_dir_comes_from_the_environment(monkeypatch, tmp_path, image_folder):
    monkeypatch.setenv("CNN_TUI_DATA", str(image_folder))
    assert load_dataset("cifar2").kind == "folder"


def test_real_download_code_fails_fast_when_the_server_is_unreachable(tmp_path, monkeypatch):
    """The real download path (urllib, no monkeypatched function) against a closed port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again once the with block ends
    monkeypatch.setattr(data, "CIFAR10_URL", f"http://127.0.0.1:{port}/cifar-10-python.tar.gz")
    log = LogRecorder()
    started = time.perf_counter()
    dataset = load_dataset("cifar2", tmp_path / "empty", on_log=log)
    assert time.perf_counter() - started < 10
    assert dataset.is_sample
    assert any("could not download" in m for m in log.warnings())
    assert not (tmp_path / "empty" / "cifar-10-python.tar.gz").exists()


def _host_resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False


def test_real_download_fails_fast_without_network(tmp_path):
    """On a machine without network (this one, CI), the real URL fails in seconds."""
    if _host_resolves("www.cs.toronto.edu"):
        pytest.skip("the network is reachable here: this test would download 170 MB")
    log = LogRecorder()
    started = time.perf_counter()
    dataset = load_dataset("cifar2", tmp_path / "empty", on_log=log)
    assert time.perf_counter() - started < 20
    assert dataset.is_sample
    assert any("could not download CIFAR-10" in m for m in log.warnings())


# ---- torchvision's CIFAR-10 files -----------------------------------------------------------


def _write_fake_cifar10(root: Path, per_batch: int = 20) -> dict[str, str]:
    """torchvision's cifar-10-batches-py format with random pixels; returns file md5s."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        labels = [i % 10 for i in range(per_batch)]
        pixels = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        # Put the label in the first red pixel so relabelling can be checked against pixels.
        pixels[:, 0] = labels
        batch = {"batch_label": name, "labels": labels, "data": pixels, "filenames": []}
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": CIFAR10_CLASSES, "num_cases_per_batch": per_batch}, handle)
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in folder.iterdir()}


def _trust_fake_md5s(monkeypatch, md5s: dict[str, str]) -> None:
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(
        CIFAR10, "train_list", [[f"data_batch_{i}", md5s[f"data_batch_{i}"]] for i in range(1, 6)]
    )
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5s["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5s["batches.meta"]})


def test_torchvision_format_loads(tmp_path, monkeypatch):
    root = tmp_path / "tv"
    _trust_fake_md5s(monkeypatch, _write_fake_cifar10(root))
    assert detect_layout(root) == "torchvision"

    ten = load_dataset("cifar10", root)
    assert ten.kind == "torchvision" and ten.classes == CIFAR10_CLASSES
    assert ten.train.images.shape == (100, 3, 32, 32) and ten.train.images.dtype == torch.uint8
    assert len(ten.val) == 20
    assert torch.equal(ten.train.images[:, 0, 0, 0].long(), ten.train.labels)

    two = load_dataset("cifar2", root)
    assert two.classes == CIFAR2_CLASSES and "CIFAR-2" in two.name
    assert len(two.train) == 20 and len(two.val) == 4
    original = two.train.images[:, 0, 0, 0].long()  # the CIFAR-10 label: 0 or 2
    assert set(original.tolist()) == {0, 2}
    assert torch.equal(two.train.labels, (original == 2).long())


def test_train_false_reads_the_validation_split_alone(tmp_path, monkeypatch, image_folder):
    """load_dataset(train=False): the same validation split, an empty train split, and no
    training image decoded or unpickled (the Predict screen's 150 MB of CIFAR-10 saved)."""
    whole = load_dataset("cifar2", image_folder)
    calls = []
    real = data._decode_32
    monkeypatch.setattr(data, "_decode_32", lambda path: calls.append(path) or real(path))
    for cache in data.cache_dir().glob("folder-*.npz"):
        cache.unlink()  # decode again, to count what is decoded
    val_only = load_dataset("cifar2", image_folder, train=False)
    assert len(calls) == 4 and all("test" in path.parts or "val" in path.parts for path in calls)
    assert len(val_only.train) == 0 and val_only.train.images.shape == (0, 3, 32, 32)
    assert torch.equal(val_only.val.images, whole.val.images)
    assert torch.equal(val_only.val.labels, whole.val.labels)
    assert val_only.classes == whole.classes and "4 val" in val_only.name
    assert val_only.name.endswith(", 4 val)") and " train / " not in val_only.name

    root = tmp_path / "tv"
    _trust_fake_md5s(monkeypatch, _write_fake_cifar10(root))
    read = []
    real_cifar = torchvision.datasets.CIFAR10

    def counting(*args, train, **kwargs):
        read.append(train)
        return real_cifar(*args, train=train, **kwargs)

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", counting)
    for name, val_count in (("cifar10", 20), ("cifar2", 4)):
        ten = load_dataset(name, root, train=False)
        assert len(ten.train) == 0 and len(ten.val) == val_count
        assert torch.equal(ten.val.images, load_dataset(name, root).val.images)
    assert read.count(True) == 2 and read.count(False) == 4  # the two whole loads only


def test_torchvision_format_with_wrong_files_raises_data_error(tmp_path):
    root = tmp_path / "tv"
    _write_fake_cifar10(root)  # not the real files: torchvision's MD5 check refuses them
    with pytest.raises(DataError, match="cannot read CIFAR-10"):
        load_dataset("cifar2", root)


# ---- normalisation ------------------------------------------------------------------------


def test_normalize_uses_the_books_constants():
    images = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    images[1] = 255
    out = normalize(images)
    assert out.dtype == torch.float32
    for channel in range(3):
        assert out[0, channel, 0, 0].item() == pytest.approx(-MEAN[channel] / STD[channel], 1e-5)
        assert out[1, channel, 0, 0].item() == pytest.approx(
            (1 - MEAN[channel]) / STD[channel], 1e-5
        )
    assert images.dtype == torch.uint8 and images.max() == 255  # input untouched


def test_split_length():
    split = Split(torch.zeros(3, 3, 32, 32, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64))
    assert len(split) == 3
