"""Where a training run starts from: a fresh model, or a run folder's checkpoint.

core/resume.py decides whether a run may continue and from what, without torch; this
module does it for the trainer: it takes the folder's lock, asks resume.py again under
it, loads the checkpoint and builds the model, optimizer, schedule and shuffling
generator that the epoch loop (core/epoch_loop.py) steps. torch loads only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TrainConfig, validate
from .resume import Resume, ResumePlan, ResumeRefused, load_checkpoint, plan_resume

if TYPE_CHECKING:
    import torch
    from torch.optim.lr_scheduler import LRScheduler

    from .models import ChapterNet


@dataclass(frozen=True)
class Opened:
    """A run about to train: its settings, its folder (None: one is made once the model is
    built), the resume's plan and the checkpoint it continues from (None: a fresh start)."""

    config: TrainConfig
    run_dir: Path | None
    plan: ResumePlan | None = None
    checkpoint: dict[str, Any] | None = None


def open_run(
    config: TrainConfig,
    resume: str | Path | Resume | None,
    fresh_dir: Path | None,
    hold: Callable[[Path], None],
) -> Opened:
    """Check the settings, or the resume, and hold the run folder's lock (hold(folder)).

    Raises ConfigError, RunError (ResumeRefused), or WeightsError for a damaged checkpoint.
    """
    if resume is None:
        if fresh_dir is not None:
            hold(fresh_dir)
        return Opened(validate(config), fresh_dir)
    request = resume if isinstance(resume, Resume) else Resume(Path(resume), config.epochs)
    run_dir = Path(request.run_dir)
    hold(run_dir)  # before reading last.pt: a live trainer may be about to replace it
    plan = plan_resume(request)  # the checks the CLI and the app made, again under the lock
    if not plan.checkpoint.exists():  # a run that never saved an epoch: it starts over
        return Opened(plan.config, run_dir, plan)
    checkpoint = load_checkpoint(plan.checkpoint)
    behind = plan.epochs_done - checkpoint["epoch"]
    if behind > 1 and not request.from_best:
        raise ResumeRefused(
            f"run {run_dir.name} cannot resume: its last.pt holds epoch "
            f"{checkpoint['epoch']} but its metrics go to epoch {plan.epochs_done}; "
            "nothing was changed",
        )
    return Opened(plan.config, run_dir, plan, checkpoint)


@dataclass
class Trainee:
    """What a checkpoint holds: the model, its optimizer and schedule, the generator that
    shuffles and flips the batches, and the best epoch so far (updated by the loop)."""

    model: ChapterNet
    optimizer: torch.optim.Optimizer
    scheduler: LRScheduler | None
    generator: torch.Generator
    start_epoch: int  # epochs done before this run (or resume) began
    best_acc: float | None = None
    best_epoch: int | None = None

    def plain_state(self, clone: bool = False) -> dict[str, torch.Tensor]:
        """The model's state in the usual (contiguous) layout, whatever layout it trains in;
        clone: a copy that later steps do not change."""
        import torch

        return {
            k: v.detach().clone(memory_format=torch.contiguous_format) if clone else v.contiguous()
            for k, v in self.model.state_dict().items()
        }

    def checkpoint(self, epoch: int) -> dict[str, Any]:
        """What last.pt and best.pt hold after `epoch` (load_checkpoint reads it back)."""
        return {
            "model": self.plain_state(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "generator": self.generator.get_state(),
            "epoch": epoch,
            "best_val_accuracy": self.best_acc,
            "best_epoch": self.best_epoch,
        }


def build_optimizer(
    config: TrainConfig, model: ChapterNet, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, LRScheduler | None]:
    """The config's optimizer, and its one-cycle schedule (None for a constant rate)."""
    import torch

    params = model.parameters()
    optimizer: torch.optim.Optimizer
    if config.optimizer == "adam":
        optimizer = _adam(params, config)
    else:
        # foreach: one call updates every parameter (torch picks it for CUDA tensors only);
        # the same values bit for bit, and 5-8% faster book epochs on a CPU (the Net has 8
        # small tensors, so each step's per-parameter calls cost more than their arithmetic).
        # SGD's fused form measured no faster (tests/bench/bench_speed.py).
        optimizer = torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
            foreach=True,
        )
    scheduler = None
    if config.schedule == "one-cycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
        )
    return optimizer, scheduler


def _adam(params: Iterable[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Adam:
    """Adam in torch's fused form where this torch has it for the device (CPU from torch
    2.4, CUDA): one kernel for every parameter's update instead of about ten calls per
    tensor, 156 against 441 us a step for the Net on 2 CPU threads (one-cycle's step
    included); fast-preset steps 1.085x faster at 2 threads, 1.05x at 1 (8 alternated
    rounds of 100 steps in one process). The same algorithm; the last bits may differ."""
    import torch

    params = list(params)  # a failed first try would use up a generator
    try:
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    except (RuntimeError, ValueError):  # an older torch, or a device without the kernel
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def build_trainee(
    config: TrainConfig,
    num_classes: int,
    device: torch.device,
    steps_per_epoch: int,
    checkpoint: dict[str, Any] | None,
) -> Trainee:
    """A model seeded by config.seed, with its optimizer, schedule and generator, carried
    on from checkpoint when there is one."""
    import torch

    from .models import build_model

    torch.manual_seed(config.seed)
    # pool_first: each activation before a max pool runs after it, on a quarter of the
    # values (the same function; core/models.py). A flag of this model only: other threads
    # may be running other models (Predict, Explore, a second run).
    model = build_model(
        config.model,
        num_classes,
        config.n_blocks,
        pool_first=True,
        architecture=config.architecture,
    ).to(device)
    if device.type == "cpu":
        # Channels-last convolutions and pools run these small models about 1.6x faster on
        # a CPU (max_pool2d most of all; tests/bench/bench_train.py), with the same results
        # to float rounding. Model states are written out in the usual layout.
        model = model.to(memory_format=torch.channels_last)
    optimizer, scheduler = build_optimizer(config, model, steps_per_epoch)
    trainee = Trainee(model, optimizer, scheduler, torch.Generator().manual_seed(config.seed), 0)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None and checkpoint.get("scheduler"):
            scheduler.load_state_dict(checkpoint["scheduler"])
        trainee.generator.set_state(checkpoint["generator"])
        trainee.start_epoch = int(checkpoint["epoch"])
        trainee.best_acc = checkpoint.get("best_val_accuracy")
        trainee.best_epoch = checkpoint.get("best_epoch")
    return trainee
