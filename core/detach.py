"""Training in a process of its own that outlives the terminal, an SSH drop and the app.

`start_detached` makes the run folder (or, to resume, checks it), takes the folder's lock,
and starts `python -m cnn_tui.tui.cli.detached RUN_DIR ...` (the command line's entry,
which prints the run's lines into train.log; the training itself is train_in_folder here):

- in a new session (setsid): no controlling terminal, so a terminal hang-up, a closed SSH
  connection or Ctrl-C in the launching shell never reaches it, and it is not in the
  launcher's process group;
- with stdin from /dev/null and stdout and stderr appended to RUN_DIR/train.log;
- holding the folder's lock, handed over as an inherited file descriptor, so there is no
  moment between launcher and trainer when the folder is unlocked (and reads as crashed).

The child ignores SIGHUP and turns SIGTERM and SIGINT into TrainControl.stop: it finishes
the batch, keeps its last checkpoint and ends "stopped" (core.runs.stop_run sends SIGTERM).
It writes progress.json a second at most, so `cnn-tui watch` can show the epoch's progress.
Only the standard library and light core modules load in the launcher: torch loads in the
child.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TrainConfig, validate
from .paths import default_data_dir, default_runs_dir
from .resume import Resume, plan_resume
from .run_files import CONFIG, LOG, RunError
from .run_lock import RunLock, name_holder
from .run_records import read_config
from .run_writer import clear_progress, new_run_dir, write_progress, write_state

if TYPE_CHECKING:
    from .events import Event, Finished
    from .train import TrainControl

TRAINER_MODULE = "cnn_tui.tui.cli.detached"  # run with -m: the background trainer
PROGRESS_EVERY = 1.0  # seconds between progress.json writes at most
PER_BATCH = ("losses", "lrs")  # Progress's per-batch figures: not for progress.json


def _check_data(config: TrainConfig) -> None:
    """Refuse, before anything starts, a data folder that cannot be right (cheap: no decoding):
    what load_dataset would refuse before decoding, the image folder's checks included."""
    from .data import DataError, check_image_folder, detect_layout

    root = Path(config.data_dir).expanduser() if config.data_dir else default_data_dir()
    if root.exists() and not root.is_dir():
        raise DataError(f"data folder {root} is a file, not a folder")
    try:
        layout = detect_layout(root)
    except OSError as error:
        raise DataError(f"data folder {root} cannot be read ({error.strerror or error})") from None
    if layout == "unknown":
        raise DataError(
            f"data folder {root} holds neither CIFAR-10's files nor an image folder "
            "(train/<class>/*, test/<class>/*)"
        )
    if layout == "folder":
        try:
            check_image_folder(root, config.dataset)
        except OSError as error:
            reason = error.strerror or error
            raise DataError(f"data folder {root} cannot be read ({reason})") from None


def start_detached(
    config: TrainConfig,
    runs_dir: str | Path | None = None,
    resume: str | Path | Resume | None = None,
) -> tuple[Path, int]:
    """Start training in a background process; returns (run folder, its pid) at once.

    config: what to train (for a resume, only its epoch count is used, as in train()).
    runs_dir: where the new run folder is made (default: CNN_TUI_RUNS, else the user's).
    resume: a run folder to continue from its last.pt instead, or a core.resume.Resume
    saying how (checked here by plan_resume, and again by the trainer).
    Raises ConfigError, DataError or RunError (one line each) when it cannot start, e.g.
    when another process is training the run folder.
    """
    if os.name != "posix":
        raise RunError("detached runs need a POSIX system (Linux, macOS)")
    if resume is not None:
        if not isinstance(resume, Resume):
            resume = Resume(Path(resume), config.epochs)
        run_dir, lock, extra, fields = _claim_resumed(resume)
    else:
        run_dir, lock, extra, fields = _claim_new(config, runs_dir)
    fd = lock.handover()
    try:
        write_state(run_dir, **fields)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(run_dir / LOG, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", TRAINER_MODULE, str(run_dir), "--lock-fd", str(fd)] + extra,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=run_dir,
                env=env,
                start_new_session=True,
                pass_fds=(fd,),
            )
        name_holder(fd, process.pid)  # the trainer, which accepts a stop signal
    except OSError as error:
        with contextlib.suppress(OSError):
            write_state(run_dir, state="failed", ended=time.time(), message=str(error))
        raise RunError(
            f"cannot start a background trainer in {run_dir}: {error.strerror or error}"
        ) from None
    finally:
        os.close(fd)  # the child holds the lock from here
    with contextlib.suppress(OSError):
        write_state(run_dir, pid=process.pid)
    # Reap the child when it ends, so a long-lived launcher (the app) keeps no zombies.
    threading.Thread(target=process.wait, name="cnn-tui-reaper", daemon=True).start()
    return run_dir, process.pid


_Claim = tuple[Path, RunLock, list[str], dict[str, Any]]


def _claim_resumed(resume: Resume) -> _Claim:
    """A run to resume, checked and locked: its folder, lock, the trainer's options, and the
    state.json fields until the trainer starts."""
    run_dir = Path(resume.run_dir).expanduser().resolve()
    plan = plan_resume(resume)  # RunError for a folder that is not a run, or refused
    lock = RunLock(run_dir).acquire()  # RunError while another process trains it
    extra = ["--resume", "--epochs", str(plan.config.epochs)]
    if resume.from_best:
        extra.append("--from-best")
    if resume.other_data:
        extra.append("--other-data")
    if resume.data_dir is not None:
        extra += ["--data", str(plan.config.data_dir)]
    return run_dir, lock, extra, {"state": "starting", "detached": True}


def _claim_new(config: TrainConfig, runs_dir: str | Path | None) -> _Claim:
    """A new run folder for config, checked, made and locked (as _claim_resumed)."""
    config = validate(config)
    if config.data_dir:
        config = config.with_changes(data_dir=str(Path(config.data_dir).expanduser().resolve()))
    _check_data(config)
    run_dir = new_run_dir(runs_dir or default_runs_dir(), config.model).resolve()
    lock = RunLock(run_dir).acquire()
    from .atomic import write_json_atomic

    # The trainer rewrites config.json with what it learns from the data; until then
    # this one lets a listing name the run's model, preset and epochs.
    write_json_atomic(run_dir / CONFIG, config.to_dict())
    fields = {"state": "starting", "detached": True, "started": time.time()}
    return run_dir, lock, [], {**fields, "epochs": config.epochs}


class ProgressWriter:
    """A training event sink for a background run: writes progress.json (a second at most)
    for watchers, clears it at the end, and passes every event on to `sink` (its log lines;
    a full disk refusing the log does not stop training)."""

    def __init__(self, sink: Callable[[Event], None], run_dir: Path) -> None:
        self.sink = sink
        self.run_dir = run_dir
        self._last_write = 0.0

    def __call__(self, event: Event) -> None:
        from .events import Finished, Progress

        if isinstance(event, Progress):
            now = time.monotonic()
            if now - self._last_write >= PROGRESS_EVERY or event.batch == event.batches:
                self._last_write = now
                figures = {k: v for k, v in asdict(event).items() if k not in PER_BATCH}
                write_progress(self.run_dir, {**figures, "time": time.time()})
        elif isinstance(event, Finished):
            clear_progress(self.run_dir)
        with contextlib.suppress(OSError):  # a full disk may refuse the log: train on
            self.sink(event)


def train_in_folder(
    run_dir: Path,
    sink: Callable[[Event], None],
    control: TrainControl,
    lock: RunLock,
    resume: Resume | None = None,
) -> Finished:
    """The background trainer's work: train the run folder start_detached made (from its
    config.json), or resume it, holding `lock`; events go to `sink`, progress.json is kept
    for watchers. Raises what train() raises (see mark_failed)."""
    from .train import train

    config = TrainConfig.from_dict(read_config(run_dir))
    return train(
        config,
        ProgressWriter(sink, run_dir),
        control=control,
        resume=resume,
        run_dir=None if resume is not None else run_dir,
        lock=lock,
        tune_threads=True,  # the detached process only trains
    )


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def mark_failed(run_dir: Path, error: BaseException, unexpected: bool = False) -> None:
    """End a background run `failed` in state.json, with the error as its one-line reason.
    unexpected: a bug rather than a refusal, named by its type (and a full disk tolerated)."""
    if not unexpected:
        write_state(run_dir, state="failed", ended=time.time(), message=_one_line(error))
        return
    with contextlib.suppress(OSError):
        message = _one_line(f"unexpected {type(error).__name__}: {error}")[:300]
        write_state(run_dir, state="failed", ended=time.time(), message=message)
