"""`cnn-tui fooled`: the validation pictures of CIFAR-10's classes the model does not know
(for the book's weights: all but airplane and bird) that it calls one of its own with at
least --min probability, surest first. A picture of a frog read as a bird with 99%."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.cli.output import (
    EXIT_OK,
    Output,
    load_dataset_shown,
    plural,
    quiet_warnings,
    warn_sample_weights,
)

if TYPE_CHECKING:
    from cnn_tui.core.fooled import FooledSearch

SHOWN_ROWS = 20  # the table's rows; --json lists every one


def cmd_fooled(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.fooled import DEFAULT_MIN, find_fooled
    from cnn_tui.core.predict import Predictor

    quiet_warnings()
    predictor = Predictor.from_weights(args.weights)
    warn_sample_weights(out, predictor.meta)
    data_dir = str(Path(args.data).expanduser()) if args.data else None
    dataset = load_dataset_shown(out, "cifar10", data_dir, train=False)
    minimum = getattr(args, "min", DEFAULT_MIN)
    search = find_fooled(predictor, dataset.val, dataset.classes, minimum)
    if out.json:
        out.emit_json([found.as_json() for found in search.found], indent=2)
        return EXIT_OK
    _show(out, dataset.name, predictor.classes, search, minimum)
    return EXIT_OK


def _show(out: Output, data: str, classes: list[str], search: FooledSearch, minimum: float) -> None:
    """What was looked through, how many were called a known class, and the surest."""
    counts = ", ".join(f"{sum(1 for f in search.found if f.label == c):,} {c}" for c in classes)
    out.line(f"data: {data}")
    out.line(
        f"{plural(search.looked_at, 'validation image')} of {', '.join(search.other_classes)}: "
        f"{len(search.found):,} read as {' or '.join(classes)} with at least {minimum:g} "
        f"({counts})"
    )
    if not search.found:
        return
    shown = search.found[:SHOWN_ROWS]
    if len(search.found) > len(shown):
        out.line(f"the {len(shown)} surest (--json lists all):")
    out.table(
        [("index", "right"), ("true class", "left"), ("read as", "left"), ("probability", "right")],
        [[f"{f.index}", f.true_class, f.label, f"{f.probability:.6f}"] for f in shown],
    )
    out.line("index: the image's place among the data's CIFAR-10 validation images")
