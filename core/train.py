"""The training loop: the book's loop, made fast, observable, pausable and resumable.

`train` reports what happens through one callback (see events.py) and writes the run
folder (see run_writer.py). It checks its TrainControl between batches, so a UI can pause,
resume or stop it from another thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .config import ConfigError, TrainConfig
from .control import TrainControl
from .epoch_loop import EpochLoop
from .events import Event, Finished, Log, Started
from .restore import build_trainee, open_run
from .resume import Resume, check_same_data
from .run_files import RunError
from .run_lock import RunLock
from .run_writer import RunWriter
from .states import LogLevel
from .threads import ThreadTuner, threads_fixed_by_environment

if TYPE_CHECKING:
    import torch

    from .data import DataSet


def train(
    config: TrainConfig,
    on_event: Callable[[Event], None] | None = None,
    *,
    control: TrainControl | None = None,
    runs_dir: str | Path | None = None,
    resume: str | Path | Resume | None = None,
    dataset: DataSet | None = None,
    run_dir: str | Path | None = None,
    lock: RunLock | None = None,
    tune_threads: bool = False,
    measure_layers: bool = True,
) -> Finished:
    """Train config's model and write its run folder; returns how the run ended.

    resume: a run folder to continue from its last.pt (its config.json is used; config
    may raise the epoch count), or a core.resume.Resume saying how (from best.pt, on other
    data); see core/resume.py for what is refused. dataset: a DataSet to use instead of loading one.
    run_dir: a fresh, empty folder (core.run_writer.new_run_dir) to train into instead of making
    one, so a launcher knows the folder before training starts (core/detach.py).
    lock: a RunLock on the run folder that the caller already holds (and releases);
    otherwise train takes the folder's lock itself, so a folder has one writer.
    tune_threads: on a CPU, measure whether one thread or all of them train faster and
    keep the faster (core/threads.py); only for a process that does nothing but train,
    since torch's thread count is the whole process's. Off when OMP_NUM_THREADS is set.
    measure_layers: record each layer's figures, the weights' histograms and the machine's
    figures per epoch (core/layer_watch.py); off, the epochs record their figures only.
    Raises ConfigError, DataError or RunError before training starts on bad input; RunError
    when another process is training the folder.
    """
    if resume is not None and run_dir is not None:
        raise ValueError("give resume (an existing run) or run_dir (a fresh folder), not both")
    taken: list[RunLock] = []
    try:
        return _train(
            config,
            on_event,
            control=control,
            runs_dir=runs_dir,
            resume=resume,
            dataset=dataset,
            fresh_dir=Path(run_dir) if run_dir is not None else None,
            lock=lock,
            taken=taken,
            tune_threads=tune_threads,
            measure_layers=measure_layers,
        )
    finally:
        for held in taken:
            held.release()


def _train(
    config: TrainConfig,
    on_event: Callable[[Event], None] | None,
    *,
    control: TrainControl | None,
    runs_dir: str | Path | None,
    resume: str | Path | Resume | None,
    dataset: DataSet | None,
    fresh_dir: Path | None,
    lock: RunLock | None,
    taken: list[RunLock],
    tune_threads: bool,
    measure_layers: bool,
) -> Finished:
    """Restore (or start), load the data, train the epochs, write the ending."""
    from .data import load_dataset
    from .models import pick_device

    emit = on_event or _ignore
    control = control or TrainControl()

    def hold(folder: Path) -> None:
        """Become the folder's one writer (unless the caller already is)."""
        if lock is not None and lock.held and lock.run_dir.resolve() == folder.resolve():
            return
        taken.append(RunLock(folder).acquire())

    opened = open_run(config, resume, fresh_dir, hold)
    config, plan = opened.config, opened.plan
    if dataset is None:
        # A run trained on the bundled sample (nothing in its folder) is not switched to a
        # fresh download on resume: that would be other data.
        download = plan is None or plan.recorded.get("data_source") != "sample"
        dataset = load_dataset(
            config.dataset, config.data_dir, download=download, on_log=_logger(emit)
        )
    # a refusal comes here, before anything is written
    other_data = check_same_data(plan, dataset) if plan is not None else None
    try:
        device = pick_device(config.device)
    except RuntimeError as error:
        raise ConfigError(str(error)) from None
    steps = math.ceil(len(dataset.train) / config.batch_size)
    trainee = build_trainee(config, len(dataset.classes), device, steps, opened.checkpoint)
    if plan is None:
        writer = RunWriter.fresh(opened.run_dir, runs_dir, config, dataset, hold, emit)
    else:
        writer = RunWriter.resumed(plan, trainee.start_epoch, dataset, other_data, emit)
    for note in dataset.notes:
        emit(Log(note, "warning"))
    emit(
        Started(
            str(writer.run_dir),
            config.model,
            dataset.name,
            str(device),
            config.epochs,
            trainee.start_epoch,
            len(dataset.train),
            len(dataset.val),
            list(dataset.classes),
            dataset.is_sample,
            config.architecture.describe() if config.architecture else None,
        )
    )
    import torch

    tuner = _thread_tuner(tune_threads, device, steps, emit)
    before = torch.get_num_threads()
    try:
        loop = EpochLoop(
            config, trainee, dataset, device, control, writer, emit, tuner, measure_layers
        )
        ending = loop.run()
    finally:
        if tuner is not None:
            torch.set_num_threads(before)
    finished = writer.finish(ending, trainee, config, dataset)
    emit(finished)
    return finished


def _thread_tuner(
    wanted: bool, device: torch.device, steps: int, emit: Callable[[Event], None]
) -> ThreadTuner | None:
    """A ThreadTuner where there is a choice to make: asked for, on a CPU of more than one
    thread, and the user has not fixed the count in the environment."""
    import torch

    threads = torch.get_num_threads()
    if not wanted or device.type != "cpu" or threads < 2 or threads_fixed_by_environment():
        return None
    return ThreadTuner(
        (1, threads), torch.set_num_threads, lambda line: emit(Log(line, "info")), steps
    )


def _ignore(event: Event) -> None:
    """The event sink of a caller that asked for none."""


def _logger(emit: Callable[[Event], None]) -> Callable[[str, LogLevel], None]:
    """A log(message, level) that sends Log events to emit (the data loader's on_log)."""

    def log(message: str, level: LogLevel = "info") -> None:
        emit(Log(message, level))

    return log


__all__ = ["TrainControl", "train", "RunError"]  # what a caller of train needs
