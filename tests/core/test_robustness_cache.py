"""core/robustness_cache.py: figures kept under a key of the weights' bytes and the images,
read back as they were written; a file that is not ours is neither trusted nor replaced."""

from __future__ import annotations

import json

import torch
from cnn_tui.core.data import Split
from cnn_tui.core.robustness import Robustness
from cnn_tui.core.robustness_cache import cache_path, figures_key, read_figures, store_figures


def figure(name: str, levels: int | None) -> Robustness:
    eps = None if levels is None else levels / 255
    return Robustness(name, "net", 18_090, 0.8845, 200, eps, 0.97)


def test_figures_are_keyed_by_content_and_read_back(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights one")
    images = Split(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.tensor([0, 0, 1, 1]))
    key = figures_key(weights, images)
    uint8_labels = Split(images.images, images.labels.to(torch.uint8))
    assert figures_key(weights, uint8_labels) == key  # the same data read another way
    other = Split(images.images + 1, images.labels)
    assert figures_key(weights, other) != key
    weights.write_bytes(b"weights two")
    changed = figures_key(weights, images)
    assert changed != key

    assert read_figures() == {}  # nothing stored yet
    assert store_figures({key: figure("a", 2), changed: figure("b", None)})
    assert read_figures() == {key: figure("a", 2), changed: figure("b", None)}
    assert store_figures({key: figure("a", 3)})  # measured again: replaced
    assert read_figures()[key].median_eps == 3 / 255

    # a stored figure that does not hold what a figure holds is left out, the rest kept
    stored = json.loads(cache_path().read_text())
    stored["figures"][changed]["median_levels"] = 99
    cache_path().write_text(json.dumps(stored))
    assert list(read_figures()) == [key]


def test_a_file_not_ours_is_not_trusted_or_replaced():
    cache_path().parent.mkdir(parents=True)
    cache_path().write_text('{"mine": true}')
    assert read_figures() == {}
    assert not store_figures({"k": figure("a", 1)})
    assert cache_path().read_text() == '{"mine": true}'
