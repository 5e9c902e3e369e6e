"""The runs folder as the Runs screen sees it, re-read only where files changed.

Every read of a run folder by the Runs screens comes through here, to core's readers
(run_summary, read_metrics, read_progress): nothing here parses a file itself. The
screen polls a few times a second; each poll costs a directory listing and a few stat
calls per run. A run's summary is read again only when one of its files changed (size or
mtime), or while it is live (a trainer that dies changes no file: only a probe of its
lock tells). Nothing here imports torch or Textual.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from cnn_tui.core.events import EpochEnd, Progress
from cnn_tui.core.run_files import CONFIG, LOCK, METRICS, STATE, RunError
from cnn_tui.core.run_records import read_metrics, read_progress
from cnn_tui.core.runs import RunSummary, run_summary
from cnn_tui.core.states import LIVE_STATES


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def files_key(run_dir: Path) -> tuple:
    """What changes whenever a run's listing could: its config, state, metrics and lock."""
    return tuple(_stat_key(run_dir / name) for name in (CONFIG, STATE, METRICS, LOCK))


def short_dataset(name: str | None) -> str:
    """'CIFAR-2 (image folder /x, 10000 train / 2000 val)' -> 'CIFAR-2' for a table cell;
    the bundled sample is called 'sample', plainly."""
    if not name:
        return "-"
    if "bundled sample" in name:
        return "sample"
    return name.split(" (", 1)[0].strip() or name


def last_epoch(epochs: list[EpochEnd]) -> EpochEnd | None:
    return epochs[-1] if epochs else None


class RunFiles:
    """One run's epochs, re-read only when metrics.jsonl changed."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._key: tuple[int, int] | None | bool = False  # False: never read
        self.epochs: list[EpochEnd] = []
        self.warnings: list[str] = []
        self.version = 0  # changes whenever epochs do

    def refresh(self) -> bool:
        """Re-read metrics.jsonl if it changed; True when the epochs did."""
        key = _stat_key(self.run_dir / METRICS)
        if key == self._key:
            return False
        self._key = key
        log = read_metrics(self.run_dir)
        epochs = log.epochs
        self.warnings = log.warnings
        if epochs == self.epochs and self.version:
            return False
        self.epochs = epochs
        self.version += 1
        return True


class RunsCache:
    """Every run folder under a runs folder, newest first, with its summary."""

    def __init__(self, runs_dir: str | Path) -> None:
        self.runs_dir = Path(runs_dir).expanduser()
        self._entries: dict[str, tuple[tuple, RunSummary]] = {}
        self.runs: list[RunSummary] = []
        self.version = 0  # changes whenever anything in `runs` does

    def refresh(self) -> bool:
        """Look at the folder again; True when the listing changed."""
        found: dict[str, tuple[tuple, RunSummary]] = {}
        try:
            with os.scandir(self.runs_dir) as entries:
                folders = [e.path for e in entries if e.is_dir() and not e.name.startswith(".")]
        except OSError:
            folders = []
        for folder in folders:
            path = Path(folder)
            key = files_key(path)
            if key[0] is None and key[1] is None:  # neither config.json nor state.json
                continue
            old = self._entries.get(folder)
            if old is not None and old[0] == key and not may_change_alone(old[1]):
                found[folder] = old
                continue
            try:
                summary = run_summary(path)
            except (RunError, OSError):
                continue
            found[folder] = (key, summary)
        runs = sorted(
            (summary for _, summary in found.values()),
            key=lambda r: (r.started or 0.0, r.name),
            reverse=True,
        )
        self._entries = found
        if runs == self.runs:
            return False
        self.runs = runs
        self.version += 1
        return True

    def get(self, path: str | Path) -> RunSummary | None:
        entry = self._entries.get(str(path))
        return entry[1] if entry else None


def may_change_alone(summary: RunSummary) -> bool:
    """A live run can turn into a crashed one without any file changing."""
    return summary.alive or summary.state in LIVE_STATES


def read_summary(run_dir: str | Path) -> RunSummary | None:
    """One run's summary read afresh, or None when its folder is gone (or no run now)."""
    try:
        return run_summary(run_dir)
    except RunError:
        return None


def epoch_progress(run: RunSummary) -> Progress | None:
    """Where a run trained by another process is within its epoch (its progress.json),
    or None when that file is missing, unreadable or left from another epoch."""
    progress = read_progress(run.path)
    if progress is None or progress.epoch != run.epochs_done + 1 or progress.batches <= 0:
        return None
    return progress


def accuracy_pair(epochs: list[EpochEnd]) -> tuple[float, float] | None:
    """(train, val) accuracy of the final epoch: what the chapter's closing figure shows."""
    last = last_epoch(epochs)
    if last is None:
        return None
    pair = (last.train_accuracy, last.val_accuracy)
    return pair if all(math.isfinite(v) for v in pair) else None
