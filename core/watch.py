"""Following a run from its files: what `cnn-tui watch` reads, as typed records.

It reads only what the trainer writes (metrics.jsonl, state.json, progress.json), so it
follows a detached run after an SSH drop, a run trained in another terminal or in the app,
and a finished run. Reading never changes the run. The printing is tui/cli/watch.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .events import EpochEnd, Progress
from .run_files import METRICS
from .run_lock import lock_holder
from .run_records import read_metrics, read_progress, read_state
from .runs import effective_state
from .states import LIVE_STATES

POLL_SECONDS = 0.5  # how often a follower looks at the run's files


@dataclass
class NewEpochs:
    """What metrics.jsonl says since the last look."""

    epochs: list[EpochEnd] = field(default_factory=list)  # not reported before, in order
    resumed_after: int | None = None  # a resume dropped the epochs after this one
    planned: int | None = None  # state.json's planned epoch count, when it has a good one


class RunFollower:
    """Follows one run folder: its new epochs, whether it is live, its epoch in progress."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.shown = 0  # the last epoch reported
        self._metrics_key: tuple[int, int] | None = None

    def new_epochs(self) -> NewEpochs | None:
        """The epochs written since the last call; None when metrics.jsonl is unchanged."""
        try:
            stat = (self.run_dir / METRICS).stat()
            key: tuple[int, int] | None = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            key = None
        if key is not None and key == self._metrics_key:
            return None
        self._metrics_key = key
        epochs = read_metrics(self.run_dir).epochs
        new = NewEpochs()
        last = max((r.epoch for r in epochs), default=0)
        if last < self.shown:  # a resume dropped lines past its checkpoint
            new.resumed_after = last
            self.shown = last
        planned = read_state(self.run_dir).get("epochs")
        if isinstance(planned, int) and not isinstance(planned, bool) and planned > 0:
            new.planned = planned
        for record in epochs:
            if record.epoch > self.shown:
                self.shown = record.epoch
                new.epochs.append(record)
        return new

    def live(self) -> bool:
        """Whether a trainer is still at work on the run (a dead one reads as crashed)."""
        return effective_state(self.run_dir) in LIVE_STATES

    def progress(self) -> Progress | None:
        """The epoch in progress after the last one reported, if progress.json has it (a run
        trained in the foreground writes none)."""
        progress = read_progress(self.run_dir)
        if progress is not None and progress.epoch == self.shown + 1 and progress.batches:
            return progress
        return None

    def trainer_pid(self) -> object:
        """The trainer's pid: the lock's holder, else the one state.json names."""
        return lock_holder(self.run_dir) or read_state(self.run_dir).get("pid")
