"""Continuing a run: the one place that decides whether, from what, and on which data.

The CLI (`train --resume`), a detached trainer and the app's Runs screen all ask
`plan_resume`, and `core.train.train` asks it again once it holds the run's lock, so they
cannot disagree. The rules:

- A resume never cuts history that no checkpoint replaces. It continues from last.pt; the
  only epoch line it drops silently is the one a crash can leave just past last.pt (the
  line is written first). A run without last.pt (or whose last.pt is more than an epoch
  behind its metrics) is refused, with the reason, unless the user picks best.pt
  explicitly; that drops the epochs after best.pt's, and says so.
- A damaged last.pt is refused too, and nothing is changed.
- A run continues on the data it was trained on: the folder and the kind of source
  (CIFAR-10 files, an image folder, the bundled sample) recorded in config.json. Other
  data only when asked (an explicit data folder, or other_data).

Nothing here imports torch except load_checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ConfigError, TrainConfig, validate
from .run_files import BEST, LAST, RunError
from .run_records import read_config, read_metrics
from .safe_files import FileRefused, open_regular

if TYPE_CHECKING:
    from .data import DataSet

# DataSet.kind of the data a run was trained on, as config.json records it ("data_source")
SOURCE_WORDS = {
    "torchvision": "CIFAR-10's files",
    "folder": "the image folder",
    "sample": "the bundled sample",
    "memory": "data given in memory",
}


class ResumeRefused(RunError):
    """A resume that would lose history or mix data; `fix` names the explicit choice that
    would allow it ("from_best", "other_data") or is None."""

    def __init__(self, message: str, fix: str | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.fix = fix
        self.reason = reason or message  # without the command line's advice (for the app)


@dataclass(frozen=True)
class Resume:
    """What the user asked: continue run_dir, up to `epochs` (None: its own count)."""

    run_dir: Path
    epochs: int | None = None
    from_best: bool = False  # continue from best.pt, dropping the epochs after it
    data_dir: str | None = None  # a data folder given explicitly: other data, on purpose
    other_data: bool = False  # accept data that differ from the run's

    def __str__(self) -> str:  # where a run folder's path is shown
        return str(self.run_dir)


@dataclass(frozen=True)
class ResumePlan:
    """What a resume will do, as far as can be told without loading torch or the data."""

    request: Resume
    config: TrainConfig  # the run's settings, with the epochs and data folder to use
    checkpoint: Path  # last.pt or best.pt
    epochs_done: int  # epochs in metrics.jsonl
    best_epoch: int | None  # the best val accuracy's epoch in metrics.jsonl (best.pt's)
    recorded: dict[str, Any] = field(default_factory=dict)  # config.json as it was

    @property
    def cut(self) -> list[int]:
        """Epochs whose lines a resume from best.pt drops (as metrics.jsonl tells)."""
        if not self.request.from_best or self.best_epoch is None:
            return []
        return list(range(self.best_epoch + 1, self.epochs_done + 1))

    def describe_cut(self) -> str:
        """'drops epochs 5-8 from its history' or ''."""
        cut = self.cut
        if not cut:
            return ""
        span = f"epoch {cut[0]}" if len(cut) == 1 else f"epochs {cut[0]}-{cut[-1]}"
        return f"drops {span} from its history"


MAX_CHECKPOINT_BYTES = 1 << 30  # the largest model's checkpoint is a few MB


def plan_resume(request: Resume) -> ResumePlan:
    """Check a resume before anything is written; RunError (ResumeRefused when an explicit
    choice would allow it) or ConfigError, one line each."""
    run_dir = Path(request.run_dir).expanduser()
    recorded = read_config(run_dir)  # RunError for a folder that is not a run
    try:
        saved = validate(TrainConfig.from_dict(recorded))
    except (ConfigError, TypeError, ValueError) as error:
        raise RunError(f"{run_dir}/config.json cannot be used: {error}") from None
    epochs = saved.epochs if request.epochs is None else request.epochs
    if epochs != saved.epochs and saved.schedule != "none":
        raise ConfigError("a one-cycle run cannot change its epoch count on resume")
    changes: dict[str, Any] = {"epochs": max(int(epochs), 1)}
    if request.data_dir is not None:
        changes["data_dir"] = str(Path(request.data_dir).expanduser().resolve())
    config = validate(saved.with_changes(**changes))

    metrics = read_metrics(run_dir)
    done = max((r.epoch for r in metrics.epochs), default=0)
    best = max(metrics.epochs, key=lambda r: r.val_accuracy, default=None)
    best_epoch = best.epoch if best else None
    name = run_dir.name
    if request.from_best:
        checkpoint = run_dir / BEST
        problem = checkpoint_problem(checkpoint)
        if problem:
            raise RunError(f"run {name} cannot continue from best.pt: it {problem}")
    else:
        checkpoint = run_dir / LAST
        problem = checkpoint_problem(checkpoint)
        if problem and (problem != "is missing" or done > 1):
            message = (
                f"run {name} cannot resume: its last.pt {problem} (no last.pt to continue "
                f"from; starting over would drop its {done} epochs; nothing was changed)"
            )
            if best_epoch is not None and not checkpoint_problem(run_dir / BEST):
                from_best = ResumePlan(
                    Resume(run_dir, request.epochs, True), config, run_dir / BEST, done, best_epoch
                )
                cut = from_best.describe_cut()
                raise ResumeRefused(
                    f"{message}; --from-best continues from best.pt (epoch {best_epoch})"
                    + (f" and {cut}" if cut else ""),
                    "from_best",
                    f"its last.pt {problem}, so it cannot go on from epoch {done}",
                )
            raise ResumeRefused(f"{message}; there is no usable best.pt either")
    plan = ResumePlan(request, config, checkpoint, done, best_epoch, recorded)
    problem = data_problem(plan)
    if problem and not (request.other_data or request.data_dir is not None):
        raise ResumeRefused(problem + _ADVICE, "other_data", problem)
    return plan


def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint cannot be resumed from ("is missing", "is damaged ..."), told
    without torch from its zip directory (torch.save writes a zip holding data.pkl); None
    when it looks whole. load_checkpoint checks its contents when the resume starts."""
    import zipfile

    try:
        with open_regular(path, MAX_CHECKPOINT_BYTES) as handle, zipfile.ZipFile(handle) as z:
            whole = any(n.endswith("/data.pkl") or n == "data.pkl" for n in z.namelist())
    except FileRefused as refused:
        return "is missing" if refused.missing else f"cannot be read ({refused})"
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        whole = False
    return None if whole else "is damaged (not a whole checkpoint file)"


def _layout_source(root: Path) -> str | None:
    """The DataSet.kind that loading root would give, if it can be told cheaply."""
    from .data import detect_layout

    try:
        layout = detect_layout(root)
    except OSError:
        return None
    return {"torchvision": "torchvision", "folder": "folder", "empty": "sample"}.get(layout)


def data_problem(plan: ResumePlan) -> str | None:
    """Why the data a resume would read differ from the run's, told from folders only
    (the loaded data are checked again by check_same_data), or None."""
    recorded = plan.recorded
    source, folder = recorded.get("data_source"), recorded.get("data_dir")
    if source not in ("torchvision", "folder", "sample") or not isinstance(folder, str):
        return None  # data given in memory, or a run recorded before folders were
    from .paths import default_data_dir

    root = Path(plan.config.data_dir).expanduser() if plan.config.data_dir else default_data_dir()
    now = _layout_source(root)
    if str(root.resolve()) == folder and now in (source, None):
        return None
    if now == source and source == "sample":
        return None  # the sample is the sample, wherever it was looked for
    return _refusal(plan, f"{SOURCE_WORDS[source]} {folder}", _words(now, root))


def _words(source: str | None, root: Path) -> str:
    if source is None:
        return f"{root}, which cannot be read as data"
    if source == "sample":
        return f"a download of CIFAR-10, else the bundled sample ({root} holds no data)"
    return f"{SOURCE_WORDS[source]} {root}"


_ADVICE = "; pass --data DIR to continue on other data on purpose, or --other-data"


def _refusal(plan: ResumePlan, was: str, now: str) -> str:
    return (
        f"run {plan.request.run_dir.name} was trained on {was}; resuming would continue on "
        f"{now} and mix two validation sets in one curve"
    )


def data_record(dataset: DataSet, config: TrainConfig) -> dict[str, str | None]:
    """What config.json records of the data a run trains on: the resolved folder, the kind
    of source and its human name."""
    from .paths import default_data_dir

    kind = dataset.kind
    if kind in ("torchvision", "folder") and dataset.source:
        folder: str | None = str(Path(dataset.source).expanduser().resolve())
    elif kind == "sample":
        root = Path(config.data_dir).expanduser() if config.data_dir else default_data_dir()
        folder = str(root.resolve())
    else:
        folder = config.data_dir
    return {"data_dir": folder, "data_source": kind, "dataset_name": dataset.name}


def check_same_data(plan: ResumePlan, dataset: DataSet) -> str | None:
    """After the data are loaded: a refusal (ResumeRefused) if they differ from the run's
    and nobody asked for that; else a warning to log when they differ on purpose, or None."""
    recorded = plan.recorded
    now = data_record(dataset, plan.config)
    source = recorded.get("data_source")
    if isinstance(source, str):
        same = source == now["data_source"] and (
            source in ("sample", "memory") or recorded.get("data_dir") == now["data_dir"]
        )
        was = f"{SOURCE_WORDS.get(source, source)} {recorded.get('data_dir') or ''}".strip()
    else:  # recorded before folders were: the data's name says which folder and counts
        name = recorded.get("dataset_name")
        same = not isinstance(name, str) or name == dataset.name or now["data_source"] == "memory"
        was = str(name)
    if same:
        return None
    message = _refusal(plan, was, dataset.name)
    if not (plan.request.other_data or plan.request.data_dir is not None):
        raise ResumeRefused(message + _ADVICE, "other_data", message)
    return f"continuing on other data: {dataset.name} (the run was trained on {was})"


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by core.train, checked; WeightsError (one line) otherwise."""
    import torch

    from .weights import WeightsError, load_torch_file

    # As weights are read, with a checkpoint's own bound (a deep model's Adam state is
    # several times its weights).
    checkpoint = load_torch_file(path, MAX_CHECKPOINT_BYTES, zip_only=True)
    epoch = checkpoint.get("epoch") if isinstance(checkpoint, dict) else None
    if (
        not isinstance(checkpoint, dict)
        or not isinstance(checkpoint.get("model"), dict)
        or not all(isinstance(v, torch.Tensor) for v in checkpoint["model"].values())
        or not isinstance(checkpoint.get("optimizer"), dict)
        or not isinstance(checkpoint.get("generator"), torch.Tensor)
        or isinstance(epoch, bool)
        or not isinstance(epoch, int)
        or epoch < 0
    ):
        raise WeightsError(f"{path}: not a checkpoint of a cnn-tui run")
    return checkpoint


def plan_with_choices(request: Resume) -> tuple[ResumePlan, list[ResumeRefused]]:
    """The plan a front end can offer: the request as asked if it passes, else with each
    explicit choice a refusal names (from best.pt, other data) taken, and the refusals
    that the user must then confirm. RunError when no choice makes it possible."""
    from dataclasses import replace

    refusals: list[ResumeRefused] = []
    for _ in range(3):
        try:
            return plan_resume(request), refusals
        except ResumeRefused as refused:
            if refused.fix is None:
                raise
            refusals.append(refused)
            choice: dict[str, Any] = {refused.fix: True}
            request = replace(request, **choice)
    return plan_resume(request), refusals
