"""Weights scored on the validation set, for browsing (the Predict screen): every image
with its true label, the weights' prediction and confidence; filters; the confusion matrix; and the
most confident mistakes (fastai's `plot_top_losses`).

`score_split` runs core.evaluate once (a thread worker calls it); everything after that is
plain Python on its results, so filtering and sorting are instant and need no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from .data import DataSet, Split

ORDERS = ("index", "least-confident", "most-confident")


@dataclass(frozen=True)
class Entry:
    """One validation image as the browser lists it."""

    index: int  # its place in the validation split
    true: int
    predicted: int
    confidence: float  # the probability of the predicted class
    loss: float  # -log p(true class): what fastai sorts its top losses by

    @property
    def correct(self) -> bool:
        return self.true == self.predicted


@dataclass
class ValidationResults:
    """The current weights on a validation split, kept for browsing."""

    classes: list[str]
    dataset_name: str
    labels: list[int]
    predictions: list[int]
    probabilities: list[list[float]]
    confusion: list[list[int]]  # rows are true classes, columns predicted
    accuracy: float
    loss: float
    split: Any = None  # the core.data.Split, for the images themselves

    def __len__(self) -> int:
        return len(self.labels)

    def entry(self, index: int) -> Entry:
        probs = self.probabilities[index]
        true, predicted = self.labels[index], self.predictions[index]
        return Entry(
            index=index,
            true=true,
            predicted=predicted,
            confidence=probs[predicted],
            loss=-math.log(max(probs[true], 1e-12)),
        )

    def select(
        self,
        *,
        wrong_only: bool = False,
        true_class: int | None = None,
        predicted_class: int | None = None,
        order: str = "index",
    ) -> list[Entry]:
        """The entries that pass the filters, in the order asked for.

        order: "index" (the split's order), "least-confident" (lowest confidence first)
        or "most-confident" (highest first).
        """
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
        entries = [
            self.entry(i)
            for i in range(len(self))
            if (not wrong_only or self.labels[i] != self.predictions[i])
            and (true_class is None or self.labels[i] == true_class)
            and (predicted_class is None or self.predictions[i] == predicted_class)
        ]
        if order == "least-confident":
            entries.sort(key=lambda e: (e.confidence, e.index))
        elif order == "most-confident":
            entries.sort(key=lambda e: (-e.confidence, e.index))
        return entries

    def top_losses(self, k: int = 9) -> list[Entry]:
        """The k most confident mistakes: wrong predictions, highest loss first."""
        wrong = [self.entry(i) for i in range(len(self)) if self.labels[i] != self.predictions[i]]
        wrong.sort(key=lambda e: (-e.loss, e.index))
        return wrong[:k]

    def per_class_accuracy(self) -> list[float | None]:
        """Recall per true class (None for a class with no images)."""
        out: list[float | None] = []
        for i, row in enumerate(self.confusion):
            total = sum(row)
            out.append(row[i] / total if total else None)
        return out

    def pixels(self, index: int):
        """The image as (32, 32, 3) uint8 numpy, for showing it."""
        if self.split is None:
            raise LookupError("these results hold no images")
        return self.split.images[index].permute(1, 2, 0).contiguous().numpy()


def score_split(
    model: nn.Module, split: Split, classes: list[str], dataset_name: str = ""
) -> ValidationResults:
    """Run the model over the split in eval mode (core.evaluate) and keep what it said."""
    from .evaluate import evaluate

    result = evaluate(model, split, len(classes))
    return ValidationResults(
        classes=list(classes),
        dataset_name=dataset_name,
        labels=[int(v) for v in split.labels.tolist()],
        predictions=[int(v) for v in result.predictions.tolist()],
        probabilities=[[float(p) for p in row] for row in result.probabilities.tolist()],
        confusion=result.confusion,
        accuracy=result.accuracy,
        loss=result.loss,
        split=split,
    )


def check_classes(model_classes: list[str], dataset: DataSet) -> str | None:
    """Why these weights cannot be scored on this data set, or None when they can."""
    if list(model_classes) == list(dataset.classes):
        return None
    return (
        f"the weights know {len(model_classes)} classes ({', '.join(model_classes[:4])}"
        f"{', ...' if len(model_classes) > 4 else ''}) but {dataset.name} has "
        f"{len(dataset.classes)} ({', '.join(dataset.classes[:4])}"
        f"{', ...' if len(dataset.classes) > 4 else ''})"
    )


def dataset_for(num_classes: int) -> str:
    """The data set that matches a model's class count: cifar10 for 10, else cifar2."""
    return "cifar10" if num_classes == 10 else "cifar2"
