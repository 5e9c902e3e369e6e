"""The kernel playground of section 8.2.2: hand-set 3x3 kernels, padding and pooling.

The maths is the book's. The image becomes what the book feeds its convolution: a float
tensor from ToTensor() (values in [0, 1]) normalised with the CIFAR-10 statistics
(`scale="normalized"`, the default; `scale="unit"` skips the normalisation). The book
then builds `nn.Conv2d(3, 1, kernel_size=3, padding=1)` and sets `conv.weight[:]` to one
3x3 kernel, so the same kernel is applied to each of R, G and B and the three results are
added, plus a zero bias: the output is a single grey map. Here that is
`F.conv2d(x, weight.expand(1, 3, 3, 3), bias)`, the same numbers. Two consequences a
reader checks by hand: the blur (all 1/9) of an image whose channels are the constants
r, g, b is r + g + b inside the image (each channel's 3x3 mean is its constant), and with
padding 1 the border pixels see zeros beyond the edge (a corner keeps 4/9 of it, an edge
6/9). The vertical edge (each row [-1, 0, 1]) computes right minus left neighbour, summed
over the 3 rows and the 3 channels: a step of height h from left to right gives 9h on the
two columns beside the step and 0 elsewhere.

A learned kernel of the model's first convolution has its own 3x3 slice per input
channel, shape (3, 3, 3), and a bias: apply_kernel takes those too, and on the normalised
image it gives exactly that channel of the model's conv1 output.

Nothing here imports torch at module level (the app imports this module at start-up).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import CnnTuiError

if TYPE_CHECKING:
    import torch
    from torch import nn

Kernel3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]

_NINTH = 1.0 / 9.0

# The chapter's two (blur, vertical edge) and three more that show other things a 3x3 does.
KERNELS: dict[str, Kernel3] = {
    "blur": ((_NINTH, _NINTH, _NINTH), (_NINTH, _NINTH, _NINTH), (_NINTH, _NINTH, _NINTH)),
    "vertical edge": ((-1.0, 0.0, 1.0), (-1.0, 0.0, 1.0), (-1.0, 0.0, 1.0)),
    "horizontal edge": ((-1.0, -1.0, -1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    "sharpen": ((0.0, -1.0, 0.0), (-1.0, 5.0, -1.0), (0.0, -1.0, 0.0)),
    "identity": ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0)),
}

KERNEL_NOTES: dict[str, str] = {
    "blur": "each output pixel is the mean of its 3x3 neighbourhood (the book's 1/9)",
    "vertical edge": "right minus left neighbours: bright where the image gets brighter "
    "to the right (the book's rows of [-1, 0, 1])",
    "horizontal edge": "lower minus upper neighbours: bright where the image gets brighter "
    "downwards",
    "sharpen": "5 times the pixel minus its four neighbours: edges stand out",
    "identity": "the pixel itself (added over R, G and B)",
}

SCALES = ("normalized", "unit")
POOLS = (None, "max", "avg")

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SEPARATORS = re.compile(r"[\s,;]+")


class KernelError(CnnTuiError, ValueError):
    """A kernel or an option the playground cannot use; the message is one line."""


def _parse_number(word: str) -> float:
    """One number: a decimal (1, -0.5, 2e-3) or a fraction (1/9, -1/8)."""
    parts = word.split("/")
    if len(parts) > 2 or not all(_NUMBER.match(part) for part in parts):
        lowered = word.lower().lstrip("+-")
        if lowered in ("inf", "infinity", "nan"):
            raise KernelError(f"{word!r} is not a finite number")
        raise KernelError(f"{word!r} is not a number")
    value = float(parts[0])
    if len(parts) == 2:
        denominator = float(parts[1])
        if denominator == 0:
            raise KernelError(f"{word!r} divides by zero")
        value /= denominator
    if not math.isfinite(value):
        raise KernelError(f"{word!r} is too large to be a finite number")
    return value


def parse_kernel(text: str) -> Kernel3:
    """Nine numbers, row by row, separated by spaces, commas, semicolons or new lines.

    Brackets are ignored, so `[[-1,0,1],[-1,0,1],[-1,0,1]]` works as well as
    `-1 0 1 -1 0 1 -1 0 1`; fractions such as 1/9 are allowed. Raises KernelError with a
    one-line reason otherwise.
    """
    cleaned = re.sub(r"[\[\]()]", " ", text)
    words = [word for word in _SEPARATORS.split(cleaned) if word]
    if not words:
        raise KernelError("type nine numbers, row by row (e.g. -1 0 1 -1 0 1 -1 0 1)")
    values = [_parse_number(word) for word in words]
    if len(values) != 9:
        raise KernelError(f"a 3x3 kernel needs exactly nine numbers, got {len(values)}")
    return (
        (values[0], values[1], values[2]),
        (values[3], values[4], values[5]),
        (values[6], values[7], values[8]),
    )


def format_kernel(kernel: Kernel3 | Sequence[Sequence[float]]) -> str:
    """Nine numbers as parse_kernel reads them back: '-1 0 1; -1 0 1; -1 0 1'."""
    rows = []
    for row in kernel:
        rows.append(" ".join(_short(float(value)) for value in row))
    return "; ".join(rows)


def _short(value: float) -> str:
    if abs(value - _NINTH) < 1e-12:
        return "1/9"
    if abs(value + _NINTH) < 1e-12:
        return "-1/9"
    return f"{value:.4g}"


def to_input(image: Any, scale: str = "normalized", precise: bool = False) -> torch.Tensor:
    """What the book's convolution receives: a float32 (C, H, W) tensor (float64: precise).

    image: uint8 (C, H, W) as the data sets hold it (a torch tensor or a numpy array),
    converted to [0, 1] and, for scale="normalized" with 3 channels, normalised with the
    book's CIFAR-10 mean and std. A float tensor is taken as already converted (tests feed
    exact values this way).
    """
    import torch

    from .data import MEAN, STD

    if scale not in SCALES:
        raise KernelError(f"unknown scale {scale!r}: choose normalized or unit")
    tensor = image if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    if tensor.dim() != 3:
        raise KernelError(f"expected an image shaped (C, H, W), got {tuple(tensor.shape)}")
    dtype = torch.float64 if precise else torch.float32
    if tensor.dtype != torch.uint8:
        return tensor.detach().to(dtype).cpu()
    x = tensor.detach().cpu().to(dtype) / 255.0
    if scale == "normalized":
        if x.shape[0] != 3:
            raise KernelError(f"normalising needs 3 channels (RGB), got {x.shape[0]}")
        mean = torch.tensor(MEAN, dtype=torch.float32).to(dtype).view(3, 1, 1)
        std = torch.tensor(STD, dtype=torch.float32).to(dtype).view(3, 1, 1)
        x = (x - mean) / std
    return x


@dataclass
class KernelResult:
    """One pass through the playground: what went in, what the convolution and pool gave.

    Shapes are written as the book prints them, with the batch dimension:
    (1, 3, 32, 32) -> (1, 1, 32, 32) -> (1, 1, 16, 16).
    """

    input: torch.Tensor  # (C, H, W) float32 (float64: precise): what the convolution saw
    conv: torch.Tensor  # (H', W') the convolution's single output map
    output: torch.Tensor  # (H'', W'') after the pool (the conv map itself without one)
    weight: torch.Tensor  # (1, C, 3, 3) the convolution's weight, as set
    bias: float
    padding: bool
    pool: str | None
    scale: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, *self.input.shape)

    @property
    def conv_shape(self) -> tuple[int, ...]:
        return (1, 1, *self.conv.shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (1, 1, *self.output.shape)

    @property
    def value_range(self) -> tuple[float, float]:
        """The output's smallest and largest value."""
        return float(self.output.min()), float(self.output.max())

    def describe(self) -> str:
        """The path of shapes, e.g. '(1, 3, 32, 32) -> conv 3x3, padding 1 -> (1, 1, 32, 32)'."""
        pad = "padding 1" if self.padding else "no padding"
        text = f"{self.input_shape} -> conv 3x3, {pad} -> {self.conv_shape}"
        if self.pool:
            text += f" -> {self.pool} pool 2 -> {self.output_shape}"
        return text


def kernel_weight(kernel: Any, channels: int = 3, precise: bool = False) -> torch.Tensor:
    """The (1, C, 3, 3) weight of the book's nn.Conv2d(C, 1, 3) for a kernel.

    A 3x3 kernel is set on every input channel, as `conv.weight[:] = kernel` does; a
    (C, 3, 3) kernel (a learned one) gives each channel its own slice.
    """
    import torch

    k = torch.as_tensor(kernel, dtype=torch.float64 if precise else torch.float32)
    if k.shape == (3, 3):
        return k.expand(1, channels, 3, 3).clone()
    if k.shape == (channels, 3, 3):
        return k.reshape(1, channels, 3, 3).clone()
    if k.shape == (1, channels, 3, 3):
        return k.clone()
    raise KernelError(f"a kernel must be 3x3 or ({channels}, 3, 3), got {tuple(k.shape)}")


def apply_kernel(
    image: Any,
    kernel: Any,
    *,
    padding: bool = True,
    pool: str | None = None,
    bias: float = 0.0,
    scale: str = "normalized",
    precise: bool = False,
) -> KernelResult:
    """Convolve the image with one kernel (the book's Conv2d(C, 1, 3)), then pool by 2.

    padding: 1 pixel of zeros on each side (32x32 stays 32x32) or none (32x32 -> 30x30).
    pool: None, "max" (nn.MaxPool2d(2)) or "avg" (nn.AvgPool2d(2)); 32 -> 16, 30 -> 15.
    precise: compute in float64 (the app does, so that its pictures and numbers do not
    depend on the machine's float32 summation order); float32 is the book's.
    """
    import torch
    import torch.nn.functional as F

    if pool not in POOLS:
        raise KernelError(f"unknown pool {pool!r}: choose none, max or avg")
    x = to_input(image, scale, precise)
    weight = kernel_weight(kernel, x.shape[0], x.dtype == torch.float64)
    if not torch.isfinite(weight).all():
        raise KernelError("the kernel holds a value that is not a finite number")
    if x.shape[1] < 3 - 2 * int(padding) or x.shape[2] < 3 - 2 * int(padding):
        raise KernelError(f"the image {tuple(x.shape)} is too small for a 3x3 kernel")
    with torch.no_grad():
        conv = F.conv2d(
            x.unsqueeze(0),
            weight,
            torch.tensor([float(bias)], dtype=x.dtype),
            padding=1 if padding else 0,
        )
        out = conv
        if pool == "max":
            out = F.max_pool2d(conv, 2)
        elif pool == "avg":
            out = F.avg_pool2d(conv, 2)
    return KernelResult(
        input=x,
        conv=conv[0, 0],
        output=out[0, 0],
        weight=weight,
        bias=float(bias),
        padding=padding,
        pool=pool,
        scale=scale,
    )


# -- the learned kernels ----------------------------------------------------------------


@dataclass
class LearnedKernels:
    """The first convolution's kernels of a model: weights (K, 3, 3, 3) and biases (K,)."""

    layer: str  # the module's name, "conv1" for every model of the chapter
    weights: torch.Tensor  # (K, C, 3, 3) float32 on the CPU
    bias: torch.Tensor  # (K,) float32 (zeros when the layer has no bias)

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def tiles(self) -> torch.Tensor:
        """(K, 3, 3, 3) uint8: each kernel as a 3x3 RGB picture (rows, columns, RGB)."""
        return kernel_tiles(self.weights)

    def kernel(self, index: int) -> torch.Tensor:
        """Kernel index's (C, 3, 3) weights, ready for apply_kernel."""
        if not 0 <= index < len(self):
            raise KernelError(f"kernel {index} does not exist: there are {len(self)}")
        return self.weights[index]


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    """The model's first 3x3 convolution on the RGB input, with its name."""
    from torch import nn

    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and module.in_channels == 3:
            return name, module
    raise KernelError(f"{type(model).__name__} has no convolution on the image")


def learned_kernels(model: nn.Module) -> LearnedKernels:
    """conv1's kernels of the given (current) weights."""
    import torch

    name, conv = first_conv(model)
    weights = conv.weight.detach().float().cpu().clone()
    if conv.bias is not None:
        bias = conv.bias.detach().float().cpu().clone()
    else:
        bias = torch.zeros(weights.shape[0])
    return LearnedKernels(name, weights, bias)


def kernel_tiles(weights: torch.Tensor) -> torch.Tensor:
    """(K, 3, kh, kw) weights -> (K, kh, kw, 3) uint8 RGB, each kernel stretched to 0..255.

    Each kernel is normalised on its own (its smallest weight black, its largest white),
    as kernel pictures usually are; a kernel of equal weights is mid grey.
    """
    import torch

    if weights.dim() != 4 or weights.shape[1] != 3:
        raise KernelError(f"expected kernels shaped (K, 3, kh, kw), got {tuple(weights.shape)}")
    w = weights.detach().float().cpu()
    flat = w.reshape(w.shape[0], -1)
    lo = flat.min(dim=1).values.view(-1, 1, 1, 1)
    hi = flat.max(dim=1).values.view(-1, 1, 1, 1)
    span = hi - lo
    unit = torch.where(span > 0, (w - lo) / torch.where(span > 0, span, 1.0), 0.5)
    return (unit * 255.0).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


__all__ = [
    "KERNELS",
    "KERNEL_NOTES",
    "POOLS",
    "SCALES",
    "Kernel3",
    "KernelError",
    "KernelResult",
    "LearnedKernels",
    "apply_kernel",
    "first_conv",
    "format_kernel",
    "kernel_tiles",
    "kernel_weight",
    "learned_kernels",
    "parse_kernel",
    "to_input",
]
