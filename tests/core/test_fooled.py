"""core/fooled.py: pictures of classes the model does not know, read as its own, surest first."""

from __future__ import annotations

import pytest
import torch
from cnn_tui.core.data import Split
from cnn_tui.core.fooled import FooledError, check_min, find_fooled
from cnn_tui.core.predict import Predictor
from cnn_tui.core.refused import ConfigError
from made_images import pixels

CLASSES = ["airplane", "bird", "frog", "ship"]


def test_only_unknown_classes_above_the_threshold_surest_first():
    predictor = Predictor.from_weights()  # the shipped airplane / bird weights
    images = torch.stack(
        [torch.from_numpy(pixels(32, 32, seed).transpose(2, 0, 1).copy()) for seed in range(12)]
    )
    labels = torch.tensor([0, 1, 2, 3] * 3)
    split = Split(images, labels)
    everything = find_fooled(predictor, split, CLASSES, minimum=0)
    assert everything.looked_at == 6 and everything.other_classes == ["frog", "ship"]
    assert sorted(f.index for f in everything.found) == [2, 3, 6, 7, 10, 11]
    probabilities = [f.probability for f in everything.found]
    assert probabilities == sorted(probabilities, reverse=True)
    by_hand = predictor.predict(images).max(dim=1)
    for found in everything.found:
        assert found.true_class == CLASSES[int(labels[found.index])]
        assert found.label == predictor.classes[int(by_hand.indices[found.index])]
        assert found.probability == pytest.approx(float(by_hand.values[found.index]))
    middle = sorted(probabilities)[2]
    assert [f.index for f in find_fooled(predictor, split, CLASSES, middle).found] == [
        f.index for f in everything.found[:4]
    ]
    assert set(everything.found[0].as_json()) == {"index", "true_class", "class", "probability"}
    with pytest.raises(FooledError, match="no image of a class the model does not know"):
        find_fooled(predictor, split, ["airplane", "bird", "Airplane", "BIRD"])
    assert check_min("0.95") == 0.95
    for bad in ("1.5", "-1", "nan", "x"):
        with pytest.raises(ConfigError, match="min must be a probability"):
            check_min(bad)
