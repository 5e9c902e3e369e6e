"""Runs as the Runs screen and `cnn-tui watch` see them: summaries, listing, finding, and
the actions on a whole run (stop, delete, export its epochs).

A run folder's files are core/run_files.py's; they are read by core/run_records.py,
written by core/run_writer.py, and guarded by core/run_lock.py.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .architecture import BOOK_NET, Architecture
from .events import EPOCH_FIGURES
from .refused import ConfigError
from .run_files import CONFIG, STATE, RunError
from .run_lock import is_alive, lock_holder, refuses_signals, request_stop
from .run_records import (
    as_count,
    as_finite,
    as_text,
    read_config,
    read_metrics,
    read_state,
    state_problem,
)
from .states import KNOWN_STATES, LIVE_STATES, RunState


@dataclass
class RunSummary:
    """One run folder at a glance (states.RunState says what its state means; an
    unreadable one's warnings say why)."""

    path: str
    name: str
    model: str | None
    preset: str | None
    dataset: str | None  # the human name of the data (says plainly if it is the sample)
    epochs_done: int  # complete epochs in metrics.jsonl
    epochs_planned: int | None
    best_val_accuracy: float | None
    best_epoch: int | None
    state: RunState
    alive: bool
    pid: int | None
    started: float | None  # time.time() when the run began
    ended: float | None
    duration_seconds: float | None  # training time: the sum of the epochs' seconds
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    title: str = ""  # the user's name for the run (train --name, renamed on the Runs screen)
    # Its settings as config.json records them (None: not recorded or not readable)
    lr: float | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    augment: bool | None = None
    schedule: str | None = None
    architecture: str | None = None  # a `net`'s shape in short words (None: another model)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def net_shape(config: dict[str, Any]) -> str | None:
    """A `net` run's architecture in short words ("3x3 16,8 tanh" for the book's, as in a
    config.json written before there were others); None for other models or a bad record."""
    if config.get("model") != "net":
        return None
    recorded = config.get("architecture")
    try:
        return (BOOK_NET if recorded is None else Architecture.from_dict(recorded)).short()
    except ConfigError:
        return None


def effective_state(
    run_dir: str | Path, state: dict[str, Any] | None = None, alive: bool | None = None
) -> RunState:
    """state.json's state, with a dead "running" or "starting" read as "crashed" and a word
    it does not know as "unreadable"."""
    state = read_state(run_dir) if state is None else state
    stored = state.get("state")
    if is_alive(run_dir) if alive is None else alive:
        return stored if stored in LIVE_STATES else "running"
    if stored in (None, *LIVE_STATES) or not isinstance(stored, str):
        return "crashed"
    return stored if stored in KNOWN_STATES else "unreadable"


def run_summary(run_dir: str | Path) -> RunSummary:
    """A run folder's summary, or RunError if it is not a run folder.

    Every value is checked: a file with wrong types gives None for that value and a
    warning, never an exception, so one odd run never breaks a listing of the others.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    warnings: list[str] = []
    try:
        config = read_config(run_dir)
    except RunError as error:
        if not (run_dir / STATE).exists():
            raise
        config = {}
        if (run_dir / CONFIG).exists():
            warnings.append(str(error))
    state = read_state(run_dir)
    problem = state_problem(run_dir)
    if not problem and "state" in state and state["state"] not in KNOWN_STATES:
        problem = f"{run_dir / STATE}: unknown state {str(state['state'])[:40]!r}"
    if problem:
        warnings.append(problem)
    metrics = read_metrics(run_dir)
    epochs = metrics.epochs
    best = max(epochs, key=lambda r: r.val_accuracy, default=None)
    alive = is_alive(run_dir)
    shown = effective_state(run_dir, state, alive)
    if problem and not alive:
        shown = "unreadable"  # its state.json says nothing usable; it may be resumed
    planned = as_count(state.get("epochs"), 1) or as_count(config.get("epochs"), 1)
    pid = (lock_holder(run_dir) if alive else None) or as_count(state.get("pid"), 1)
    started = as_finite(state.get("started"))
    if started is None:
        with contextlib.suppress(OSError):
            started = (run_dir / CONFIG).stat().st_mtime
    return RunSummary(
        path=str(run_dir),
        name=run_dir.name,
        model=as_text(config.get("model")),
        preset=as_text(config.get("preset")),
        dataset=as_text(config.get("dataset_name")) or as_text(config.get("dataset")),
        epochs_done=max((r.epoch for r in epochs), default=0),
        epochs_planned=planned,
        best_val_accuracy=best.val_accuracy if best else None,
        best_epoch=best.epoch if best else None,
        state=shown,
        alive=alive,
        pid=pid,
        started=started,
        ended=None if alive else as_finite(state.get("ended")),
        duration_seconds=sum(r.epoch_seconds for r in epochs) if epochs else None,
        message=as_text(state.get("message")) or "",
        warnings=warnings + metrics.warnings,
        title=as_text(config.get("name")) or "",
        lr=as_finite(config.get("lr")),
        batch_size=as_count(config.get("batch_size"), 1),
        optimizer=as_text(config.get("optimizer")),
        augment=config.get("augment") if isinstance(config.get("augment"), bool) else None,
        schedule=as_text(config.get("schedule")),
        architecture=net_shape(config),
    )


def list_runs(runs_dir: str | Path) -> list[RunSummary]:
    """Every run folder under runs_dir, newest first; other folders are left out."""
    runs_dir = Path(runs_dir).expanduser()
    try:
        entries = [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    runs = []
    for path in entries:
        if not ((path / CONFIG).exists() or (path / STATE).exists()):
            continue
        with contextlib.suppress(RunError, OSError):
            runs.append(run_summary(path))
    runs.sort(key=lambda r: (r.started or 0.0, r.name), reverse=True)
    return runs


def find_run(runs_dir: str | Path, run: str | Path | None = None) -> Path:
    """A run folder from a path, a folder name under runs_dir, or (None) the newest run."""
    runs_dir = Path(runs_dir).expanduser()
    if run is None:
        runs = list_runs(runs_dir)
        if not runs:
            raise RunError(f"no runs in {runs_dir}")
        return Path(runs[0].path).resolve()
    path = Path(run).expanduser()
    for candidate in (path, runs_dir / str(run)):
        if candidate.is_dir() and ((candidate / CONFIG).exists() or (candidate / STATE).exists()):
            return candidate.resolve()
    if path.is_dir():
        raise RunError(f"{path} is not a run folder (no {CONFIG})")
    raise RunError(f"no run {run} (neither a folder nor a run in {runs_dir})")


def stop_run(run_dir: str | Path) -> int:
    """Ask a live run to stop; it ends "stopped" after its current batch, checkpoint kept.

    Two ways, so that it is safe whoever trains the folder: a stop-request file in the run
    folder, which every trainer (core.train.train) looks for at its progress interval, and
    SIGTERM, which a detached or command-line trainer turns into the same stop, but which
    is not sent to a process that refuses it (the app: see refuse_stop_signals), where it
    would end the program. Returns the trainer's pid.
    """
    import signal

    run_dir = Path(run_dir)
    if not is_alive(run_dir):
        raise RunError(f"run {run_dir} is not running ({effective_state(run_dir)})")
    pid = lock_holder(run_dir) or read_state(run_dir).get("pid")
    if not isinstance(pid, int) or pid <= 0:
        raise RunError(f"run {run_dir} is running but names no process")
    if pid == os.getpid():
        raise RunError(f"run {run_dir} is trained by this process; stop it from here")
    refuses = refuses_signals(run_dir)
    try:
        request_stop(run_dir)
    except RunError:
        if refuses:  # a read-only folder: SIGTERM alone can still stop the others
            raise
    if refuses:
        return pid
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        raise RunError(f"run {run_dir}: its process {pid} has just ended") from None
    except PermissionError:
        raise RunError(f"run {run_dir}: not allowed to signal its process {pid}") from None
    return pid


def delete_run(run_dir: str | Path) -> None:
    """Remove a run folder; refused for a live run or a folder that is not a run."""
    import shutil

    run_dir = Path(run_dir)
    if not ((run_dir / CONFIG).exists() or (run_dir / STATE).exists()):
        raise RunError(f"{run_dir} is not a run folder; not deleting it")
    if is_alive(run_dir):
        raise RunError(f"run {run_dir} is running; stop it before deleting it")
    try:
        shutil.rmtree(run_dir)
    except OSError as error:
        raise RunError(f"cannot delete {run_dir}: {error.strerror or error}") from None


def rename_run(run_dir: str | Path, name: str) -> str:
    """Set a run's name in its config.json, keeping every other key; the name as stored.

    A live run may be renamed once its trainer is at work: it writes config.json only as
    it starts or resumes, before it says "running". A starting one is refused, since its
    trainer may still write config.json over the new name. The file is replaced whole
    (core.atomic), so a crash leaves the old name or the new one, never a torn file.
    """
    from .atomic import write_json_atomic
    from .config import check_name

    run_dir = Path(run_dir)
    name = check_name(name)
    if is_alive(run_dir) and read_state(run_dir).get("state") != "running":
        raise RunError(
            f"run {run_dir.name} is starting: its trainer is about to write config.json; "
            "name it once it trains (in a few seconds)"
        )
    config = read_config(run_dir)
    try:
        write_json_atomic(run_dir / CONFIG, {**config, "name": name})
    except OSError as error:
        raise RunError(f"cannot rename {run_dir}: {error.strerror or error}") from None
    return name


METRIC_COLUMNS = EPOCH_FIGURES  # a metrics.jsonl line's figures


def export_metrics_csv(run_dir: str | Path, path: str | Path) -> Path:
    """Write a run's epochs as CSV (a header, then a row per epoch); returns the path."""
    import csv
    import io

    from .atomic import write_atomic

    epochs = read_metrics(run_dir).epochs
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(epoch.to_dict() for epoch in epochs)
    try:
        return write_atomic(Path(path).expanduser(), lambda h: h.write(text.getvalue().encode()))
    except OSError as error:
        raise RunError(f"cannot write {path}: {error.strerror or error}") from None
