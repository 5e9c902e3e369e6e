"""`cnn-tui train`: train a model into a run folder, in this process or detached."""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.core.config import TrainConfig, preset_config
from cnn_tui.tui.cli.output import (
    EXIT_OK,
    PROG,
    Output,
    UsageError,
    load_dataset_shown,
    plural,
    quiet_warnings,
)
from cnn_tui.tui.cli.parser import ARCHITECTURE_OPTIONS, architecture_option
from cnn_tui.tui.cli.train_view import StartTimes, TrainView
from cnn_tui.tui.slow_imports import import_for_training

if TYPE_CHECKING:
    from cnn_tui.core.data import DataSet
    from cnn_tui.core.resume import Resume

RESUME_FIXED = (
    "model",
    "preset",
    "lr",
    "batch_size",
    "dataset",
    "runs",
    "optimizer",
    "name",
    *ARCHITECTURE_OPTIONS,
)


def check_runs_dir(path: Path) -> None:
    """Make sure run folders can be written here before any slow work starts."""
    from cnn_tui.core.run_files import RunError

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise RunError(f"cannot write runs folder {path}: {error.strerror or error}") from None


def cmd_train(args: argparse.Namespace, out: Output) -> int:
    """`cnn-tui train`: a new run or a resumed one, here under a progress bar or detached."""
    from cnn_tui.core.memory import keep_freed_memory
    from cnn_tui.core.train import TrainControl, train

    quiet_warnings()
    dataset = None
    runs_dir: Path | None = None
    resume: Resume | None = None
    start: StartTimes | None = None
    if args.resume:
        config, resume = _resume_plan(args, out)
    else:
        config, runs_dir = _new_run(args)
        if not getattr(args, "detach", False):
            dataset, start = load_while_importing(out, config)
    if getattr(args, "detach", False):
        return _train_detached(out, config, runs_dir, resume)

    keep_freed_memory()  # this process only trains (core/memory.py)
    control = TrainControl()
    view = TrainView(out, control, start)
    with view:
        finished = train(
            config,
            view,
            control=control,
            runs_dir=runs_dir,
            resume=resume,
            dataset=dataset,
            tune_threads=True,  # this process only trains: it may pick its thread count
        )
    return view.report(finished)


def load_while_importing(out: Output, config: TrainConfig) -> tuple[DataSet, StartTimes]:
    """The config's data, read in a thread while this one imports torch and the training
    code, and how long each took. Listing the image folder, checking its files against
    the cache and reading the cache need no torch (core/data.py imports it last), and
    their system calls let the import run meanwhile."""
    began = time.perf_counter()
    loading = _Loading(out, config)
    loading.start()
    import_for_training()
    imported = time.perf_counter()
    dataset = loading.dataset()
    return dataset, StartTimes(began, imported - began, loading.seconds, time.perf_counter())


class _Loading(threading.Thread):
    """load_dataset_shown in a thread of its own. A daemon: Ctrl-C in the main thread
    ends the command without waiting for a download to finish."""

    def __init__(self, out: Output, config: TrainConfig) -> None:
        super().__init__(name="cnn-tui-data", daemon=True)
        self.out, self.config = out, config
        self.result: DataSet | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        began = time.perf_counter()
        try:
            self.result = load_dataset_shown(self.out, self.config.dataset, self.config.data_dir)
        except BaseException as error:  # raised again in the main thread
            self.error = error
        self.seconds = time.perf_counter() - began

    def dataset(self) -> DataSet:
        """The data, or what loading them raised."""
        self.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _resume_plan(args: argparse.Namespace, out: Output) -> tuple[TrainConfig, Resume]:
    """`train --resume RUN_DIR`: the run's own config, checked before anything starts."""
    from cnn_tui.core.resume import Resume, plan_resume

    ignored = [
        "--" + name.replace("_", "-")
        for name in RESUME_FIXED
        if getattr(args, name, None) is not None
    ]
    if ignored:
        out.warn(f"--resume keeps the run's own settings; ignoring {', '.join(ignored)}")
    resume = Resume(
        Path(args.resume),
        args.epochs,
        from_best=args.from_best,
        data_dir=args.data,
        other_data=args.other_data,
    )
    plan = plan_resume(resume)  # refused here, before a background trainer starts
    done = plan.epochs_done
    if plan.request.from_best and plan.best_epoch is not None:
        done = plan.best_epoch
    if done >= plan.config.epochs:
        raise UsageError(
            f"run {args.resume} has already trained {plural(done, 'epoch')}; pass "
            f"--epochs N with N above {done} to train it further"
        )
    return plan.config, resume


def _new_run(args: argparse.Namespace) -> tuple[TrainConfig, Path]:
    """A new run: its config from the preset and the options, and a writable runs folder."""
    from cnn_tui.core.paths import default_runs_dir

    if args.from_best or args.other_data:
        raise UsageError("--from-best and --other-data go with --resume RUN_DIR")
    data_dir = str(Path(args.data).expanduser().resolve()) if args.data else None
    config = preset_config(
        args.preset or "book",
        args.model or "net",
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        data_dir=data_dir,
        dataset=args.dataset,
        optimizer=args.optimizer,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        l2=args.l2,
        augment=args.augment,
        schedule=args.schedule,
        seed=args.seed,
        device=args.device,
        n_blocks=args.blocks,
        name=args.name,
        architecture=architecture_option(args),
    )
    runs_dir = Path(args.runs).expanduser() if args.runs else default_runs_dir()
    check_runs_dir(runs_dir)
    return config, runs_dir


def _train_detached(
    out: Output, config: TrainConfig, runs_dir: Path | None, resume: Resume | None
) -> int:
    """`train --detach`: start the background trainer, say where it writes, return."""
    from cnn_tui.core.detach import start_detached

    run_dir, pid = start_detached(config, runs_dir, resume=resume)
    if out.json:
        out.emit_json({"run_dir": str(run_dir), "pid": pid})
        return EXIT_OK
    out.line(f"training in the background (pid {pid}); it goes on if this terminal closes")
    out.line(f"run folder: {run_dir}")
    out.line(f"log:        {run_dir / 'train.log'}")
    out.line(f"follow it:  {PROG} watch {run_dir}")
    out.line(f"stop it:    {PROG} watch {run_dir} --stop")
    return EXIT_OK
