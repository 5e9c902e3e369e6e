"""core/validation_results.py: scoring on the validation set, filters, confusion, top losses."""

from __future__ import annotations

import math

import pytest
import torch
from cnn_tui.core.data import DataSet, Split
from cnn_tui.core.validation_results import (
    ValidationResults,
    check_classes,
    dataset_for,
    score_split,
)
from torch import nn


def _results() -> ValidationResults:
    """Six images, two classes; hand-chosen probabilities."""
    probabilities = [
        [0.9, 0.1],  # true 0, right, sure
        [0.6, 0.4],  # true 0, right, unsure
        [0.2, 0.8],  # true 0, wrong
        [0.3, 0.7],  # true 1, right
        [0.95, 0.05],  # true 1, wrong, very sure
        [0.45, 0.55],  # true 1, right, unsure
    ]
    labels = [0, 0, 0, 1, 1, 1]
    predictions = [max(range(2), key=row.__getitem__) for row in probabilities]
    return ValidationResults(
        classes=["airplane", "bird"],
        dataset_name="made-up",
        labels=labels,
        predictions=predictions,
        probabilities=probabilities,
        confusion=[[2, 1], [1, 2]],
        accuracy=4 / 6,
        loss=0.0,
    )


def test_entry_has_true_predicted_confidence_and_loss():
    entry = _results().entry(4)
    assert (entry.true, entry.predicted, entry.correct) == (1, 0, False)
    assert entry.confidence == 0.95
    assert entry.loss == pytest.approx(-math.log(0.05))


def test_filters():
    results = _results()
    assert [e.index for e in results.select()] == [0, 1, 2, 3, 4, 5]
    assert [e.index for e in results.select(wrong_only=True)] == [2, 4]
    assert [e.index for e in results.select(true_class=1)] == [3, 4, 5]
    assert [e.index for e in results.select(wrong_only=True, true_class=0)] == [2]
    assert [e.index for e in results.select(predicted_class=0)] == [0, 1, 4]
    assert [e.index for e in results.select(order="least-confident")] == [5, 1, 3, 2, 0, 4]
    assert [e.index for e in results.select(order="most-confident")] == [4, 0, 2, 3, 1, 5]
    with pytest.raises(ValueError):
        results.select(order="random")


def test_top_losses_are_the_most_confident_mistakes():
    results = _results()
    assert [e.index for e in results.top_losses()] == [4, 2]
    assert [e.index for e in results.top_losses(1)] == [4]


def test_per_class_accuracy():
    results = _results()
    results.confusion = [[2, 1], [0, 0]]
    assert results.per_class_accuracy() == [pytest.approx(2 / 3), None]


class _Fixed(nn.Module):
    """Says 'bird' when the image's mean is above 128, else 'airplane'."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = x.mean(dim=(1, 2, 3)) * self.scale
        return torch.stack([-score, score], dim=1)


def test_score_split_runs_the_model_once_and_keeps_the_images():
    images = torch.stack(
        [torch.full((3, 32, 32), v, dtype=torch.uint8) for v in (0, 40, 250, 255, 10, 200)]
    )
    labels = torch.tensor([0, 0, 1, 1, 1, 0])
    results = score_split(_Fixed(), Split(images, labels), ["airplane", "bird"], "toy")
    assert results.predictions == [0, 0, 1, 1, 0, 1]
    assert results.confusion == [[2, 1], [1, 2]]
    assert results.accuracy == pytest.approx(4 / 6)
    assert [e.index for e in results.select(wrong_only=True)] == [4, 5]
    assert all(abs(sum(row) - 1) < 1e-5 for row in results.probabilities)
    pixels = results.pixels(2)
    assert pixels.shape == (32, 32, 3) and pixels.dtype.name == "uint8" and pixels[0, 0, 0] == 250


def test_classes_must_match_the_data():
    empty = Split(torch.zeros(0, 3, 32, 32, dtype=torch.uint8), torch.zeros(0, dtype=torch.long))
    data = DataSet("toy data", "memory", ["airplane", "bird"], empty, empty)
    assert check_classes(["airplane", "bird"], data) is None
    message = check_classes([f"c{i}" for i in range(10)], data)
    assert "10 classes" in message and "toy data has 2" in message
    assert dataset_for(10) == "cifar10" and dataset_for(2) == "cifar2"
