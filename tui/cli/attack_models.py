"""`cnn-tui attack --models`: for each shipped model, the median smallest budget that flips
a fixed set of validation images (core/robustness.py), smallest model first, answering the
exercise's "is this easier with less or more capacity?" with numbers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.cli.output import EXIT_OK, CliFailure, Output, load_dataset_shown

if TYPE_CHECKING:
    from cnn_tui.core.robustness import Robustness


def attack_models(out: Output, data: str | None) -> int:
    from cnn_tui.core.attack import DEFAULT_STEPS
    from cnn_tui.core.robustness import MOST_LEVELS, PER_CLASS
    from cnn_tui.core.robustness_cache import cache_path, cached_ranking

    where = str(Path(data).expanduser()) if data else None
    dataset = load_dataset_shown(out, "cifar2", where, train=False)  # validation images only
    if dataset.is_sample:
        out.warn("the bundled sample's validation images, not the full data set's")
    count = PER_CLASS * len(dataset.classes)
    if out.console is not None:
        with out.console.status(f"attacking {count} images with each shipped model ..."):
            rows, cached = cached_ranking(dataset.val, len(dataset.classes))
    else:
        rows, cached = cached_ranking(dataset.val, len(dataset.classes))
    if not rows:
        raise CliFailure("no shipped weights for the data's classes")
    rows.sort(key=lambda row: (row.parameters, row.name))
    if out.json:
        out.emit_json([row.as_json() for row in rows], indent=2)
        return EXIT_OK
    out.line(f"data: {dataset.name}")
    if cached:
        out.line(f"{cached} of {len(rows)} read from {cache_path()}, measured before")
    out.line(
        f"the smallest eps that makes each of {rows[0].images} validation images (the first "
        f"{PER_CLASS} of each class) read as another class, by {DEFAULT_STEPS} steps of PGD, "
        f"tried from 0/255 up; flipped: the share flipped within {MOST_LEVELS}/255"
    )
    columns = [("model", "left"), ("parameters", "right"), ("val acc", "right")]
    columns += [("median eps", "right"), ("flipped", "right")]
    out.table(columns, [_row(row) for row in rows])
    return EXIT_OK


def _row(row: Robustness) -> list[str]:
    from cnn_tui.core.robustness import MOST_LEVELS

    median = f">{MOST_LEVELS}/255"
    if row.median_eps is not None:
        median = f"{round(row.median_eps * 255)}/255"
    accuracy = f"{row.val_accuracy:.4f}" if row.val_accuracy is not None else "-"
    return [row.model or row.name, f"{row.parameters:,}", accuracy, median, f"{row.flipped:.0%}"]
