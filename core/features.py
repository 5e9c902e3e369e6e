"""Feature maps: what each convolution, activation and pooling layer makes of one image.

The image goes through the model exactly as in training and prediction (uint8 -> [0, 1] ->
the book's normalisation, eval mode) while forward hooks on the model's named modules
(conv1, act1, pool1, ...: see models.py) keep every output that is still an image, a
(1, C, H, W) tensor. The layers come back in the order the data pass through them.

Nothing here imports torch at module level (the app imports this module at start-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .errors import CnnTuiError

if TYPE_CHECKING:
    import torch
    from torch import nn

# Module types whose outputs are shown, by class name (so no torch import is needed here).
# Dropout is left out: in eval mode it hands its input on unchanged.
CONV = ("Conv2d",)
POOL = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
ACTIVATION = ("Tanh", "ReLU", "LeakyReLU", "Sigmoid", "GELU", "SiLU")
NORM = ("BatchNorm2d",)
BLOCK = ("ResBlock",)


class FeatureError(CnnTuiError, ValueError):
    """The feature maps cannot be computed for this model or image; one line says why."""


@dataclass
class LayerMaps:
    """One layer's output for one image: C maps of H x W."""

    name: str  # the module's name in the model, e.g. "conv1" or "resblocks.0"
    kind: str  # its class name, e.g. "Conv2d"
    detail: str  # what it is, e.g. "Conv2d 3->16, 3x3, padding 1"
    maps: torch.Tensor  # (C, H, W) float32 on the CPU (float64 when asked for)

    @property
    def shape(self) -> tuple[int, int, int]:
        c, h, w = self.maps.shape
        return int(c), int(h), int(w)

    @property
    def channels(self) -> int:
        return int(self.maps.shape[0])

    @property
    def value_range(self) -> tuple[float, float]:
        """The smallest and largest value over all channels."""
        return float(self.maps.min()), float(self.maps.max())

    def channel_range(self, index: int) -> tuple[float, float]:
        """The smallest and largest value of one channel."""
        channel = self.maps[index]
        return float(channel.min()), float(channel.max())

    def channel_ranges(self) -> list[tuple[float, float]]:
        flat = self.maps.reshape(self.maps.shape[0], -1)
        return list(
            zip(flat.min(dim=1).values.tolist(), flat.max(dim=1).values.tolist(), strict=True)
        )

    @property
    def label(self) -> str:
        """'conv1 Conv2d (16, 32, 32)'."""
        c, h, w = self.shape
        return f"{self.name} {self.kind} ({c}, {h}, {w})"


def shown_kinds(activations: bool = True, norms: bool = True) -> tuple[str, ...]:
    """The module class names feature_maps keeps by default."""
    kinds: tuple[str, ...] = CONV + POOL + BLOCK
    if activations:
        kinds += ACTIVATION
    if norms:
        kinds += NORM
    return kinds


def _detail(module: nn.Module) -> str:
    """A short description: 'Conv2d 3->16, 3x3, padding 1', 'MaxPool2d 2', 'Tanh'."""
    kind = type(module).__name__
    if kind == "Conv2d":
        conv = cast("nn.Conv2d", module)
        k = "x".join(str(v) for v in conv.kernel_size)
        pad = conv.padding if isinstance(conv.padding, str) else max(conv.padding)
        text = f"{kind} {conv.in_channels}->{conv.out_channels}, {k}, padding {pad}"
        return text + ("" if conv.bias is not None else ", no bias")
    if kind in ("MaxPool2d", "AvgPool2d"):
        return f"{kind} {module.kernel_size}"
    if kind == "BatchNorm2d":
        return f"{kind} {module.num_features}"
    if kind == "ResBlock":
        return f"{kind} (conv, batch norm, ReLU, plus its input)"
    return kind


def feature_maps(
    model: nn.Module,
    image: Any,
    *,
    kinds: tuple[str, ...] | None = None,
    precise: bool = False,
) -> list[LayerMaps]:
    """Every shown layer's output for one image, in the order the forward pass meets them.

    image: uint8 (3, 32, 32) as the data sets hold it (torch tensor or numpy array).
    kinds: module class names to keep (default: convolutions, batch norms, activations,
    pools and residual blocks). A module called twice (a shared block) appears twice, the
    second time as "name (2)". The model's train/eval mode is restored afterwards.
    precise: run a float64 copy of the model (on the CPU), so that what is shown does not
    depend on the machine's float32 summation order (the app's pictures and numbers stay
    the same everywhere); the maps then differ from float32 ones by about 1e-6.
    """
    import torch

    from .data import normalize

    tensor = image if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    if tensor.dtype != torch.uint8 or tuple(tensor.shape) != (3, 32, 32):
        raise FeatureError(
            f"expected a uint8 image shaped (3, 32, 32), got {tensor.dtype} {tuple(tensor.shape)}"
        )
    keep = kinds if kinds is not None else shown_kinds()
    layers: list[LayerMaps] = []
    calls: dict[str, int] = {}

    def hook_for(name: str):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not isinstance(output, torch.Tensor) or output.dim() != 4:
                return  # not an image any more (after flatten) or not a tensor
            calls[name] = calls.get(name, 0) + 1
            shown = name if calls[name] == 1 else f"{name} ({calls[name]})"
            maps = output[0].detach().cpu().clone()
            if not precise:
                maps = maps.float()
            layers.append(LayerMaps(shown, type(module).__name__, _detail(module), maps))

        return hook

    if precise:
        import copy

        model = copy.deepcopy(model).to("cpu", torch.float64)
    handles = [
        module.register_forward_hook(hook_for(name))
        for name, module in model.named_modules()
        if name and type(module).__name__ in keep
    ]
    was_training = model.training
    try:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        dtype = torch.float64 if precise else torch.float32
        model.eval()
        with torch.inference_mode():
            model(normalize(tensor.unsqueeze(0).to(device)).to(dtype))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if not layers:
        raise FeatureError(f"{type(model).__name__} has no convolution or pooling layer to show")
    return layers


__all__ = ["FeatureError", "LayerMaps", "feature_maps", "shown_kinds"]
