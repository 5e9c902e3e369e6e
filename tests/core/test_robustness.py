"""core/robustness.py: the smallest budget that flips each image of a fixed set."""

from __future__ import annotations

import torch
from cnn_tui.core.attack import perturb
from cnn_tui.core.data import Split
from cnn_tui.core.predict import Predictor
from cnn_tui.core.robustness import MOST_LEVELS, fixed_set, smallest_levels
from made_images import pixels


def test_smallest_levels_flip_and_a_wrong_answer_needs_none():
    predictor = Predictor.from_weights()  # the shipped airplane / bird weights
    images = torch.stack(
        [torch.from_numpy(pixels(32, 32, seed).transpose(2, 0, 1).copy()) for seed in range(8)]
    )
    split = fixed_set(Split(images, torch.tensor([0, 1] * 4)), 2, per_class=3)
    assert split.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert torch.equal(split.images[3], images[1])  # the first of each class, in order
    needed = smallest_levels(predictor.model, split)
    assert ((needed >= 0) & (needed <= MOST_LEVELS + 1)).all()
    wrong = predictor.predict(split.images).argmax(dim=1) != split.labels
    assert torch.equal(needed == 0, wrong)
    other = 1 - split.labels  # two classes: the next class is the other one
    for level in {int(n) for n in needed if 0 < n <= MOST_LEVELS}:
        chosen = needed == level
        _, flipped, _ = perturb(predictor.model, split.images[chosen], other[chosen], level / 255)
        assert flipped.all()
