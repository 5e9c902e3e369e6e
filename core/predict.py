"""Asking a trained model what is in a picture: `cnn-tui predict` and the app's Predict screen.

A Predictor holds a model in eval mode, its class names and its device. Image files go
through core/images.py (any size or mode; huge, broken or non-image files refused with one
line), so one bad file never stops the others from getting their answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class Predictor:
    """A model ready to answer: eval mode, class names, device."""

    model: nn.Module
    classes: list[str]
    device: Any = None  # torch.device; None: the model's own
    meta: dict[str, Any] | None = None  # the weights file's metadata, when loaded from one

    def __post_init__(self) -> None:
        if self.device is None:
            self.device = next(self.model.parameters()).device
        self.model.to(self.device).eval()

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        *,
        model: str | None = None,
        num_classes: int | None = None,
        device: str = "cpu",
    ) -> Predictor:
        """Load a weights file (default: the shipped weights); raises WeightsError."""
        from .paths import default_weights
        from .weights import WeightsError, load_model

        path = Path(path) if path is not None else default_weights()
        if not path.exists() and path == default_weights():
            raise WeightsError(f"{path}: the shipped weights are missing; pass --weights FILE")
        net, meta = load_model(path, model=model, num_classes=num_classes)
        from .models import pick_device

        return cls(net, list(meta["classes"]), pick_device(device), meta)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, 32, 32) images -> (N, classes) probabilities on the CPU."""
        import torch

        from .data import normalize

        shape = tuple(images.shape)
        if images.dtype != torch.uint8 or len(shape) != 4 or shape[1:] != (3, 32, 32):
            raise ValueError(
                f"expected uint8 images shaped (N, 3, 32, 32), got {images.dtype} {shape}"
            )
        if len(images) == 0:
            return torch.zeros(0, len(self.classes))
        with torch.inference_mode():
            logits = self.model(normalize(images.to(self.device)))
            return logits.softmax(dim=1).float().cpu()

    def answer(self, probabilities: torch.Tensor) -> tuple[str, dict[str, float]]:
        """The top class and every class's probability for one image's row."""
        values = [float(p) for p in probabilities.tolist()]
        top = max(range(len(values)), key=values.__getitem__)
        return self.classes[top], dict(zip(self.classes, values, strict=True))

    def predict_files(self, paths: Iterable[str | Path]) -> list[dict[str, Any]]:
        """One object per path, in order: {path, class, probabilities} or {path, error}."""
        import torch

        from .images import ImageError, load_image_tensor

        paths = [str(p) for p in paths]
        results: list[dict[str, Any]] = []
        good: list[tuple[int, torch.Tensor]] = []
        for index, path in enumerate(paths):
            try:
                good.append((index, load_image_tensor(path)))
                results.append({"path": path})
            except ImageError as error:
                results.append({"path": path, "error": _one_line(error)})
        if good:
            probabilities = self.predict(torch.stack([image for _, image in good]))
            for (index, _), row in zip(good, probabilities, strict=True):
                top, table = self.answer(row)
                results[index] = {"path": paths[index], "class": top, "probabilities": table}
        return results


def predict_files(
    paths: Sequence[str | Path],
    weights: str | Path | None = None,
    *,
    model: str | None = None,
    num_classes: int | None = None,
) -> list[dict[str, Any]]:
    """The `cnn-tui predict --json` array for these files (weights default: the shipped).

    A bad weights file raises WeightsError; a bad image gives an {path, error} object.
    """
    predictor = Predictor.from_weights(weights, model=model, num_classes=num_classes)
    return predictor.predict_files(paths)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
