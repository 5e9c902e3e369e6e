"""What the Model screen's tables and texts show, drawn from core's records.

Plain functions: the screen hands them a widget and a record (a layer table, the models
compared, the shape lesson) measured by the session; they lay it out, nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnn_tui.core.inspection import format_count, format_kernel_size, format_shape
from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from cnn_tui.core.inspection import (
        LayerTable,
        ModelComparison,
        ShapeLesson,
        TrainedWeights,
    )


def fill_layers(view: DataTable, table: LayerTable) -> None:
    """One row per layer: its output shape, parameters, kernel, mult-adds."""
    view.clear()
    for row in table.rows:
        view.add_row(
            row.name,
            row.type,
            format_shape(row.output_shape),
            Text(f"{row.params:,}", justify="right"),
            Text(f"{row.share:.1%}" if row.params else "-", justify="right"),
            format_kernel_size(row.kernel_size),
            Text(f"{row.mult_adds:,}", justify="right"),
            "yes" if row.trainable else "-",
            key=row.name,
        )


def layer_totals(model: str, current: bool, table: LayerTable) -> Text:
    """The totals under the layer table; current: these are the current weights' model."""
    which = " (current weights)" if current else ""
    frozen = table.total_params - table.trainable_params
    return Text.assemble(
        (f"{model}", "bold"),
        f"{which}: ",
        (f"{table.total_params:,}", "bold"),
        " parameters",
        f" ({frozen:,} frozen)" if frozen else "",
        " · ",
        (f"{table.total_mult_adds:,}", "bold"),
        f" mult-adds per {format_shape(table.input_shape)} image\n",
        ("book's list form: ", "dim"),
        table.list_form,
    )


def fill_comparison(view: DataTable, rows: list[ModelComparison]) -> None:
    """One row per model: its size, its best weights' scores, the book's."""
    view.clear()

    def score(value: float | None) -> Text:
        return Text("-" if value is None else f"{value:.3f}", justify="right")

    for row in rows:
        best = row.best
        book = f"{row.book[0]:.2f}/{row.book[1]:.2f}" if row.book else "-"
        view.add_row(
            row.model,
            Text(format_count(row.params), justify="right"),
            Text(format_count(row.mult_adds), justify="right"),
            score(best.train_accuracy if best else None),
            score(best.val_accuracy if best else None),
            book,
            weights_cell(best),
            key=row.model,
        )


def weights_cell(best: TrainedWeights | None) -> Text:
    """Where a row's best weights come from: shipped, or the run's folder, marked `sample`
    when they were trained on the bundled sample (scored on its small validation set, so
    not comparable with the others' scores)."""
    if best is None:
        return Text("-")
    text = Text("shipped" if best.origin == "shipped" else best.path.parent.name)
    if best.trained_on:
        text = Text.assemble(("sample ", "bold"), text)
    return text


def lesson_texts(lesson: ShapeLesson, batch: ShapeLesson) -> tuple[Text, Text]:
    """The book's Sequential without flatten, step by step to its error, and net with it."""
    width = max(len(step.layer) for step in lesson.with_flatten) + 1
    without = Text()
    without.append("The book's nn.Sequential without flatten\n", style="bold")
    without.append(f"on one image {format_shape(lesson.input_shape)}:\n", style="dim")
    for step in lesson.without_flatten:
        without.append(f"  {step.layer:<{width}}")
        if step.shape is None:
            without.append("✗ RuntimeError\n", style="bold red")
        else:
            without.append(f"→ {format_shape(step.shape)}\n")
    without.append(f"RuntimeError: {lesson.error}\n", style="red")
    without.append("\n".join(lesson.explanation) + "\n")
    without.append(f"A batch of 64 gives {batch.rows} rows: {batch.error}.\n", style="dim")
    with_flatten = Text()
    with_flatten.append("net, with its flatten step:\n", style="bold")
    for step in lesson.with_flatten:
        style = "bold green" if step.layer.split()[0] == "flatten" else ""
        with_flatten.append(f"  {step.layer:<{width}}→ {format_shape(step.shape)}\n", style=style)
    with_flatten.append(f"output {format_shape(lesson.output_shape)}: one score per class.")
    return without, with_flatten
