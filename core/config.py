"""A training run's settings, the `book` and `fast` presets, and their validation.

Validation lives here so the CLI and the app refuse the same values with the same words.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .architecture import BOOK_NET, Architecture, check_architecture
from .refused import ConfigError, shown

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("none", "one-cycle")
DATASETS = ("cifar2", "cifar10")
DEVICES = ("auto", "cpu", "cuda", "mps")
SEED_MAX = 2**64 - 1  # torch.manual_seed and Generator.manual_seed take no more
MAX_BLOCKS = 1000  # net-res-deep: 1,000 blocks is 40 MB of weights, the most weights.py loads
MAX_NAME = 60  # characters of a run's name (train --name, the Runs screen's n)


@dataclass(frozen=True)
class TrainConfig:
    model: str = "net"
    dataset: str = "cifar2"
    data_dir: str | None = None  # None: CNN_TUI_DATA, else the user's data folder
    epochs: int = 100
    lr: float = 1e-2
    batch_size: int = 64
    optimizer: str = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    l2: float = 0.0  # the book's penalty: loss + l2 * sum of squared parameters
    augment: bool = False  # random horizontal flip
    schedule: str = "none"
    seed: int = 0
    device: str = "auto"
    n_blocks: int = 10  # net-res-deep only, 1..MAX_BLOCKS
    preset: str = "custom"
    name: str = ""  # the run's name, the user's words (shown on the Runs screen)
    # net only: its kernel size, widths and activation; None is the book's Net (validate
    # makes the book's own None too, so one model has one config)
    architecture: Architecture | None = None

    @property
    def net_architecture(self) -> Architecture | None:
        """The Net family member this trains (the book's Net for a plain net), or None for
        the other models, whose shapes are their own."""
        if self.model != "net":
            return None
        return self.architecture or BOOK_NET

    def to_dict(self) -> dict[str, Any]:
        """config.json's settings; the architecture as Architecture.to_dict writes it."""
        data = asdict(self)
        data["architecture"] = self.architecture.to_dict() if self.architecture else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Settings as to_dict wrote them (the book's Net's architecture, written out in a
        run's config.json, read as None); a config.json without an architecture (written
        before there was one) is the book's Net. ConfigError for a bad architecture."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("architecture") is not None:
            architecture = Architecture.from_dict(values["architecture"])
            values["architecture"] = None if architecture == BOOK_NET else architecture
        return cls(**values)

    def with_changes(self, **changes: Any) -> TrainConfig:
        """A copy with the given fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# The chapter's recipe: SGD, lr 1e-2, batch 64, 100 epochs, no augmentation.
# NetResDeep is trained with lr 3e-3 in the book.
BOOK = TrainConfig(preset="book")

# Reaches the book's validation accuracy (0.89 on CIFAR-2) in 6 to 8 epochs instead of the
# book's 60 or so: Adam with a one-cycle schedule and random flips. Chosen by a sweep of
# optimizers, rates, batch sizes, epoch counts and seeds (tests/bench/gpu_sweep.py; README).
FAST = TrainConfig(
    preset="fast",
    epochs=8,
    lr=5e-3,
    batch_size=64,
    optimizer="adam",
    augment=True,
    schedule="one-cycle",
)

PRESETS: dict[str, TrainConfig] = {"book": BOOK, "fast": FAST}


def preset_config(preset: str, model: str = "net", **changes: Any) -> TrainConfig:
    """The named preset for a model, with the given fields changed."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {shown(preset)}: choose one of {', '.join(PRESETS)}")
    config = replace(PRESETS[preset], model=model)
    if preset == "book" and model == "net-res-deep":
        config = replace(config, lr=3e-3)
    return validate(config.with_changes(**changes))


def check_epochs(value: Any) -> int:
    return _check_count("epochs", value)


def check_lr(value: Any) -> float:
    try:
        lr = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"learning rate must be a number, not {shown(value)}") from None
    if not math.isfinite(lr) or lr <= 0:
        words = "learning rate must be a positive finite number"
        raise ConfigError(f"{words}, not {shown(value, quote=False)}")
    if lr > 10:
        raise ConfigError(f"learning rate {lr} is too large (at most 10)")
    return lr


def check_batch_size(value: Any) -> int:
    return _check_count("batch size", value, most=65536)


def _check_count(name: str, value: Any, most: int | None = None) -> int:
    """A whole number of at least 1 (and at most `most`), or ConfigError naming the field."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, not {shown(value)}") from None
    if count < 1:
        raise ConfigError(f"{name} must be at least 1, not {shown(count)}")
    if most is not None and count > most:
        raise ConfigError(f"{name} {shown(count)} is too large (at most {most})")
    return count


def _check_nonnegative(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, not {shown(value)}") from None
    if not math.isfinite(number) or number < 0:
        words = f"{name} must be zero or a positive finite number"
        raise ConfigError(f"{words}, not {shown(value, quote=False)}")
    return number


def check_name(value: Any) -> str:
    """A run's name: one line of at most MAX_NAME characters, spaces trimmed ("" for none)."""
    if not isinstance(value, str):
        raise ConfigError(f"a run's name must be text, not {shown(value)}")
    name = value.strip()
    if any(not char.isprintable() for char in name):
        raise ConfigError("a run's name must be one line of printable characters")
    if len(name) > MAX_NAME:
        raise ConfigError(f"a run's name has at most {MAX_NAME} characters, not {len(name)}")
    return name


def check_seed(value: Any) -> int:
    """A whole number torch can seed with: 0 to 2**64 - 1."""
    words = f"seed must be a whole number from 0 to {SEED_MAX}"
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{words}, not {shown(value)}")
    try:
        seed = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{words}, not {shown(value)}") from None
    if not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"{words}, not {shown(value)}")
    return seed


def validate(config: TrainConfig) -> TrainConfig:
    """Return the config if every field is usable, else raise ConfigError saying which."""
    from .registry import MODELS

    if config.model not in MODELS:
        raise ConfigError(f"unknown model {shown(config.model)}: choose one of {', '.join(MODELS)}")
    if config.dataset not in DATASETS:
        raise ConfigError(f"unknown data set {shown(config.dataset)}: choose cifar2 or cifar10")
    if config.optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {shown(config.optimizer)}: choose sgd or adam")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"unknown schedule {shown(config.schedule)}: choose none or one-cycle")
    if config.device not in DEVICES:
        raise ConfigError(f"unknown device {shown(config.device)}: choose {', '.join(DEVICES)}")
    if not 1 <= config.n_blocks <= MAX_BLOCKS:
        raise ConfigError(
            f"n_blocks must be from 1 to {MAX_BLOCKS:,}, not {shown(config.n_blocks)}"
        )
    return replace(
        config,
        architecture=check_model_architecture(config.model, config.architecture),
        epochs=check_epochs(config.epochs),
        lr=check_lr(config.lr),
        batch_size=check_batch_size(config.batch_size),
        seed=check_seed(config.seed),
        momentum=_check_nonnegative("momentum", config.momentum),
        weight_decay=_check_nonnegative("weight decay", config.weight_decay),
        l2=_check_nonnegative("L2 penalty", config.l2),
        name=check_name(config.name),
    )


def check_model_architecture(model: str, architecture: Architecture | None) -> Architecture | None:
    """An architecture for this model, checked: only net takes one; the book's Net is None."""
    if architecture is None:
        return None
    if model != "net":
        raise ConfigError(
            f"kernel size, channels, activation and padding are set for the net model only, "
            f"not {shown(model)}, whose layers are the book's"
        )
    architecture = check_architecture(architecture)
    return None if architecture == BOOK_NET else architecture
