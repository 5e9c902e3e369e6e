"""What the Explore screen shows, computed: the image, the current model's feature maps and
conv1's kernels, and a 3x3 kernel applied to the image.

Every method runs in a thread worker (they load torch and the weights). The model is
loaded once per weights file and kept here, touched only under a lock, so a screen never
holds a torch module. What comes back are plain lists and numbers (made here, in float64,
so pictures and numbers are the same on every machine whatever its float32 summation
order), ready for the widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.state import CurrentModel, PickedImage

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import torch
    from cnn_tui.core.data import DataSet
    from torch import nn

ImageKey = tuple[str, int]  # ("picked", id of the pick) or ("index", n): the image asked for
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class ModelRef:
    """The weights to explore: a file as it is now, or an untrained model by name."""

    key: tuple[str, int | str]  # changes when the weights do
    path: str | None  # None: untrained
    name: str  # the model, for an untrained one
    origin: str

    @classmethod
    def of(cls, current: CurrentModel | None, fallback: str) -> ModelRef:
        """The current weights, else an untrained `fallback` model."""
        if current is None:
            return cls(("untrained", fallback), None, fallback, "untrained")
        path = Path(current.path)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            stamp = 0
        return cls((str(path), stamp), str(path), "", current.origin)


@dataclass
class LayerView:
    """One layer's maps as plain lists for the widgets."""

    name: str
    kind: str
    detail: str
    shape: tuple[int, int, int]
    maps: list[list[list[float]]]  # C x H x W
    ranges: list[tuple[float, float]]  # per channel
    value_range: tuple[float, float]


@dataclass
class ModelSide:
    """What the current weights give for the current image."""

    key: tuple[str, int | str]
    label: str  # "net from birds_vs_airplanes.pt (shipped)"
    layers: list[LayerView] = field(default_factory=list)
    error: str = ""  # why there are no feature maps (e.g. a model without convolutions)
    kernel_layer: str = ""
    kernel_tiles: list[list[list[RGB]]] = field(default_factory=list)  # K x 3 x 3
    kernel_weights: list[list[list[list[float]]]] = field(default_factory=list)  # K x C x 3 x 3
    kernel_bias: list[float] = field(default_factory=list)


@dataclass
class Picture:
    """The image everything is computed for."""

    key: ImageKey
    label: str  # where it comes from, in words
    pixels: torch.Tensor  # uint8 (3, 32, 32)
    rgb: list[list[RGB]]  # 32 rows of 32


@dataclass(frozen=True)
class KernelView:
    """A kernel applied to the picture: the output as lists, and the shapes on the way."""

    output: list[list[float]]
    value_range: tuple[float, float]
    input_shape: tuple[int, ...]
    conv_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


class Exploring:
    """The model of the current weights, loaded once, and what it makes of an image."""

    def __init__(self, given: Callable[[], DataSet | None]) -> None:
        """given: the data set the app was given (its validation images are shown when
        nothing is picked; the bundled sample's when there is none)."""
        self._given = given
        self._lock = threading.Lock()  # one model load at a time (workers cannot be stopped)
        self._model: nn.Module | None = None
        self._model_key: tuple[str, int | str] | None = None
        self._model_label = ""

    def compute(
        self,
        ref: ModelRef,
        image: ImageKey,
        picked: PickedImage | None,
        index: int,
        shown: Picture | None,
        cancelled: Callable[[], bool],
    ) -> tuple[Picture, ModelSide] | None:
        """The picture asked for (`shown` again if it is the one) and what the model makes
        of it; None when cancelled while waiting for another computation.

        picked: the image picked on Predict, if it is the one asked for; index: the
        validation image shown otherwise (or when the picked one is not 32x32 RGB).
        """
        with self._lock:
            if cancelled():
                return None  # a newer request came while this one waited
            if shown is None or shown.key != image:
                shown = self._picture(image, picked, index)
            return shown, self._side(ref, shown)

    def _picture(self, key: ImageKey, picked: PickedImage | None, index: int) -> Picture:
        pixels = image_chw(picked.pixels) if picked is not None else None
        label = describe_pick(picked) if picked is not None else ""
        if pixels is None:
            dataset = self._given()
            if dataset is None:
                from cnn_tui.core.data import load_sample

                dataset = load_sample()
                where = "sample"
            else:
                where = "data"
            images, labels = dataset.val.images, dataset.val.labels
            index = index % len(images)
            pixels = images[index].contiguous()
            name = dataset.classes[int(labels[index])]
            label = f"{where} val #{index} ({name})"
            if picked is not None:
                label = f"{label}; the picked image is not 32x32 RGB"
        rgb = [[(r, g, b) for r, g, b in row] for row in pixels.permute(1, 2, 0).tolist()]
        return Picture(key, label, pixels, rgb)

    def _load(self, ref: ModelRef) -> nn.Module:
        if self._model is None or self._model_key != ref.key:
            if ref.path is not None:
                from cnn_tui.core.weights import load_model

                model, meta = load_model(ref.path)
                label = f"{meta['model']} from {Path(ref.path).name} ({ref.origin})"
            else:
                from cnn_tui.core.models import build_model

                model = build_model(ref.name)
                label = f"{ref.name} with untrained random weights (no weights file)"
            self._model, self._model_key, self._model_label = model, ref.key, label
        return self._model

    def _side(self, ref: ModelRef, picture: Picture) -> ModelSide:
        from cnn_tui.core.features import FeatureError, feature_maps
        from cnn_tui.core.kernels import KernelError, learned_kernels

        model = self._load(ref)
        side = ModelSide(ref.key, self._model_label)
        try:
            layers = feature_maps(model, picture.pixels, precise=True)
        except FeatureError as error:
            side.error = str(error)
            layers = []
        for layer in layers:
            side.layers.append(
                LayerView(
                    layer.name,
                    layer.kind,
                    layer.detail,
                    layer.shape,
                    layer.maps.tolist(),
                    layer.channel_ranges(),
                    layer.value_range,
                )
            )
        try:
            kernels = learned_kernels(model)
        except KernelError:
            return side
        side.kernel_layer = kernels.layer
        side.kernel_tiles = [
            [[(r, g, b) for r, g, b in row] for row in tile] for tile in kernels.tiles().tolist()
        ]
        side.kernel_weights = kernels.weights.tolist()
        side.kernel_bias = kernels.bias.tolist()
        return side


def apply(
    picture: Picture,
    kernel: Sequence[Sequence[float]] | Sequence[Sequence[Sequence[float]]],
    *,
    padding: bool = True,
    pool: str | None = None,
    bias: float = 0.0,
    scale: str = "normalized",
) -> KernelView:
    """One kernel (3x3 on every channel, or C x 3 x 3) applied to the picture, then pooled;
    core.kernels.KernelError says why not."""
    from cnn_tui.core.kernels import apply_kernel

    result = apply_kernel(
        picture.pixels, kernel, padding=padding, pool=pool, bias=bias, scale=scale, precise=True
    )
    return KernelView(
        result.output.tolist(),
        result.value_range,
        result.input_shape,
        result.conv_shape,
        result.output_shape,
    )


def describe_pick(picked: PickedImage) -> str:
    """Where the picked image comes from, in words."""
    if picked.label:
        return f"picked: {picked.label}"
    if picked.path:
        return f"picked: {Path(picked.path).name}"
    return "picked on Predict"


def image_chw(pixels: npt.NDArray[np.uint8] | torch.Tensor | None) -> torch.Tensor | None:
    """Pixels as a uint8 (3, 32, 32) CPU tensor (from HWC, a batch of one, or floats in
    0..1), or None when they are not a 32x32 RGB image."""
    import torch

    if pixels is None:
        return None
    tensor = pixels if isinstance(pixels, torch.Tensor) else torch.as_tensor(pixels)
    if tensor.dim() == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tuple(tensor.shape) == (32, 32, 3):
        tensor = tensor.permute(2, 0, 1)
    if tuple(tensor.shape) != (3, 32, 32):
        return None
    if tensor.dtype != torch.uint8:
        if tensor.is_floating_point() and float(tensor.max()) <= 1.0:
            tensor = tensor * 255
        tensor = tensor.round().clamp(0, 255).to(torch.uint8)
    return tensor.contiguous().cpu()
