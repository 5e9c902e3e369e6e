"""`cnn-tui eval`: train and validation accuracy and the confusion matrix of a weights file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.core.config import ConfigError
from cnn_tui.tui.cli.output import (
    EXIT_OK,
    CliFailure,
    Output,
    load_dataset_shown,
    quiet_warnings,
    warn_sample_weights,
)

if TYPE_CHECKING:
    from cnn_tui.core.data import DataSet
    from cnn_tui.core.evaluate import Evaluation


def cmd_eval(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.data import CIFAR2_CLASSES
    from cnn_tui.core.evaluate import evaluate
    from cnn_tui.core.predict import Predictor

    quiet_warnings()
    predictor = Predictor.from_weights(
        args.weights,
        model=args.model,
        num_classes=2 if args.dataset == "cifar2" else None,
        device="cpu",
    )
    meta = predictor.meta or {}
    warn_sample_weights(out, meta)
    num_classes = len(predictor.classes)
    dataset_name = args.dataset or (
        "cifar2" if num_classes == 2 and predictor.classes == CIFAR2_CLASSES else "cifar10"
    )
    data_dir = str(Path(args.data).expanduser()) if args.data else None
    dataset = load_dataset_shown(out, dataset_name, data_dir)
    if len(dataset.classes) != num_classes:
        raise CliFailure(
            f"the weights predict {num_classes} classes ({', '.join(predictor.classes)}) but "
            f"the data have {len(dataset.classes)} ({', '.join(dataset.classes[:10])})"
        )
    from cnn_tui.core.models import pick_device

    try:
        device = pick_device(args.device)
    except RuntimeError as error:
        raise ConfigError(str(error)) from None
    model = predictor.model.to(device)

    def run_eval():
        return evaluate(model, dataset.train, num_classes), evaluate(
            model, dataset.val, num_classes
        )

    if out.console is not None:
        with out.console.status("evaluating on the training and validation sets ..."):
            train_eval, val_eval = run_eval()
    else:
        train_eval, val_eval = run_eval()
    from cnn_tui.tui.cli.names import relative_name

    path = relative_name(str(meta.get("path", args.weights)))
    weights = f"{path} ({meta.get('model')}, {num_classes} classes)"
    return _report(out, dataset, weights, train_eval, val_eval)


def _report(
    out: Output, dataset: DataSet, weights: str, train_eval: Evaluation, val_eval: Evaluation
) -> int:
    """The accuracies, losses and validation confusion matrix: JSON, or two tables."""
    classes = list(dataset.classes)
    if out.json:
        out.emit_json(
            {
                "classes": classes,
                "train_accuracy": train_eval.accuracy,
                "val_accuracy": val_eval.accuracy,
                "confusion_matrix": val_eval.confusion,
            },
            indent=2,
        )
        return EXIT_OK
    _field(out, "weights:", weights)
    _field(out, "data:", dataset.name)
    out.table(
        [("split", "left"), ("images", "right"), ("accuracy", "right"), ("loss", "right")],
        [
            [
                "train",
                f"{len(dataset.train):,}",
                f"{train_eval.accuracy:.4f}",
                f"{train_eval.loss:.4f}",
            ],
            ["val", f"{len(dataset.val):,}", f"{val_eval.accuracy:.4f}", f"{val_eval.loss:.4f}"],
        ],
    )
    out.table(
        [("true \\ predicted", "left")] + [(c, "right") for c in classes],
        [[c] + [f"{n:,}" for n in row] for c, row in zip(classes, val_eval.confusion, strict=True)],
        title="confusion matrix, validation set (rows: true class, columns: predicted)",
    )
    return EXIT_OK


def _field(out: Output, label: str, text: str) -> None:
    """`label   text`; on a terminal wrapped between words under the text's own column
    (an 80-column terminal cut a long data name mid-line and went on at its left edge)."""
    line = f"{label:<8} {text}"
    if out.width is None:
        out.line(line)
        return
    import textwrap

    for part in textwrap.wrap(
        line, out.width, subsequent_indent=" " * 9, break_long_words=False, break_on_hyphens=False
    ):
        out.line(part)
