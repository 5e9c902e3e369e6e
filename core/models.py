"""The chapter's models, written as the book writes them.

Submodule names follow the book's code, so state_dicts move both ways between the book's
classes and these. Activations and pools are modules (as in the book's first `Net`) so
that summaries and feature maps can see every stage; they add no state_dict keys.

`pool_first` (set by `build_model(..., pool_first=True)`, as training does) runs each
activation that the book puts before a max pool after it instead: the same values, since a
max pool commutes with an increasing function (tanh, ReLU), but the activation and its
backward run on a quarter of the values (tests/bench/bench_train.py). It is a flag of the
instance, not a rewrite of the model: parameters and state_dict keys are the same either
way, and nothing outside the instance changes (threads may run other models meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .architecture import BOOK_NET, Architecture
from .registry import MODELS


class ChapterNet(nn.Module):
    """What the chapter's models share: the pool_first flag and the stage it changes."""

    def __init__(self) -> None:
        super().__init__()
        self.pool_first = False

    def act_pool(self, act: nn.Module, pool: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """pool(act(x)), as the book writes it; act(pool(x)) when pool_first: equal values.

        The gradients are equal too, ties aside (tanh may round two inputs of a window to
        one value, and the pool then passes the gradient to another of them).
        """
        return act(pool(x)) if self.pool_first else pool(act(x))


class Net(ChapterNet):
    """The book's Net; an architecture (core/architecture.py) changes its kernel size, its
    widths or its activation, and fc1 takes what the two stages leave. The book's own
    builds exactly the book's layers: the same parameters and state_dict keys."""

    def __init__(self, num_classes: int = 2, architecture: Architecture = BOOK_NET) -> None:
        super().__init__()
        self.architecture = architecture
        first, second = architecture.channels
        kernel, pad = architecture.kernel_size, architecture.pad
        activation = nn.Tanh if architecture.activation == "tanh" else nn.ReLU
        self.conv1 = nn.Conv2d(3, first, kernel_size=kernel, padding=pad)
        self.act1 = activation()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(first, second, kernel_size=kernel, padding=pad)
        self.act2 = activation()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()  # (N, 8, 8, 8) -> (N, 512): the step the chapter explains
        self.fc1 = nn.Linear(architecture.flat_features, 32)
        self.act3 = activation()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_pool(self.act1, self.pool1, self.conv1(x))
        out = self.act_pool(self.act2, self.pool2, self.conv2(out))
        out = self.act3(self.fc1(self.flatten(out)))
        return self.fc2(out)


class NetWidth(ChapterNet):
    def __init__(self, num_classes: int = 2, n_chans1: int = 32) -> None:
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.act1 = nn.Tanh()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.act2 = nn.Tanh()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_pool(self.act1, self.pool1, self.conv1(x))
        out = self.act_pool(self.act2, self.pool2, self.conv2(out))
        out = self.act3(self.fc1(self.flatten(out)))
        return self.fc2(out)


class NetDropout(ChapterNet):
    def __init__(self, num_classes: int = 2, n_chans1: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.act1 = nn.Tanh()
        self.pool1 = nn.MaxPool2d(2)
        self.conv1_dropout = nn.Dropout2d(p=0.4)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.act2 = nn.Tanh()
        self.pool2 = nn.MaxPool2d(2)
        self.conv2_dropout = nn.Dropout2d(p=0.4)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1_dropout(self.act_pool(self.act1, self.pool1, self.conv1(x)))
        out = self.conv2_dropout(self.act_pool(self.act2, self.pool2, self.conv2(out)))
        out = self.act3(self.fc1(self.flatten(out)))
        return self.fc2(out)


class NetBatchNorm(ChapterNet):
    def __init__(self, num_classes: int = 2, n_chans1: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv1_batchnorm = nn.BatchNorm2d(n_chans1)
        self.act1 = nn.Tanh()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.conv2_batchnorm = nn.BatchNorm2d(n_chans1 // 2)
        self.act2 = nn.Tanh()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_pool(self.act1, self.pool1, self.conv1_batchnorm(self.conv1(x)))
        out = self.act_pool(self.act2, self.pool2, self.conv2_batchnorm(self.conv2(out)))
        out = self.act3(self.fc1(self.flatten(out)))
        return self.fc2(out)


class NetDepth(ChapterNet):
    def __init__(self, num_classes: int = 2, n_chans1: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(n_chans1 // 2, n_chans1 // 2, kernel_size=3, padding=1)
        self.act3 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(4 * 4 * n_chans1 // 2, 32)
        self.act4 = nn.ReLU()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_pool(self.act1, self.pool1, self.conv1(x))
        out = self.act_pool(self.act2, self.pool2, self.conv2(out))
        out = self.act_pool(self.act3, self.pool3, self.conv3(out))
        out = self.act4(self.fc1(self.flatten(out)))
        return self.fc2(out)


class NetRes(NetDepth):
    """NetDepth with the third stage's input added back before its pool."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_pool(self.act1, self.pool1, self.conv1(x))
        out = self.act_pool(self.act2, self.pool2, self.conv2(out))
        out = self.pool3(self.act3(self.conv3(out)) + out)
        out = self.act4(self.fc1(self.flatten(out)))
        return self.fc2(out)


class ResBlock(nn.Module):
    def __init__(self, n_chans: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)
        self.act = nn.ReLU()
        torch.nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        torch.nn.init.constant_(self.batch_norm.weight, 0.5)
        torch.nn.init.zeros_(self.batch_norm.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.batch_norm(self.conv(x))) + x


class NetResDeep(ChapterNet):
    """The book's deep residual net, with n separate blocks (the text's meaning)."""

    def __init__(self, num_classes: int = 2, n_chans1: int = 32, n_blocks: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.resblocks = nn.Sequential(*(ResBlock(n_chans1) for _ in range(n_blocks)))
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(8 * 8 * n_chans1, 32)
        self.act2 = nn.ReLU()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_pool(self.act1, self.pool1, self.conv1(x))
        out = self.pool2(self.resblocks(out))
        out = self.act2(self.fc1(self.flatten(out)))
        return self.fc2(out)


class FcSmall(ChapterNet):
    """Chapter 7's 3072-512-2 network (logits; the book's LogSoftmax is in the loss)."""

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(3072, 512)
        self.act1 = nn.Tanh()
        self.fc2 = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act1(self.fc1(self.flatten(x))))


class FcLarge(ChapterNet):
    """Chapter 7's 3072-1024-512-128-2 network."""

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(3072, 1024)
        self.act1 = nn.Tanh()
        self.fc2 = nn.Linear(1024, 512)
        self.act2 = nn.Tanh()
        self.fc3 = nn.Linear(512, 128)
        self.act3 = nn.Tanh()
        self.fc4 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.fc1(self.flatten(x)))
        out = self.act3(self.fc3(self.act2(self.fc2(out))))
        return self.fc4(out)


CLASSES: dict[str, Callable[..., ChapterNet]] = {  # each takes num_classes=
    "net": Net,
    "net-width": NetWidth,
    "net-dropout": NetDropout,
    "net-batchnorm": NetBatchNorm,
    "net-depth": NetDepth,
    "net-res": NetRes,
    "net-res-deep": NetResDeep,
    "fc-small": FcSmall,
    "fc-large": FcLarge,
}
assert set(CLASSES) == set(MODELS)


def build_model(
    name: str,
    num_classes: int = 2,
    n_blocks: int = 10,
    *,
    pool_first: bool = False,
    architecture: Architecture | None = None,
) -> ChapterNet:
    """A fresh model by its registry name; pool_first: its faster training order (above).

    architecture: net's kernel size, widths and activation (None: the book's Net), checked
    by core/architecture.py's check_architecture before it gets here.
    """
    if name not in CLASSES:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(CLASSES)}")
    if architecture is not None and name != "net":
        raise ValueError(f"only net takes an architecture, not {name!r}")
    if name == "net":
        model: ChapterNet = Net(num_classes=num_classes, architecture=architecture or BOOK_NET)
    elif name == "net-res-deep":
        model = NetResDeep(num_classes=num_classes, n_blocks=n_blocks)
    else:
        model = CLASSES[name](num_classes=num_classes)
    model.pool_first = pool_first
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def pick_device(name: str = "auto") -> torch.device:
    """auto: cuda, then mps, then cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but no CUDA GPU is available")
    if name == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device mps was asked for, but MPS is not available")
    return torch.device(name)
