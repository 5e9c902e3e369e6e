"""The Runs table's columns: what each shows of a run and how it sorts, and which of the
settings columns a list of runs needs (those whose value differs between the runs).

Two runs that differ in learning rate both read `custom` as a preset; here they read
`lr 0.01` and `lr 0.003` in a column of their own, while what every run shares is said
once above the table (`shared_settings`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.runs_cache import short_dataset
from cnn_tui.tui.state import format_duration

MARK = "●"
NARROW_DATA = 12  # characters of the data set's name in an 80-column table
SAMPLE = "sample"  # short_dataset's word for the bundled sample


@dataclass(frozen=True)
class Column:
    """One column: its key, header, a run's cell text and the value it sorts by."""

    key: str
    header: str
    text: Callable[[RunSummary], str]
    value: Callable[[RunSummary], Any]
    setting: bool = False  # a training setting: a column only where the runs differ
    # the runs the setting applies to (a net's shape: net runs only); the others neither
    # make it differ nor share it
    applies: Callable[[RunSummary], bool] | None = None


def started_text(started: float | None, wide: bool = False) -> str:
    if started is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M" if wide else "%m-%d %H:%M", time.localtime(started))


def epochs_text(run: RunSummary) -> str:
    planned = run.epochs_planned if run.epochs_planned is not None else "?"
    return f"{run.epochs_done}/{planned}"


def lr_text(lr: float | None) -> str:
    return "-" if lr is None else f"{lr:g}"


def augment_text(augment: bool | None) -> str:
    return "-" if augment is None else "yes" if augment else "no"


def data_text(run: RunSummary) -> str:
    return short_dataset(run.dataset)


def _best(run: RunSummary) -> str:
    return f"{run.best_val_accuracy:.3f}" if run.best_val_accuracy is not None else "-"


SETTINGS = (
    Column("lr", "lr", lambda r: lr_text(r.lr), lambda r: r.lr, setting=True),
    Column(
        "batch", "batch", lambda r: str(r.batch_size or "-"), lambda r: r.batch_size, setting=True
    ),
    Column("optimizer", "opt", lambda r: r.optimizer or "-", lambda r: r.optimizer, True),
    Column("augment", "aug", lambda r: augment_text(r.augment), lambda r: r.augment, setting=True),
    Column("schedule", "sched", lambda r: r.schedule or "-", lambda r: r.schedule, True),
    Column("data", "data", data_text, data_text, setting=True),
    # a `net`'s shape (the Model screen's Lab, train --kernel-size...): other models have none
    Column(
        "arch",
        "net",
        lambda r: r.architecture or "-",
        lambda r: r.architecture or "",
        setting=True,
        applies=lambda r: r.architecture is not None,
    ),
)
NAME = Column("title", "name", lambda r: r.title, lambda r: r.title.casefold())
MODEL = Column("model", "model", lambda r: r.model or "?", lambda r: r.model or "")
AFTER = (
    Column("epochs", "epochs", epochs_text, lambda r: (r.epochs_done, r.epochs_planned or 0)),
    Column("best", "best", _best, lambda r: r.best_val_accuracy),
    Column("state", "state", lambda r: r.state, lambda r: r.state),
    Column("started", "started", lambda r: started_text(r.started), lambda r: r.started),
    Column(
        "time", "time", lambda r: format_duration(r.duration_seconds), lambda r: r.duration_seconds
    ),  # fmt: skip
)
FOLDER = Column("name", "run folder", lambda r: r.name, lambda r: r.name)
DEFAULT_SORT = ("started", True)  # newest first


def differing(runs: Sequence[RunSummary]) -> list[Column]:
    """The settings columns these runs need: each setting whose text differs between them,
    and the data set whenever a run trained on the bundled sample (it must not be missed)."""
    shown = []
    for column in SETTINGS:
        texts = {column.text(run) for run in runs if column.applies is None or column.applies(run)}
        if len(texts) > 1 or (column.key == "data" and SAMPLE in texts):
            shown.append(column)
    return shown


def columns_for(runs: Sequence[RunSummary], wide: bool) -> list[Column]:
    """Every column of the table for these runs, left to right."""
    columns = [MODEL]
    if any(run.title for run in runs):
        columns.append(NAME)
    columns += differing(runs)
    columns += AFTER
    if wide:
        columns.append(FOLDER)
    return columns


DROPPED_FIRST = ("name", "time", "started")  # left out, in this order, where space lacks


def fit(columns: list[Column], widths: dict[str, int], space: int) -> list[Column]:
    """The columns that fit in space terminal columns, leaving out the run folder, the
    training time and the start time (the detail line under the table says them) in that
    order while they do not; the settings, the data set and the state always stay."""
    kept = list(columns)
    for key in DROPPED_FIRST:
        if sum(widths.get(column.key, 0) for column in kept) <= space:
            break
        kept = [column for column in kept if column.key != key]
    return kept


def shared_settings(runs: Sequence[RunSummary]) -> str:
    """What every run shares of the settings that are not columns, in the columns' words,
    e.g. "lr 0.01 · batch 64 · opt sgd · aug no · sched none · data CIFAR-2"."""
    if not runs:
        return ""
    apart = {column.key for column in differing(runs)}
    return " · ".join(
        f"{column.header} {column.text(runs[0])}"
        for column in SETTINGS
        if column.key not in apart and column.applies is None
    )


def cell_text(column: Column, run: RunSummary, marked: bool, wide: bool) -> str:
    """A cell's text: the model with the mark, the data set and start time by width."""
    if column is MODEL:
        return f"{MARK if marked else ' '} {column.text(run)}"
    if column.key == "started":
        return started_text(run.started, wide)
    text = column.text(run)
    if column.key in ("data", "title") and not wide and len(text) > NARROW_DATA:
        return text[: NARROW_DATA - 1] + "…"
    return text


def sort_value(value: Any) -> tuple[bool, Any]:
    """A value that sorts: unknowns (None) after every known value."""
    return (value is None, value)


def matches(run: RunSummary, text: str) -> bool:
    """Whether the run's row (every column, shown or not, its preset and data set in full)
    holds each of the words of text, in any case."""
    words = text.casefold().split()
    if not words:
        return True
    every = (MODEL, NAME, *SETTINGS, *AFTER, FOLDER)
    haystack = " ".join(
        [*(column.text(run) for column in every), run.preset or "", run.dataset or ""]
    ).casefold()
    return all(word in haystack for word in words)
