"""What the Runs screens say about a run, in words: title, status line, keys, labels.

Plain functions of a RunSummary (and of where a live run is within its epoch), so the
list, one run's screen and the comparison word a run the same way.
"""

from __future__ import annotations

import os

from cnn_tui.core.events import Progress
from cnn_tui.core.runs import RunSummary
from cnn_tui.core.states import RunState
from cnn_tui.tui.session.run_actions import has_weights
from cnn_tui.tui.state import format_duration
from rich.text import Text

RESUMABLE: tuple[RunState, ...] = ("stopped", "crashed", "failed", "unreadable")


def is_own_run(run: RunSummary) -> bool:
    """Trained by this process (the app's training worker) rather than another one."""
    return run.alive and run.pid == os.getpid()


def run_title(run: RunSummary) -> Text:
    named = f" · {run.title}" if run.title else ""
    return Text.assemble(
        (run.model or "?", "bold"), named, f" · preset {run.preset or '-'} · {run.name}"
    )


def run_status_text(run: RunSummary, progress: Progress | None = None) -> str:
    """One line: state, who trains it, epoch k of N, best val accuracy, training time."""
    planned = run.epochs_planned if run.epochs_planned is not None else "?"
    if run.alive:
        who = "in this app" if is_own_run(run) else f"pid {run.pid}" if run.pid else ""
        parts = [f"{run.state} {who}".strip()]
        epoch = progress.epoch if progress is not None else None
        parts.append(f"epoch {epoch or run.epochs_done + 1} of {planned}")
    else:
        parts = [run.state, f"{run.epochs_done} of {planned} epochs"]
    if run.best_val_accuracy is not None:
        parts.append(f"best val {run.best_val_accuracy:.3f} (epoch {run.best_epoch})")
    if run.duration_seconds is not None:
        parts.append(f"time {format_duration(run.duration_seconds)}")
    if run.state in RESUMABLE and not run.alive:
        parts.append("r resumes")
    return " · ".join(parts)


def run_info_text(run: RunSummary) -> Text:
    """The run's data and folder, what went wrong if anything did, and the keys for it."""
    lines = [f"{run.dataset or 'data set unknown'} · {run.path}"]
    if run.message and run.state == "failed":  # a stop's message says only that
        lines.append(run.message)
    elif run.state == "crashed":
        lines.append("its trainer ended without saying so (killed, terminal closed, power cut)")
    lines.extend(run.warnings[:1])
    hint = keys_hint(run)
    return Text("\n".join(lines[:2] + ([f"keys: {hint}"] if hint else [])))


def compare_labels(runs: list[RunSummary]) -> list[str]:
    """Short, distinct labels: a run's name where it has one, else the model, then with its
    preset, then with the folder's suffix."""
    models = [run.model or "?" for run in runs]
    for labels in (
        models,
        [f"{model} {run.preset or '-'}" for model, run in zip(models, runs, strict=True)],
        [f"{model} {run.name.rsplit('-', 1)[-1]}" for model, run in zip(models, runs, strict=True)],
    ):
        labels = [run.title or label for run, label in zip(runs, labels, strict=True)]
        if len(set(labels)) == len(labels):
            return labels
    return [
        f"{i + 1}:{run.title or label}"
        for i, (run, label) in enumerate(zip(runs, models, strict=True))
    ]


def keys_hint(run: RunSummary) -> str:
    """The keys that act on this run, in words (the footer groups them as 'Run')."""
    keys = []
    if run.alive:
        keys.append("x stop")
    elif run.state in RESUMABLE:
        keys.append("r resume")
    final = has_weights(run, "final")
    best = has_weights(run, "best")
    if final and best:
        keys.append("w/b use final/best weights")
    elif final or best:
        keys.append(f"{'w' if final else 'b'} use {'final' if final else 'best'} weights")
    if run.epochs_done:
        keys.append("e export CSV")
    if not run.alive:
        keys.append("d delete")
    return " · ".join(keys)
