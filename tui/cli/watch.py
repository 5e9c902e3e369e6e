"""`cnn-tui watch [RUN]`: follow a live or finished run from its files, until it ends.

core/watch.py reads only what the trainer writes (metrics.jsonl, state.json, progress.json),
so this attaches to a detached run after an SSH drop, to a run trained in another terminal
or in the app, and to a finished run (which it prints and leaves). Leaving (Ctrl-C) never stops
the run; `--stop` asks it to stop on purpose (SIGTERM: it keeps its last checkpoint).
Epoch lines are the ones `cnn-tui train` prints: rich on a terminal, plain lines in a
pipe, JSON Lines with --json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from cnn_tui.core.runs import find_run, run_summary, stop_run
from cnn_tui.core.watch import POLL_SECONDS, RunFollower
from cnn_tui.tui.cli.output import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    Output,
    duration,
    plural,
    print_error,
)
from cnn_tui.tui.cli.train_view import TrainView


def cmd_watch(args: argparse.Namespace, out: Output) -> int:
    """Print a run's epochs as they appear until it ends; returns the exit status."""
    from cnn_tui.core.paths import default_runs_dir

    runs_dir = Path(args.runs).expanduser() if getattr(args, "runs", None) else default_runs_dir()
    run_dir = find_run(runs_dir, getattr(args, "run", None))
    watcher = Watcher(out, run_dir)
    if getattr(args, "stop", False):
        pid = stop_run(run_dir)
        out.line(f"asked run {run_dir.name} (pid {pid}) to stop; it keeps its last checkpoint")
    return watcher.follow()


class Watcher:
    """Follows one run folder; a rich bar for the epoch in progress on a terminal."""

    def __init__(self, out: Output, run_dir: Path, poll: float = POLL_SECONDS) -> None:
        self.out = out
        self.run_dir = run_dir
        self.poll = poll
        self.follower = RunFollower(run_dir)
        self.view = TrainView(out, _NoControl())  # prints epoch lines as `train` does
        self.progress: Any = None
        self.task: Any = None

    def follow(self) -> int:
        summary = run_summary(self.run_dir)
        self.view.epochs = summary.epochs_planned or 0
        out = self.out
        out.line(f"run folder: {self.run_dir}")
        what = " on ".join(str(x) for x in (summary.model, summary.dataset) if x)
        out.line(f"{what}, {summary.state}" + (f", pid {summary.pid}" if summary.alive else ""))
        if summary.state == "starting":
            out.line("the trainer is starting (loading torch and the data) ...")
        try:
            self._start_bar()
            while True:
                live = self.follower.live()
                self._new_epochs()
                if not live:
                    break
                self._update_bar()
                time.sleep(self.poll)
        except KeyboardInterrupt:
            self._stop_bar()
            pid = self.follower.trainer_pid()
            print(  # not an error: leaving is what Ctrl-C asks for
                f"{PROG}: left watching; the run goes on (pid {pid}); stop it with: "
                f"{PROG} watch {self.run_dir} --stop",
                file=sys.stderr,
                flush=True,
            )
            return EXIT_INTERRUPTED
        finally:
            self._stop_bar()
        self._new_epochs()  # lines written as the run ended
        return self._report()

    # what is on disk

    def _new_epochs(self) -> None:
        new = self.follower.new_epochs()
        if new is None:
            return
        if new.resumed_after is not None:
            self.out.line(f"(the run resumed after epoch {new.resumed_after})")
        if new.planned is not None:
            self.view.epochs = new.planned
        for record in new.epochs:
            if self.progress is not None:
                self.progress.reset(self.task, total=None, rate="", eta="")
            self.view(record)

    def _report(self) -> int:
        summary = run_summary(self.run_dir)
        out = self.out
        if out.json:
            out.emit_json(
                {
                    "run_dir": str(self.run_dir),
                    "state": summary.state,
                    "epochs_done": summary.epochs_done,
                    "best_val_accuracy": summary.best_val_accuracy,
                    "message": summary.message,
                }
            )
        else:
            for warning in summary.warnings:
                out.warn(warning)
            done, planned = summary.epochs_done, summary.epochs_planned
            # "1 of 1 epoch", "3 of 10 epochs", "1 epoch": the word agrees with the last count
            count = f"{done} of {plural(planned, 'epoch')}" if planned else plural(done, "epoch")
            line = f"{summary.state}: {count}"
            if summary.best_val_accuracy is not None:
                line += (
                    f", best val accuracy {summary.best_val_accuracy:.4f} "
                    f"(epoch {summary.best_epoch})"
                )
            out.line(line)
            if summary.duration_seconds is not None:
                out.line(f"training time: {duration(summary.duration_seconds)}")
        if summary.state in ("stopped", "crashed", "failed", "unreadable"):
            if summary.state == "unreadable":
                print_error(  # the warning above says why
                    f"the run's state.json is unreadable; resume with: "
                    f"{PROG} train --resume {self.run_dir}"
                )
            elif summary.state == "crashed":
                print_error(
                    "the trainer ended without saying so (killed, its terminal closed, or the "
                    "machine went down); "
                    f"resume with: {PROG} train --resume {self.run_dir}"
                )
            elif summary.state == "failed":
                print_error(summary.message or "training failed")
            else:
                out.line(f"resume with: {PROG} train --resume {self.run_dir}")
        return EXIT_OK if summary.state in ("finished", "stopped") else EXIT_FAILURE

    # the bar for the epoch in progress (terminal only)

    def _start_bar(self) -> None:
        if self.out.console is None:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[eta]}"),
            console=self.out.console,
            transient=True,
        )
        self.task = self.progress.add_task("waiting", total=None, rate="", eta="")
        self.progress.start()

    def _update_bar(self) -> None:
        if self.progress is None:
            return
        progress = self.follower.progress()
        epochs = self.view.epochs or "?"
        if progress is not None:
            self.progress.update(
                self.task,
                description=f"epoch {progress.epoch}/{epochs}",
                completed=progress.batch,
                total=progress.batches,
                rate=f"{progress.images_per_second:,.0f} img/s",
                eta=f"ETA {duration(progress.eta_seconds)}",
            )
        else:  # a run trained in the foreground writes no progress.json: epochs only
            self.progress.update(self.task, description=f"epoch {self.follower.shown + 1}/{epochs}")

    def _stop_bar(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class _NoControl:
    """TrainView's control, unused: watching never stops a run (see --stop)."""

    stopped = False

    def stop(self) -> None:
        pass
