"""core/explain.py: a heat map of the picture's shape in [0, 1] that depends on the picture,
with no hook left behind on the model; saliency for a model without convolutions."""

from __future__ import annotations

import numpy as np
import torch
from cnn_tui.core.explain import heat_map, overlay
from cnn_tui.core.models import build_model
from cnn_tui.core.predict import Predictor


def _hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_grad_cam_and_saliency_maps_depend_on_the_picture_and_leave_no_hook():
    images = torch.randint(0, 256, (2, 3, 32, 32), generator=torch.Generator().manual_seed(0))
    images = images.to(torch.uint8)
    shipped = Predictor.from_weights().model  # the book's Net: Grad-CAM on conv2
    torch.manual_seed(0)
    for model, method in ((shipped, "Grad-CAM on conv2"), (build_model("fc-small"), "saliency")):
        model.eval()
        maps = []
        for image in images:
            heat, name = heat_map(model, image, 1)
            assert name == method and heat.shape == (32, 32)
            assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() == 1
            maps.append(heat)
        assert not np.allclose(maps[0], maps[1])
        assert _hooks(model) == 0
        assert all(p.grad is None for p in model.parameters())
    pixels = images[0].numpy().transpose(1, 2, 0)
    big = overlay(pixels, maps[0])
    assert big.shape == (256, 256, 3) and big.dtype == np.uint8
