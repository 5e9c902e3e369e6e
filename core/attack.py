"""Tricking the model: a targeted attack that makes a picture read as another class.

The chapter's second exercise asks to make an airplane read as a bird. `perturb` is
projected gradient descent (Madry et al. 2018) on the 32x32 pixels the model sees: each
step moves every pixel by a fixed amount in the direction that raises the target class's
score, then clips the change to an L-infinity budget `eps` (in pixel units of 0..1).

The picture a user keeps is an 8-bit PNG, so the attack is judged on 8-bit pixels: each
step's gradient is taken at the rounded image (the continuous iterate only accumulates
the steps) and the attack stops when the rounded image reads as the target. The budget is
whole 8-bit levels (eps rounded down to a multiple of 1/255), so rounding can never break
it. `attack_file` then writes the PNG and judges success by reading it back and
classifying it again, as `cnn-tui predict` would.

Hand-written rather than with Captum's `captum.robust.PGD` (measured with Captum 0.9.0):
Captum would add about 84 MB (Captum 4.4 MB, and matplotlib with its fonts and helpers, a
hard dependency) and 0.8-1.2 s to the first attack's import; its PGD always runs every
step, so on 20 validation images it fooled all 20 but moved pixels the whole 8/255, where
stopping at the first 8-bit success needs a median 2/255; and its default loss expects
probabilities, not the logits our models give. This is about 30 lines of torch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .our_png import check_writable, write_png
from .refused import ConfigError, shown

if TYPE_CHECKING:
    import torch

    from .predict import Predictor

DEFAULT_EPS = 8 / 255
DEFAULT_STEPS = 40
MAX_STEPS = 10_000
STEP_FACTOR = 2.5  # each step moves 2.5 * budget / steps: the budget is crossed 2.5 times
WRITTEN_BY = "cnn-tui attack"  # the PNG's Software text (core/our_png.py)


@dataclass(frozen=True)
class Reading:
    """What the model made of one picture: its class and every class's probability."""

    label: str
    probabilities: dict[str, float]

    def as_json(self) -> dict[str, Any]:
        return {"class": self.label, "probabilities": dict(self.probabilities)}


@dataclass(frozen=True)
class AttackResult:
    """One attack on a file: the PNG written, and the model's reading before and after."""

    path: str  # the image attacked (printable)
    out: str  # the adversarial PNG written
    target: str
    eps: float
    linf: float  # largest pixel change between the PNG read back and the original, 0..1
    success: bool  # the PNG read back is classified as the target
    steps: int  # gradient steps taken
    original: Reading
    adversarial: Reading
    original_pixels: Any = field(default=None, repr=False)  # (32, 32, 3) uint8 numpy
    adversarial_pixels: Any = field(default=None, repr=False)  # as read back from the PNG

    def as_json(self) -> dict[str, Any]:
        """The `cnn-tui attack --json` object (a stable format: see README)."""
        return {
            "path": self.path,
            "target": self.target,
            "eps": self.eps,
            "linf": self.linf,
            "success": self.success,
            "out": self.out,
            "original": self.original.as_json(),
            "adversarial": self.adversarial.as_json(),
        }


def check_eps(text: str | float) -> float:
    """An L-infinity budget in pixel units of 0..1: a number (0.03) or a fraction (8/255)."""
    value: float | None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*/\s*([0-9.eE+-]+)\s*", text)
        try:
            value = float(match.group(1)) / float(match.group(2)) if match else float(text)
        except (ValueError, ZeroDivisionError):
            value = None
    if value is None or not math.isfinite(value) or not 0 <= value <= 1:
        raise ConfigError(
            f"eps must be a number from 0 to 1 (pixel units; e.g. 0.03 or 8/255), not {shown(text)}"
        )
    return value


def check_steps(text: str | int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_STEPS:
        raise ConfigError(
            f"steps must be a whole number from 1 to {MAX_STEPS:,}, not {shown(text)}"
        )
    return value


def levels(eps: float) -> int:
    """The budget in whole 8-bit levels: eps rounded down to a multiple of 1/255."""
    return math.floor(eps * 255 + 1e-6)


def perturb(
    model: torch.nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    eps: float = DEFAULT_EPS,
    steps: int = DEFAULT_STEPS,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Targeted PGD on uint8 (N, 3, 32, 32) images toward targets (N,) class indices.

    Returns the adversarial uint8 images (for an image that never reached its target, the
    step whose rounded image gave the target the highest probability), whether each reads
    as its target, and the steps each took. No pixel moves more than levels(eps) / 255.
    The model must be in eval mode; its parameters' gradients are left untouched.
    """
    import torch

    from .data import MEAN, STD

    device = next(model.parameters()).device
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1) * 255
    original = images.to(device).float()
    targets = targets.to(device)
    budget = levels(eps)
    low, high = (original - budget).clamp(0, 255), (original + budget).clamp(0, 255)
    step = STEP_FACTOR * budget / steps
    x = original.clone()
    best = original.clone()
    best_score = torch.full((len(images),), -1.0, device=device)
    done = torch.zeros(len(images), dtype=torch.bool, device=device)
    taken = torch.zeros(len(images), dtype=torch.long, device=device)
    active = torch.arange(len(images), device=device)  # the images still stepping
    last = steps if budget else 0  # with no budget there is nothing to try
    for number in range(last + 1):
        rounded = x[active].round().requires_grad_(True)
        aim = targets[active]
        with torch.enable_grad():
            logits = model((rounded - mean) / std)
        score = logits.detach().softmax(dim=1).gather(1, aim[:, None])[:, 0]
        hit = logits.detach().argmax(dim=1) == aim
        better = hit | (score > best_score[active])  # a hit is kept even if less sure
        best[active[better]] = rounded.detach()[better]
        best_score[active[better]] = score[better]
        done[active[hit]] = True
        if bool(hit.all()) or number == last:
            break
        with torch.enable_grad():
            loss = torch.nn.functional.cross_entropy(logits, aim, reduction="sum")
            (gradient,) = torch.autograd.grad(loss, rounded)
        active, gradient = active[~hit], gradient[~hit]
        moved = x[active] - step * gradient.sign()
        x[active] = torch.minimum(torch.maximum(moved, low[active]), high[active])
        taken[active] += 1
    return best.round().to(torch.uint8).cpu(), done.cpu(), taken.cpu()


def attack_file(
    predictor: Predictor,
    path: str | Path,
    target: str,
    out: str | Path | None = None,
    *,
    eps: float = DEFAULT_EPS,
    steps: int = DEFAULT_STEPS,
) -> AttackResult:
    """Attack an image file toward `target`, write the result to `out` (default: see
    default_out) as an 8-bit PNG and judge it by reading that PNG back and classifying it.

    Raises ImageError (one line) for an image that cannot be read, PngFileError where
    `out` cannot or may not be written (a file cnn-tui did not write is never replaced),
    ConfigError for a class the model does not know.
    """
    import numpy as np
    import torch

    from .images import load_image_array
    from .safe_files import printable_path

    index = class_index(predictor.classes, target)
    out = Path(out).expanduser() if out else default_out(path, predictor.classes[index])
    check_writable(out)
    pixels = load_image_array(path)
    tensor = torch.from_numpy(pixels.transpose(2, 0, 1).copy())[None]
    with torch.inference_mode():
        before = predictor.answer(predictor.predict(tensor)[0])
    adversarial, _, taken = perturb(
        predictor.model, tensor, torch.tensor([index]), eps=eps, steps=steps
    )
    write_png(out, adversarial[0].numpy().transpose(1, 2, 0), WRITTEN_BY)
    back = load_image_array(out)  # the judge is the file, not the tensor
    again = torch.from_numpy(back.transpose(2, 0, 1).copy())[None]
    after = predictor.answer(predictor.predict(again)[0])
    change = np.abs(back.astype(np.int16) - pixels.astype(np.int16)).max()
    return AttackResult(
        path=printable_path(str(path)),
        out=printable_path(str(out)),
        target=predictor.classes[index],
        eps=eps,
        linf=float(change) / 255,
        success=after[0] == predictor.classes[index],
        steps=int(taken[0]),
        original=Reading(*before),
        adversarial=Reading(*after),
        original_pixels=pixels,
        adversarial_pixels=back,
    )


def class_index(classes: list[str], name: str, what: str = "target") -> int:
    """The index of a class named by a user (any case), or ConfigError naming the classes;
    `what` says which option named it."""
    found = [i for i, c in enumerate(classes) if c.casefold() == name.strip().casefold()]
    if not found:
        raise ConfigError(
            f"{what} {shown(name)} is not one of the model's classes: {', '.join(classes)}"
        )
    return found[0]


def default_out(path: str | Path, target: str) -> Path:
    """Where the adversarial PNG goes when no --out is given: the current folder,
    `<image name>-as-<target>.png`."""
    return Path(f"{Path(path).stem}-as-{target}.png")
