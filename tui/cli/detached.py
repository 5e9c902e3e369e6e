"""The background trainer's entry: `python -m cnn_tui.tui.cli.detached RUN_DIR --lock-fd N`.

core/detach.py's start_detached starts it in a session of its own, with stdout and stderr
appended to RUN_DIR/train.log; this module prints the run's lines there (as `cnn-tui train`
does in a pipe) and leaves the training to core.detach.train_in_folder. It ignores SIGHUP
and turns SIGTERM and SIGINT into TrainControl.stop: the run finishes the batch, keeps its
last checkpoint and ends "stopped".
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.core.detach import TRAINER_MODULE, mark_failed, train_in_folder
from cnn_tui.core.resume import Resume
from cnn_tui.core.run_files import RunError
from cnn_tui.core.run_lock import RunLock
from cnn_tui.core.run_writer import clear_progress
from cnn_tui.tui.cli.output import Output, print_error
from cnn_tui.tui.cli.train_view import TrainView
from cnn_tui.tui.slow_imports import import_for_training

if TYPE_CHECKING:
    from cnn_tui.core.train import TrainControl


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {TRAINER_MODULE}")
    parser.add_argument("run_dir")
    parser.add_argument("--lock-fd", type=int, default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--from-best", action="store_true")
    parser.add_argument("--other-data", action="store_true")
    parser.add_argument("--data", default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """The background trainer: train into RUN_DIR, writing lines to stdout (train.log)."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    from cnn_tui.core.train import TrainControl

    control = TrainControl()

    def stop(signum: int, frame: object) -> None:
        control.stop()  # no printing here: a signal may land inside a print

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    args = _parse(argv)
    run_dir = Path(args.run_dir)

    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} background trainer, pid {os.getpid()}", flush=True)
    try:
        if args.lock_fd is not None:
            lock = RunLock.adopt(run_dir, args.lock_fd)
        else:
            lock = RunLock(run_dir).acquire()
    except RunError as error:
        print_error(error)  # another process trains this folder: leave its state alone
        return 1
    try:
        return _train(args, run_dir, control, lock)
    finally:
        clear_progress(run_dir)
        lock.release()


def _train(args: argparse.Namespace, run_dir: Path, control: TrainControl, lock: RunLock) -> int:
    """Train with the lock held; the exit status. An error ends the run failed."""
    from cnn_tui.core.errors import CnnTuiError
    from cnn_tui.core.memory import keep_freed_memory

    keep_freed_memory()  # this process only trains (core/memory.py)
    import_for_training()  # without the collections its imports set off

    try:
        resume = None
        if args.resume:
            resume = Resume(run_dir, args.epochs, args.from_best, args.data, args.other_data)
        view = TrainView(Output(json_mode=False), control)
        with view:
            finished = train_in_folder(run_dir, view, control, lock, resume)
        status = view.report(finished)
    except CnnTuiError as error:
        print_error(error)
        mark_failed(run_dir, error)
        return 1
    except BaseException as error:
        import traceback

        traceback.print_exc()
        mark_failed(run_dir, error, unexpected=True)
        return 1
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} background trainer ended: {finished.state}", flush=True)
    return status


if __name__ == "__main__":
    status = main()
    gc.freeze()  # a quick exit, as the console script's (tui/main.py's script)
    sys.exit(status)
