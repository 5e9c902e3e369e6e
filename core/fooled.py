"""Pictures of neither class that the model is sure of: the second half of the chapter's
second exercise ("find a picture of neither that it calls one with more than 95%").

A model trained on airplanes and birds gives every picture one of those two classes, and
often with high confidence. `find_fooled` runs it over the validation images of the
classes it does not know (CIFAR-10's other eight, for the book's CIFAR-2 weights) and
keeps those it calls one of its own classes with at least a given probability, surest
first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import CnnTuiError

if TYPE_CHECKING:
    from .data import Split
    from .predict import Predictor

DEFAULT_MIN = 0.95
BATCH = 512  # images run through the model at once


class FooledError(CnnTuiError):
    """There is nothing to look through; the message says why in one line."""


@dataclass(frozen=True)
class Fooling:
    """One picture of a class the model does not know, and what the model calls it."""

    index: int  # its place in the validation split (as the Predict screen numbers it)
    true_class: str
    label: str  # the model's class
    probability: float  # the model's probability for label

    def as_json(self) -> dict[str, Any]:
        """An object of the `cnn-tui fooled --json` array (a stable format: see README)."""
        return {
            "index": self.index,
            "true_class": self.true_class,
            "class": self.label,
            "probability": self.probability,
        }


@dataclass(frozen=True)
class FooledSearch:
    """What a search looked through and what it found."""

    looked_at: int  # images of the classes the model does not know
    other_classes: list[str]
    found: list[Fooling]  # surest first


def check_min(text: str | float) -> float:
    """A probability threshold, from 0 to 1."""
    import math

    from .refused import ConfigError, shown

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # NaN fails too
        raise ConfigError(f"min must be a probability from 0 to 1, not {shown(text)}")
    return value


def find_fooled(
    predictor: Predictor, split: Split, classes: list[str], minimum: float = DEFAULT_MIN
) -> FooledSearch:
    """The images of split whose class (named by classes) the model does not have and that
    it calls one of its own with probability >= minimum, surest first (ties by index).

    Raises FooledError when split holds no image of a class the model does not know.
    """
    import torch

    known = {name.casefold() for name in predictor.classes}
    others = [i for i, name in enumerate(classes) if name.casefold() not in known]
    labels = split.labels
    chosen = torch.isin(labels, torch.tensor(others, dtype=labels.dtype))
    indices = chosen.nonzero()[:, 0]
    if not others or len(indices) == 0:
        raise FooledError(
            f"the data hold no image of a class the model does not know (it knows "
            f"{', '.join(predictor.classes)}; the data have {', '.join(classes)})"
        )
    found: list[Fooling] = []
    for start in range(0, len(indices), BATCH):
        batch = indices[start : start + BATCH]
        best, top = predictor.predict(split.images[batch]).max(dim=1)
        for index, p, label in zip(batch.tolist(), best.tolist(), top.tolist(), strict=True):
            if p >= minimum:
                true = classes[int(labels[index])]
                found.append(Fooling(index, true, predictor.classes[label], float(p)))
    found.sort(key=lambda f: (-f.probability, f.index))
    return FooledSearch(len(indices), [classes[i] for i in others], found)
