"""What the Predict screen's tables show: validation entries, the confusion matrix, the
most confident mistakes, a folder's answers; drawn from core's records.

Plain functions: the screen hands them a table and the records its workers got from the
session; every name (a class, a file) is shown as written, never read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from cnn_tui.core.predict import FileAnswer
    from cnn_tui.core.validation_results import Entry, ValidationResults

ORDER_NAMES = {
    "index": "in order",
    "least-confident": "least sure first",
    "most-confident": "most sure first",
}


def filters_text(
    shown: str, wrong_only: bool, classes: Sequence[str], true: int, predicted: int, order: str
) -> Text:
    """The validation list's filters in words; true and predicted: a class's index, or -1
    (or any index past the classes) for all; shown: how many of how many, or ""."""
    parts = ["wrong" if wrong_only else "all"]
    parts.append(f"true {classes[true]}" if 0 <= true < len(classes) else "all classes")
    if 0 <= predicted < len(classes):
        parts.append(f"predicted {classes[predicted]}")
    parts.append(ORDER_NAMES[order])
    return Text.assemble((shown, "bold"), " · ".join(parts))


def answer_text(label: str, confidence: float, classes: Sequence[str] = ()) -> Text:
    """`bird 96.6%`: the answer with its confidence beside it (the probability `cnn-tui
    predict` prints for that class, 0.966, as a percentage); the name padded to the longest
    of classes, so the numbers of a column line up."""
    width = min(max((len(name) for name in classes), default=0), 12)
    return Text.assemble(f"{label:<{width}} ", (f"{confidence:>6.1%}", "bold"))


def add_entries(table: DataTable, entries: Sequence[Entry], classes: Sequence[str]) -> None:
    """Rows for validation entries: index, true class, the answer and its confidence, ✓ or ✗."""
    for entry in entries:
        ok = Text("✓", style="green") if entry.correct else Text("✗", style="bold red")
        table.add_row(
            Text(str(entry.index), justify="right"),
            Text(classes[entry.true]),
            answer_text(classes[entry.predicted], entry.confidence, classes),
            ok,
            key=str(entry.index),
        )


def fill_confusion(matrix: DataTable, results: ValidationResults) -> Text:
    """The confusion matrix (rows: true class) with each class's recall; returns its title."""
    classes = results.classes
    matrix.add_column("true \\ predicted", key="true")
    for index, name in enumerate(classes):
        matrix.add_column(Text(name[:6]), key=str(index))
    matrix.add_column("recall", key="recall")
    recalls = results.per_class_accuracy()
    for row_index, row in enumerate(results.confusion):
        cells = []
        for col_index, count in enumerate(row):
            style = "bold green" if row_index == col_index else ("red" if count else "dim")
            cells.append(Text(str(count), style=style, justify="right"))
        recall = recalls[row_index]
        cells.append(Text("-" if recall is None else f"{recall:.1%}", justify="right"))
        matrix.add_row(Text(classes[row_index]), *cells, key=str(row_index))
    return Text.assemble(
        ("Confusion matrix", "bold"),
        f" (rows: true class) · accuracy {results.accuracy:.3f}",
        (" · Enter on a cell lists its images", "dim"),
    )


def fill_top_losses(losses: DataTable, results: ValidationResults, count: int) -> Text:
    """The `count` most confident mistakes, highest loss first; returns their title."""
    classes = results.classes
    top = results.top_losses(count)
    for entry in top:
        losses.add_row(
            Text(str(entry.index), justify="right"),
            Text(classes[entry.true]),
            answer_text(classes[entry.predicted], entry.confidence, classes),
            Text(f"{entry.loss:.2f}", justify="right"),
            key=str(entry.index),
        )
    wrong = sum(1 for t, p in zip(results.labels, results.predictions, strict=True) if t != p)
    return Text.assemble(
        ("Most confident mistakes", "bold"),
        f" ({len(top)} of {wrong} wrong; highest loss first)",
    )


def add_folder_rows(
    table: DataTable, answers: Sequence[FileAnswer], classes: Sequence[str] = ()
) -> None:
    """One row per file: its answer and confidence, or why it could not be read."""
    for answer in answers:
        name = Path(answer.path).name
        if answer.error is not None:
            table.add_row(Text(name), Text(answer.error, style="red"), key=answer.path)
        else:
            cell = answer_text(answer.label or "", answer.confidence or 0.0, classes)
            table.add_row(Text(name), cell, key=answer.path)


def folder_summary(folder: Path, total: int, answers: Sequence[FileAnswer]) -> str:
    """How many images of each class the folder held, and how many were unreadable."""
    if total == 0:
        return f"{folder}: no image files here"
    bad = sum(1 for a in answers if a.error is not None)
    counts: dict[str, int] = {}
    for answer in answers:
        if answer.label is not None:
            counts[answer.label] = counts.get(answer.label, 0) + 1
    summary = ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
    return f"{folder.name}/ {total}: {summary or 'none classified'}" + (
        f" · {bad} unreadable" if bad else ""
    )


def row_key(event: DataTable.RowHighlighted) -> str | None:
    """The highlighted row's key; None for "no row" (an empty table highlights row -1,
    with no key)."""
    key = event.row_key.value if event.row_key is not None else None
    return None if key is None else str(key)
