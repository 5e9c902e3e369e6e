"""What the Model screen's tables and texts show, drawn from core's records.

Plain functions: the screen hands them a widget and a record (a layer table, the models
compared, the shape lesson) measured by the session; they lay it out, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
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
    from cnn_tui.core.robustness import Robustness
    from cnn_tui.tui.session.capacity import CapacityTable

CLEAR_CORRELATION = 0.5  # a rank correlation of size and eps this strong is a trend


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


def fill_comparison(
    view: DataTable, rows: list[ModelComparison], capacity: Callable[[str], Text]
) -> None:
    """One row per model: its size, its best weights' scores, the book's, and capacity(its
    name): how easily its shipped weights are tricked."""
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
            capacity(row.model),
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


def capacity_cell(model: str, table: CapacityTable | None, measuring: str = "") -> Text:
    """A row's capacity figure: the median smallest eps in 8-bit levels that flips the
    fixed set; '-' for a model with no shipped weights, '…' while it is measured, '?'
    where it has not been."""
    if table is None or model not in table.figures:
        shipped = table is not None and model in table.unmeasured
        text = "…" if model == measuring else "?" if shipped or table is None else "-"
        return Text(text, justify="right")
    return Text(level_text(median_levels(table.figures[model])), justify="right")


def median_levels(row: Robustness) -> int:
    """A model's figure in 8-bit levels; one more than the most tried where none was enough."""
    from cnn_tui.core.robustness import MOST_LEVELS

    return MOST_LEVELS + 1 if row.median_eps is None else round(row.median_eps * 255)


def level_text(levels: int) -> str:
    """A budget in 8-bit levels as the command line prints it: 2/255, or >8/255 where no
    budget tried was enough."""
    from cnn_tui.core.robustness import MOST_LEVELS

    return f">{MOST_LEVELS}/255" if levels > MOST_LEVELS else f"{levels}/255"


def capacity_answer(table: CapacityTable) -> str:
    """The exercise's question answered from the figures: whether the models with more
    parameters flip at smaller budgets (a rank correlation), with the range seen."""
    rows = sorted(table.figures.values(), key=lambda row: (row.parameters, row.name))
    if len(rows) < 2:
        return "Easier with less or more capacity? It takes two measured models to say."
    levels = [median_levels(row) for row in rows]
    rho = rank_correlation([float(row.parameters) for row in rows], [float(n) for n in levels])
    verdict = (
        "With more"
        if rho <= -CLEAR_CORRELATION
        else "With less"
        if rho >= CLEAR_CORRELATION
        else "Neither clearly"
    )
    low, high = level_text(min(levels)), level_text(max(levels))
    spread = low if low == high else f"{low} to {high}"
    return (
        f"Easier with less or more capacity? {verdict}: {spread} across "
        f"{rows[0].parameters:,}-{rows[-1].parameters:,} parameters (Spearman "
        f"{rho:+.2f})"
    )


def rank_correlation(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (ties get their mean rank); 0 where one side is flat."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        ranked = [0.0] * len(values)
        start = 0
        while start < len(order):
            end = start
            while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
                end += 1
            for i in order[start : end + 1]:
                ranked[i] = (start + end) / 2
            start = end + 1
        return ranked

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0
