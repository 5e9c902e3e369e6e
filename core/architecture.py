"""The book's Net as a family: its kernel size, its two conv widths, its activation.

The chapter's first exercise asks what a 5x5 kernel, or a (1, 3) one, does to the parameter
count and to overfitting; the book's NetWidth is this family with 32 and 16 channels. An
`Architecture` says which member; `Architecture()` is the book's Net itself. Padding keeps
each conv's output the size of its input ("same": half the kernel, per dimension) unless it
is set, and the first linear layer takes whatever the two stages leave.

No torch here: the command line and the app check a choice, and count its parameters,
before torch has loaded. core/models.py builds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .refused import ConfigError, shown

if TYPE_CHECKING:
    import torch

ACTIVATIONS = ("tanh", "relu")
MAX_KERNEL = 15  # odd sizes 1..15 per dimension: 15 already sees half a 32x32 image
MAX_CHANNELS = 1024
# The largest of the chapter's models (fc-large) has 3.7 million parameters; ten million is
# past any exercise, and its weights (40 MB) still load (core/weights.py reads up to 64 MB).
MAX_PARAMETERS = 10_000_000
IMAGE_SIDE = 32  # CIFAR's images, the input every model of the app takes
HIDDEN = 32  # fc1's outputs, as in the book


@dataclass(frozen=True)
class Architecture:
    """One member of the Net family; the defaults are the book's Net."""

    kernel_size: tuple[int, int] = (3, 3)  # (height, width)
    channels: tuple[int, int] = (16, 8)  # conv1's and conv2's outputs
    activation: str = "tanh"
    padding: tuple[int, int] | None = None  # None: "same", kernel // 2 per dimension

    @property
    def pad(self) -> tuple[int, int]:
        """The padding the convs use: the one set, else "same"."""
        if self.padding is not None:
            return self.padding
        return (self.kernel_size[0] // 2, self.kernel_size[1] // 2)

    @property
    def feature_map(self) -> tuple[int, int]:
        """(height, width) after the two conv-and-pool stages (8x8 for the book's Net)."""
        sides = []
        for kernel, pad in zip(self.kernel_size, self.pad, strict=True):
            side = IMAGE_SIDE
            for _ in range(2):  # a conv (stride 1), then a 2x2 max pool, twice
                side = (side + 2 * pad - kernel + 1) // 2
            sides.append(side)
        return sides[0], sides[1]

    @property
    def flat_features(self) -> int:
        """fc1's inputs: conv2's channels times the last feature map (512 for the book's)."""
        height, width = self.feature_map
        return self.channels[1] * height * width

    def parameter_count(self, num_classes: int = 2) -> int:
        """The model's parameters, counted from the shapes (summary.py measures the same)."""
        area = self.kernel_size[0] * self.kernel_size[1]
        first, second = self.channels
        convs = (3 * area + 1) * first + (first * area + 1) * second
        return convs + (self.flat_features + 1) * HIDDEN + (HIDDEN + 1) * num_classes

    def describe(self) -> str:
        """In words, e.g. "5x5 kernels, 16 and 8 channels, tanh"; the padding when set."""
        words = (
            f"{self.kernel_size[0]}x{self.kernel_size[1]} kernels, {self.channels[0]} and "
            f"{self.channels[1]} channels, {self.activation}"
        )
        if self.padding is None:
            return words
        top, side = self.padding
        return words + f", padding {top}" + (f",{side}" if side != top else "")

    def short(self) -> str:
        """A table cell's words, e.g. "5x5 16,8 tanh" ("p0" when the padding is set)."""
        kernel, channels = self.kernel_size, self.channels
        words = f"{kernel[0]}x{kernel[1]} {channels[0]},{channels[1]} {self.activation}"
        if self.padding is None:
            return words
        top, side = self.padding
        return words + f" p{top}" + (f",{side}" if side != top else "")

    def to_dict(self) -> dict[str, Any]:
        """What config.json and a weights sidecar record (from_dict reads it back)."""
        return {
            "kernel_size": list(self.kernel_size),
            "channels": list(self.channels),
            "activation": self.activation,
            "padding": list(self.pad),
        }

    @classmethod
    def from_dict(cls, data: object) -> Architecture:
        """The architecture a config.json or sidecar records, checked; ConfigError if it is
        not one (a file may be damaged or hostile: nothing unchecked is built)."""
        if not isinstance(data, dict):
            raise ConfigError(f"architecture must be an object, not {shown(data)}")
        padding = data.get("padding")
        return check_architecture(
            cls(
                kernel_size=_int_pair("kernel size", data.get("kernel_size")),
                channels=_int_pair("channels", data.get("channels")),
                activation=data.get("activation", "tanh"),
                padding=None if padding is None else _int_pair("padding", padding),
            )
        )


BOOK_NET = Architecture()


def check_architecture(arch: Architecture) -> Architecture:
    """The architecture if it can be built, else ConfigError naming what and why.

    Kernels are odd, 1 to 15 per dimension; channels 1 to 1,024; padding 0 to half the
    kernel; both stages must leave at least one pixel; at most ten million parameters.
    A padding equal to "same" is returned as unset, so one model has one record.
    """
    for size in arch.kernel_size:
        check_kernel_side(size)
    for count in arch.channels:
        check_channel_count(count)
    if arch.activation not in ACTIVATIONS:
        raise ConfigError(
            f"unknown activation {shown(arch.activation)}: choose {' or '.join(ACTIVATIONS)}"
        )
    if arch.padding is not None:
        for pad, kernel in zip(arch.padding, arch.kernel_size, strict=True):
            if not 0 <= pad <= kernel // 2:
                raise ConfigError(
                    f"padding must be from 0 to half the kernel ({kernel // 2} for a kernel "
                    f"side of {kernel}), not {shown(pad)}"
                )
        if arch.padding == replace(arch, padding=None).pad:
            arch = replace(arch, padding=None)
    if min(arch.feature_map) < 1:
        raise ConfigError(
            f"{arch.describe()} leaves no pixel after the two conv stages; "
            "use a smaller kernel or more padding"
        )
    count = arch.parameter_count()
    if count > MAX_PARAMETERS:
        raise ConfigError(
            f"{arch.describe()} would have {count:,} parameters, more than the "
            f"{MAX_PARAMETERS:,} allowed; use fewer channels or a smaller kernel"
        )
    return arch


def net_architecture_of(
    state: dict[str, torch.Tensor], activation: str = "tanh"
) -> Architecture | None:
    """The Net family member whose convs these tensors fit (kernel size and widths, with
    "same" padding and this activation, which no tensor shows), or None where they fit
    none: what a net file that nothing names is taken to be (core/weights.py)."""
    first, second = state.get("conv1.weight"), state.get("conv2.weight")
    if first is None or second is None or first.dim() != 4 or second.dim() != 4:
        return None
    kernel = (int(first.shape[2]), int(first.shape[3]))
    try:
        return check_architecture(
            Architecture(kernel, (int(first.shape[0]), int(second.shape[0])), activation)
        )
    except ConfigError:
        return None


def check_kernel_side(size: object) -> int:
    """One side of a kernel: an odd whole number from 1 to 15."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ConfigError(f"kernel size must be a whole number, not {shown(size)}")
    if not (1 <= size <= MAX_KERNEL and size % 2 == 1):
        raise ConfigError(f"kernel size must be odd, from 1 to {MAX_KERNEL}, not {shown(size)}")
    return size


def check_channel_count(count: int) -> int:
    if not 1 <= count <= MAX_CHANNELS:
        raise ConfigError(f"channels must be from 1 to {MAX_CHANNELS:,}, not {shown(count)}")
    return count


def parse_kernel_size(text: str) -> tuple[int, int]:
    """ "5" is 5x5; "1,3" (or "1x3") is 1 high and 3 wide."""
    sizes = _parse_ints("kernel size", text, "5 or 1,3")
    if len(sizes) == 1:
        sizes *= 2
    return check_kernel_side(sizes[0]), check_kernel_side(sizes[1])


def parse_channels(text: str) -> tuple[int, int]:
    """ "32,16": conv1's and conv2's output channels."""
    counts = _parse_ints("channels", text, "two numbers such as 32,16")
    if len(counts) != 2:
        raise ConfigError(f"channels must be two numbers such as 32,16, not {shown(text)}")
    for count in counts:
        check_channel_count(count)
    return counts[0], counts[1]


def parse_padding(text: str) -> tuple[int, int]:
    """ "0" is no padding; "0,1" none above and below, one left and right."""
    pads = _parse_ints("padding", text, "0 or 0,1")
    if len(pads) == 1:
        pads *= 2
    if min(pads) < 0:
        raise ConfigError(f"padding must be zero or more, not {shown(text)}")
    return pads[0], pads[1]


def _parse_ints(name: str, text: str, example: str) -> list[int]:
    """One or two whole numbers split by a comma or an x, else ConfigError."""
    parts = re.split(r"\s*[,x]\s*", text.strip().lower())
    if not 1 <= len(parts) <= 2 or not all(part.isdecimal() and len(part) < 6 for part in parts):
        raise ConfigError(f"{name} must be {example}, not {shown(text)}")
    return [int(part) for part in parts]


def _int_pair(name: str, value: object) -> tuple[int, int]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
    ):
        raise ConfigError(f"{name} must be two whole numbers, not {shown(value)}")
    return value[0], value[1]
