"""What the model looked at: a heat map over the 32x32 picture for one class, and the
picture enlarged with that map over it (`cnn-tui predict IMAGE --explain OUT.png`).

For a model with convolutions, Grad-CAM (Selvaraju et al. 2017) on its last Conv2d: that
layer's output channels, each weighted by the mean gradient of the class's score over it,
summed and clipped at zero, then enlarged bilinearly to 32x32. For a model without one
(fc-small, fc-large) there are no feature maps, so the input-gradient saliency
(Simonyan et al. 2014): the largest |d score / d pixel| over the three colour channels.
Either is scaled so that its largest value is 1 (all 0 where nothing raises the score).

The activation is caught with a forward hook on that one layer of this model instance,
removed in a `finally`; nothing process-wide is changed and the parameters' gradients are
left untouched (torch.autograd.grad, not backward()).

Hand-written rather than with Captum's `LayerGradCam` / `Saliency`, for the reasons
measured for core/attack.py (Captum 0.9.0): it would add about 84 MB (matplotlib is a hard
dependency) and 0.8-1.2 s to the import, for what is here about 20 lines of torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .predict import Predictor

SCALE = 8  # the written picture is 8x the 32x32 the model sees: 256x256
ALPHA = 0.5  # the heat map's share of each overlay pixel
WRITTEN_BY = "cnn-tui predict --explain"  # the PNG's Software text (core/our_png.py)


@dataclass(frozen=True)
class Explanation:
    """One picture explained: the class, how, and the (32, 32) map in [0, 1]."""

    label: str
    method: str  # "Grad-CAM on conv2" or "saliency"
    heat: Any  # (32, 32) float32 numpy


def last_conv(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The model's last Conv2d in module order (its name and itself), or None."""
    from torch import nn

    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    return convs[-1] if convs else None


def heat_map(model: nn.Module, image: torch.Tensor, index: int) -> tuple[Any, str]:
    """The (32, 32) map in [0, 1] of what raises class `index`'s score for one uint8
    (3, 32, 32) image, and the method's name. The model must be in eval mode."""
    import torch

    from .data import normalize

    device = next(model.parameters()).device
    x = normalize(image[None].to(device)).requires_grad_(True)
    found = last_conv(model)
    if found is None:
        with torch.enable_grad():
            score = model(x)[0, index]
            (gradient,) = torch.autograd.grad(score, x)
        heat, method = gradient[0].abs().amax(dim=0), "saliency"
    else:
        name, layer = found
        caught: list[torch.Tensor] = []
        handle = layer.register_forward_hook(lambda _m, _i, output: caught.append(output))
        try:
            with torch.enable_grad():
                score = model(x)[0, index]
                (gradient,) = torch.autograd.grad(score, caught[0])
        finally:
            handle.remove()
        weights = gradient[0].mean(dim=(1, 2), keepdim=True)
        cam = (weights * caught[0][0].detach()).sum(dim=0).clamp(min=0)
        heat = torch.nn.functional.interpolate(
            cam[None, None], size=image.shape[1:], mode="bilinear", align_corners=False
        )[0, 0]
        method = f"Grad-CAM on {name}"
    top = heat.max()
    heat = heat / top if top > 0 else torch.zeros_like(heat)
    return heat.detach().float().cpu().numpy(), method


def overlay(pixels: Any, heat: Any, scale: int = SCALE) -> Any:
    """(32, 32, 3) uint8 pixels enlarged `scale` times (nearest: the pixels the model saw)
    with the map (enlarged bilinearly) over them in a blue-to-red ramp; uint8 RGB."""
    import numpy as np
    import torch

    size = (pixels.shape[0] * scale, pixels.shape[1] * scale)
    big = np.repeat(np.repeat(pixels.astype(np.float32) / 255, scale, 0), scale, 1)
    smooth = torch.nn.functional.interpolate(
        torch.from_numpy(np.ascontiguousarray(heat, np.float32))[None, None],
        size=size,
        mode="bilinear",
        align_corners=False,
    )[0, 0].numpy()
    colour = np.stack(  # the "jet" ramp: 0 blue, 0.5 green, 1 red
        [np.clip(1.5 - np.abs(4 * smooth - c), 0, 1) for c in (3, 2, 1)], axis=-1
    )
    blended = (1 - ALPHA) * big + ALPHA * colour
    return np.clip(blended * 255 + 0.5, 0, 255).astype(np.uint8)


def explain_file(
    predictor: Predictor, path: str | Path, out: str | Path, label: str | None = None
) -> Explanation:
    """Explain an image file for class `label` (default: the class it is predicted as) and
    write the enlarged overlay to `out` as an 8-bit PNG.

    Raises ImageError (one line) for an image that cannot be read, PngFileError where
    `out` cannot or may not be written (a file cnn-tui did not write is never replaced),
    ConfigError for a class the model does not know.
    """
    import torch

    from .attack import class_index
    from .images import load_image_array
    from .our_png import check_writable, write_png

    out = Path(out).expanduser()
    check_writable(out, "--explain")
    pixels = load_image_array(path)
    image = torch.from_numpy(pixels.transpose(2, 0, 1).copy())
    if label is None:
        index = int(predictor.predict(image[None])[0].argmax())
    else:
        index = class_index(predictor.classes, label, "--explain-class")
    heat, method = heat_map(predictor.model, image, index)
    write_png(out, overlay(pixels, heat), WRITTEN_BY)
    return Explanation(predictor.classes[index], method, heat)
