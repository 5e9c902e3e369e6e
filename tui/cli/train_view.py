"""TrainView: training events as console lines and a progress bar; owns Ctrl-C and SIGTERM
while a run trains in this process (`cnn-tui train`, and the detached trainer's log)."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cnn_tui.tui import STARTED
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

BEST_MARK = "  *"
BEST_NOTE = "(* marks a new best validation accuracy: best.pt keeps those weights)"

if TYPE_CHECKING:
    from cnn_tui.core.events import Event, Finished


class StopControl(Protocol):
    """What TrainView needs of a run's control (core's TrainControl; `watch` has its own)."""

    @property
    def stopped(self) -> bool: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class StartTimes:
    """How cnn-tui train started a new run (tui/cli/train.py's load_while_importing):
    perf_counter times when the imports began and when both they and the data were
    done, and the seconds each took (the data were read alongside the imports)."""

    began: float
    imports: float
    data: float
    ready: float


class TrainView:
    """Shows training events; owns the progress bar and the Ctrl-C handler."""

    def __init__(self, out: Output, control: StopControl, start: StartTimes | None = None) -> None:
        self.out = out
        self.control = control
        self.start = start
        self.first_batch: float | None = None  # seconds of the run's first batch
        self.progress: Any = None
        self.task: Any = None
        self.epochs = 0
        self.best: float | None = None
        self.best_explained = False  # the * is explained once, above its first use
        self.last_epoch_seconds: float | None = None
        self.interrupted = False  # Ctrl-C
        self.terminated = False  # SIGTERM
        self._previous_handler: Any = None
        self._previous_term: Any = None
        self.started_at: float | None = None  # perf_counter at Started, and at Finished
        self.finished_at: float | None = None

    # context: restore the terminal and the signal handler whatever happens
    def __enter__(self) -> TrainView:
        # From before train() makes the run folder: a stop then ends the run "stopped"
        # before its first batch, instead of killing it with the folder half made.
        if threading_is_main():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
            self._previous_term = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_progress()
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None
        if self._previous_term is not None:
            signal.signal(signal.SIGTERM, self._previous_term)
            self._previous_term = None

    def _stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _on_sigint(self, signum: int, frame: object) -> None:
        if self.control.stopped:
            raise KeyboardInterrupt
        self.interrupted = True
        self.control.stop()
        self.out.warn(
            "stopping after this batch; the last checkpoint is kept (Ctrl-C again quits now)"
        )

    def _on_sigterm(self, signum: int, frame: object) -> None:
        # kill, a service manager, `cnn-tui watch --stop` (core.runs.stop_run): stop as
        # Ctrl-C does, keeping the checkpoint, rather than dying mid-epoch; exit 130 too
        self.terminated = True
        self.control.stop()

    def __call__(self, event: Event) -> None:
        from cnn_tui.core.events import EpochEnd, Finished, Log, Progress, Started

        if isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, EpochEnd):
            self._epoch(event)
        elif isinstance(event, Log):
            # an error ends the run and report() prints it once; a stop by Ctrl-C was
            # announced when the key was pressed
            if event.level != "error" and not (self.interrupted and self.control.stopped):
                self.out.log(event.message, event.level)
        elif isinstance(event, Started):
            self.started_at = time.perf_counter()
            self._started(event)
        elif isinstance(event, Finished):
            self.finished_at = time.perf_counter()
            self._stop_progress()

    def _started(self, event: Any) -> None:
        self.epochs = event.epochs
        out = self.out
        first = event.start_epoch + 1
        out.line(f"run folder: {event.run_dir}")
        model = f"{event.model} ({event.architecture})" if event.architecture else event.model
        out.line(f"model:      {model}, device {event.device}")
        out.line(f"data:       {event.dataset}")
        if event.start_epoch:
            left = f"epochs {first} to {event.epochs}" if first < event.epochs else f"epoch {first}"
            out.line(f"resuming after epoch {event.start_epoch}; {left}")
            self.best = _best_before(event.run_dir, event.start_epoch)
        if out.console is not None and first <= event.epochs:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[eta]}"),
                console=out.console,
                transient=True,
                redirect_stderr=False,
                redirect_stdout=False,
            )
            self.task = self.progress.add_task(
                f"epoch {first}/{event.epochs}", total=None, rate="", eta=""
            )
            self.progress.start()

    def _progress(self, event: Any) -> None:
        if event.batch == 1 and self.first_batch is None:
            self.first_batch = event.epoch_seconds  # core's loop reports the first batch
        if self.progress is None:
            return
        run_left = event.run_seconds_left(self.last_epoch_seconds)
        self.progress.update(
            self.task,
            description=f"epoch {event.epoch}/{event.epochs}",
            completed=event.batch,
            total=event.batches,
            rate=f"{event.images_per_second:,.0f} img/s",
            eta=f"ETA {duration(event.eta_seconds)} (run {duration(run_left)})",
        )

    def _epoch(self, event: Any) -> None:
        self.last_epoch_seconds = event.epoch_seconds
        if self.out.json:
            self.out.emit_json(event.to_dict())
            return
        best = self.best is None or event.val_accuracy > self.best
        self.best = event.val_accuracy if best else self.best
        marked = best and self.out.console is not None
        if marked and not self.best_explained:
            self.best_explained = True
            self.out.line(BEST_NOTE, style="dim")
        self.out.line(self._epoch_line(event, BEST_MARK if marked else ""))
        if self.progress is not None:
            self.progress.reset(self.task, total=None, rate="", eta="")
            if event.epoch < self.epochs:
                self.progress.update(
                    self.task, description=f"epoch {event.epoch + 1}/{self.epochs}"
                )

    def _epoch_line(self, event: Any, mark: str) -> str:
        """One epoch in one line: on a terminal narrower than the whole line, the speed
        and then the time are left out (the bar showed them) so that it never wraps."""
        width = len(str(self.epochs))
        parts = [
            f"epoch {event.epoch:>{width}}/{self.epochs}  "
            f"train loss {event.train_loss:.4f} acc {event.train_accuracy:.4f}  "
            f"val loss {event.val_loss:.4f} acc {event.val_accuracy:.4f}",
            f"  {event.epoch_seconds:.1f}s",
            f"  {event.images_per_second:,.0f} img/s",
        ]
        limit = self.out.width
        while limit is not None and len(parts) > 1 and len("".join(parts) + mark) > limit:
            parts.pop()
        return "".join(parts) + mark

    def time_line(self, epochs: int, now: float) -> str:
        """Where the wall clock went, from cnn-tui's start: starting (imports, data, the
        run folder and model) until the first epoch began, then the epochs (validation and
        checkpoints included)."""
        assert self.started_at is not None and self.finished_at is not None
        load, training = self.started_at - STARTED, self.finished_at - self.started_at
        how = "to start" if self.start is not None else "to load (imports, data)"
        return (
            f"time: {now - STARTED:.1f} s in all: {load:.1f} s {how}, "
            f"then {training:.1f} s for {plural(epochs, 'epoch')}"
        )

    def start_line(self) -> str | None:
        """A new run's start broken down (the data were read while torch imported), and
        its first batch; None when train did not time them (a resumed run)."""
        start = self.start
        if start is None or self.started_at is None:
            return None
        first = f"; first batch {self.first_batch:.2f} s" if self.first_batch is not None else ""
        return (
            f"start: {start.began + start.imports - STARTED:.1f} s imports, "
            f"{start.data:.1f} s data alongside, {self.started_at - start.ready:.1f} s set-up"
            + first
        )

    def report(self, finished: Finished) -> int:
        """The end of the run: the run folder and weights, and the exit status."""
        out = self.out
        if out.json:
            out.emit_json({"run_dir": finished.run_dir, "weights": finished.weights})
        else:
            if finished.best_val_accuracy is not None:
                out.line(
                    f"{finished.state}: {plural(finished.epochs_done, 'epoch')}, best val "
                    f"accuracy {finished.best_val_accuracy:.4f} (epoch {finished.best_epoch})"
                )
            out.line(f"run folder: {finished.run_dir}")
            if finished.weights:
                out.line(f"weights:    {finished.weights}")
            if self.started_at is not None and self.finished_at is not None:
                out.line(self.time_line(finished.epochs_done, time.perf_counter()))
                if (start := self.start_line()) is not None:
                    out.line(start)
        if finished.state == "failed":
            print_error(finished.message or "training failed")
            return EXIT_FAILURE
        if finished.state == "stopped":
            out.line(f"resume with: {PROG} train --resume {finished.run_dir}")
            return EXIT_INTERRUPTED if self.interrupted or self.terminated else EXIT_OK
        return EXIT_OK


def _best_before(run_dir: str, epochs: int) -> float | None:
    """The best validation accuracy of a resumed run's first `epochs` epochs, so that the
    first epoch after a resume is marked * only if it beats them."""
    from cnn_tui.core.run_records import read_metrics

    accuracies = [e.val_accuracy for e in read_metrics(run_dir).epochs if e.epoch <= epochs]
    return max(accuracies, default=None)


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
