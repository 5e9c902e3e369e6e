"""The session's work on run folders, which the Runs screens ask for: plan a resume, start a
run in the background, stop, rename, delete and export a run, find and load its weights.

Each is one call of core's public functions, with core's refusals (CnnTuiError) and a
file system's errors turned into one ActionRefused, whose message is the line a
notification shows. No widget code here: the screens (screens/runs/keys.py, listing.py)
decide what to ask and show the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from cnn_tui.core.config import TrainConfig
from cnn_tui.core.errors import CnnTuiError
from cnn_tui.core.layer_stats import Histogram
from cnn_tui.core.resume import Resume, ResumePlan, ResumeRefused, plan_with_choices
from cnn_tui.core.run_files import BEST, LAST, WEIGHTS
from cnn_tui.core.runs import RunSummary

Which = Literal["final", "best"]  # a run's final weights (weights.pt, else last.pt) or best.pt
CSV_NAME = "metrics.csv"


class ActionRefused(Exception):
    """An action on a run could not be done; the message says why, in one line."""


def runs_folder(given: str | None) -> Path:
    """The runs folder the app trains into (--runs, else CNN_TUI_RUNS or the user's)."""
    from cnn_tui.core.paths import default_runs_dir

    return Path(given).expanduser() if given else default_runs_dir()


def resume_choices(run: RunSummary) -> tuple[ResumePlan, list[ResumeRefused]]:
    """The resume to offer for this run, by core's one resume plan (the checks the command
    line makes), and what a plain resume would have met (the choices it implies)."""
    try:
        return plan_with_choices(Resume(Path(run.path), run.epochs_planned))
    except (CnnTuiError, OSError) as error:
        raise ActionRefused(str(error)) from None


def start_in_background(
    config: TrainConfig, runs_dir: str | None, resume: Resume | None = None
) -> tuple[Path, int]:
    """Start (or resume) a run in a process of its own (core.detach): (run folder, pid).
    It checks the data folder and takes the run's lock, which may wait a second."""
    from cnn_tui.core.detach import start_detached

    try:
        return start_detached(config, runs_dir, resume=resume)
    except (CnnTuiError, OSError) as error:
        raise ActionRefused(str(error)) from None


def stop(run: RunSummary) -> int:
    """Ask a run trained by another process to stop; the pid asked."""
    from cnn_tui.core.runs import stop_run

    try:
        return stop_run(run.path)
    except CnnTuiError as error:
        raise ActionRefused(str(error)) from None


def delete(run: RunSummary) -> None:
    """Remove the run's folder (core refuses a live run)."""
    from cnn_tui.core.runs import delete_run

    try:
        delete_run(run.path)
    except CnnTuiError as error:
        raise ActionRefused(str(error)) from None


def rename(run: RunSummary, name: str) -> str:
    """Store the run's name in its config.json (core keeps the file's other keys); the name
    as stored, spaces trimmed ("" clears it)."""
    from cnn_tui.core.runs import rename_run

    try:
        return rename_run(run.path, name)
    except (CnnTuiError, OSError) as error:
        raise ActionRefused(str(error)) from None


def export_csv(run: RunSummary) -> Path:
    """Write the run's epochs as metrics.csv in its folder; the file written."""
    from cnn_tui.core.runs import export_metrics_csv

    try:
        return export_metrics_csv(run.path, Path(run.path) / CSV_NAME)
    except CnnTuiError as error:
        raise ActionRefused(str(error)) from None


def weights_file(run: RunSummary, which: Which) -> Path:
    """Where the run's final or best weights are (or would be)."""
    path = Path(run.path)
    if which == "best":
        return path / BEST
    return path / WEIGHTS if (path / WEIGHTS).is_file() else path / LAST


def has_weights(run: RunSummary, which: Which) -> bool:
    return weights_file(run, which).is_file()


def load_weights(file: Path) -> dict[str, Any]:
    """Load a run's weights file as a model (torch), to check it: its metadata."""
    from cnn_tui.core.weights_files import load_weights_file

    try:
        _, meta = load_weights_file(file)
    except CnnTuiError as error:
        raise ActionRefused(str(error)) from None
    except Exception as error:  # one line, never a traceback
        raise ActionRefused(f"{file}: {type(error).__name__}: {error}") from None
    return meta


def histograms(run_dir: str | Path) -> dict[int, dict[str, Histogram]]:
    """The run's weights histograms, epoch -> module -> histogram (core's one reader of
    histograms.jsonl; {} for a run that wrote none). Run in a worker: it reads a file."""
    from cnn_tui.core.run_records import read_histograms

    return read_histograms(run_dir)
