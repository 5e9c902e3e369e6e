"""Is a model with more capacity easier or harder to trick? The last question of the
chapter's second exercise, answered with numbers for every shipped model.

For a fixed set of validation images (the first 100 of each class, in the split's order),
`smallest_levels` finds for each image the smallest L-infinity budget, in whole 8-bit
levels, at which core.attack's PGD makes the model read it as the class it ranks next; the
median over the set is the model's figure. A budget is tried from 0 up, each on the images
not yet flipped, so most images cost only the few smallest budgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .attack import DEFAULT_EPS, DEFAULT_STEPS, levels, perturb

if TYPE_CHECKING:
    import torch

    from .data import Split

PER_CLASS = 100  # images of each class in the fixed set: 200 for CIFAR-2
MOST_LEVELS = levels(DEFAULT_EPS)  # budgets tried: 0/255 to the attack's default, 8/255
CHUNK = 64  # images attacked at once: a front end hears of progress (and can stop) between
Progress = Callable[[int, int], None]  # (budget being tried in levels, images not flipped)


@dataclass(frozen=True)
class Robustness:
    """One weights file's figures on the fixed set."""

    name: str  # the weights file's name without .pt
    model: str
    parameters: int
    val_accuracy: float | None  # as its sidecar records it
    images: int
    median_eps: float | None  # the median smallest budget (0..1); None: over MOST_LEVELS
    flipped: float  # the share flipped within the attack's default budget

    def as_json(self) -> dict[str, Any]:
        """An object of the `cnn-tui attack --models --json` array (see README)."""
        return {
            "weights": self.name,
            "model": self.model,
            "parameters": self.parameters,
            "val_accuracy": self.val_accuracy,
            "images": self.images,
            "median_eps": self.median_eps,
            "flipped_within_default_eps": self.flipped,
        }


def fixed_set(split: Split, num_classes: int, per_class: int = PER_CLASS) -> Split:
    """The first per_class images of each class, in the split's order, classes in turn."""
    import torch

    from .data import Split

    chosen = [(split.labels == label).nonzero()[:per_class, 0] for label in range(num_classes)]
    indices = torch.cat(chosen)
    return Split(split.images[indices], split.labels[indices])


def smallest_levels(
    model: torch.nn.Module,
    images: Split,
    most: int = MOST_LEVELS,
    steps: int = DEFAULT_STEPS,
    on_progress: Progress | None = None,
) -> torch.Tensor:
    """Per image, the smallest budget in 8-bit levels (0..most) at which PGD makes the
    model read it as the class it ranks highest after the true one; most + 1 where no
    budget up to most did. An image the model already gets wrong needs 0.

    on_progress(level, left) is called after each CHUNK images attacked, with the budget
    being tried and the images not flipped so far (a front end's progress; an exception
    it raises stops the search). Each image is attacked on its own, so chunks change
    nothing in the figures."""
    import torch

    from .data import normalize

    model.eval()
    with torch.inference_mode():
        logits = model(normalize(images.images.to(next(model.parameters()).device))).cpu()
    ranked = logits.clone()
    ranked[torch.arange(len(ranked)), images.labels] = -torch.inf
    targets = ranked.argmax(dim=1)  # the class the model ranks next after the true one
    needed = torch.full((len(images),), most + 1, dtype=torch.long)
    needed[logits.argmax(dim=1) != images.labels] = 0
    for level in range(1, most + 1):
        left = (needed > most).nonzero()[:, 0]
        if len(left) == 0:
            break
        for chunk in left.split(CHUNK):
            _, flipped, _ = perturb(
                model, images.images[chunk], targets[chunk], eps=level / 255, steps=steps
            )
            needed[chunk[flipped]] = level
            if on_progress is not None:
                on_progress(level, int((needed > most).sum()))
    return needed


def shipped_weights() -> list[Path]:
    """The shipped weights files, in file name order."""
    from .paths import shipped_weights_dir

    return sorted(shipped_weights_dir().glob("*.pt"))


def measure_weights(
    path: Path, images: Split, num_classes: int, on_progress: Progress | None = None
) -> Robustness | None:
    """One weights file's figures on a fixed set (see fixed_set) of num_classes classes;
    None when its model has another number of classes. on_progress: see smallest_levels."""
    from .predict import Predictor
    from .weights import read_sidecar

    predictor = Predictor.from_weights(path)
    if len(predictor.classes) != num_classes:
        return None
    needed = smallest_levels(predictor.model, images, on_progress=on_progress)
    accuracy = read_sidecar(path).get("val_accuracy")
    return Robustness(
        name=path.stem,
        model=str((predictor.meta or {}).get("model", "")),
        parameters=sum(p.numel() for p in predictor.model.parameters()),
        val_accuracy=accuracy if isinstance(accuracy, (int, float)) else None,
        images=len(needed),
        median_eps=_median_eps(needed),
        flipped=float((needed <= MOST_LEVELS).float().mean()),
    )


def _median_eps(needed: torch.Tensor) -> float | None:
    """The lower median of the levels as a budget in 0..1; None when it is over the most."""
    median = int(needed.sort().values[(len(needed) - 1) // 2])
    return None if median > MOST_LEVELS else median / 255
