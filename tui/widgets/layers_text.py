"""The Layers view's text: a row per module with its last figures and their sparklines, a
flag line under a module a glance should catch, and a distribution strip of each weighted
module's weights over the epochs (rich only, no widget: the view lays it out by width).

Sparklines are Textual's own (textual.renderables.sparkline, the renderable behind its
Sparkline widget), rendered into the row's text so that one widget scrolls all the rows;
each is scaled to its own series' range, the gradient and update/weight ratio on a log
scale (they move by decades); a share of saturated outputs is drawn here on a fixed 0..1
scale with the same bars (share_sparkline). Strips are half blocks (heatmap.py's): x is
the epoch, y the weight value (the top row the highest), the colour (viridis) each
epoch's density.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cnn_tui.core.layer_stats import (
    BIG_STEPS,
    BIG_STEPS_ABOVE,
    SATURATED,
    SATURATED_ABOVE,
    VANISHING,
    VANISHING_BELOW,
    MachineStats,
    saturated_above,
)
from cnn_tui.tui.layer_figures import (
    LayerFigures,
    ModuleFigures,
    distribution,
    spread,
    strip_pixels,
)
from cnn_tui.tui.widgets.heatmap import half_block_lines, to_colours
from rich.color import Color, blend_rgb
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.renderables.sparkline import Sparkline

LABEL = 4  # a cell's label ("w", "grad", "u/w", "sat", "cpu"...)
VALUE = 7  # and its value: "0.0312", "2.1e-05", "62%", "412M"
CELL = LABEL + 1 + VALUE
GAP = 2  # between a sparkline and the next cell
READABLE = 8  # a sparkline narrower than this puts fewer cells on a line
NARROWEST = 40  # columns below which the view says it cannot draw
LOG_FLOOR = 1e-12  # a 0 on a log-scale sparkline


@dataclass(frozen=True)
class LayerStyles:
    """The theme's colours for the view (the widget reads them from its stylesheet)."""

    low: Color  # a sparkline's smallest value
    high: Color  # and its largest
    name: Style
    flag: Style
    muted: Style


@dataclass(frozen=True)
class Cell:
    label: str
    value: str
    series: list[float]  # what its sparkline draws (already on its scale)
    flagged: bool = False
    fixed: bool = False  # a share: its sparkline on the fixed scale 0..1


def share_text(share: float) -> str:
    """62%, or 0.3% where a whole percent would say 0 of a share that is not."""
    return f"{share:.0%}" if share >= 0.1 or share == 0 else f"{share:.1%}"


def module_cells(module: ModuleFigures) -> list[Cell]:
    """The figures a module has, as cells: a weighted module's norms and update ratio, an
    activation's saturated share."""
    series = module.series
    last = module.last
    cells = []
    if last.weight_norm is not None:
        cells.append(Cell("w", f"{last.weight_norm:.3g}", series.get("weight_norm", [])))
    if last.grad_norm is not None:
        grad = _logs(series.get("grad_norm", []))
        cells.append(Cell("grad", f"{last.grad_norm:.2g}", grad, VANISHING in module.flags))
    if last.update_ratio is not None:
        ratios = _logs(series.get("update_ratio", []))
        cells.append(Cell("u/w", f"{last.update_ratio:.2g}", ratios, BIG_STEPS in module.flags))
    if last.saturated is not None:
        flagged = SATURATED in module.flags
        shares = series.get("saturated", [])
        cells.append(Cell("sat", share_text(last.saturated), shares, flagged, fixed=True))
    return cells


def machine_rows(machine: Sequence[MachineStats]) -> list[tuple[str, list[Cell]]]:
    """The trainer process per epoch: CPU, resident memory, threads; the GPU where used."""
    if not machine:
        return []
    last = machine[-1]
    rows = [
        (
            "process",
            [
                Cell("cpu", f"{last.cpu_percent:.0f}%", [m.cpu_percent for m in machine]),
                Cell("mem", byte_size(last.rss_bytes), [float(m.rss_bytes) for m in machine]),
                Cell("thr", str(last.threads), [float(m.threads) for m in machine]),
            ],
        )
    ]
    gpu = [m for m in machine if m.gpu_percent is not None]
    if last.gpu_percent is not None:
        cells = [Cell("gpu", f"{last.gpu_percent:.0f}%", [m.gpu_percent or 0.0 for m in gpu])]
        if last.gpu_memory_bytes is not None:
            memory = [float(m.gpu_memory_bytes or 0) for m in gpu]
            cells.append(Cell("mem", byte_size(last.gpu_memory_bytes), memory))
        rows.append(("gpu", cells))
    return rows


def byte_size(count: int) -> str:
    """412M, 1.2G: a memory size in a few characters."""
    value = float(count)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1000 or unit == "T":
            return f"{value:.0f}{unit}" if value >= 10 or unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.0f}T"  # (not reached)


def _logs(values: Sequence[float]) -> list[float]:
    return [math.log10(max(value, LOG_FLOOR)) for value in values]


@dataclass(frozen=True)
class Layout:
    """How a row is laid out in a view `width` columns wide: the name's column (and a
    strip's value labels under it), how many cells a line holds, each sparkline's width."""

    width: int
    name: int
    per_line: int
    spark: int

    @classmethod
    def fit(cls, width: int, names: Sequence[str], cells: int) -> Layout:
        """As many cells to a line as leave each sparkline READABLE columns (one a line
        on a narrow view)."""
        name = max(8, min(14, max((len(n) for n in names), default=0)))
        per_line, spark = 1, 0
        for per_line in range(max(1, cells), 0, -1):
            spark = (width - name - 1 - per_line * (CELL + 1 + GAP)) // per_line
            if spark >= READABLE:
                break
        return cls(width, name, per_line, max(0, spark))


def layers_text(
    figures: LayerFigures, width: int, strip_rows: int, styles: LayerStyles, console: Console
) -> Text:
    """The whole view for this width: header, module rows (flag lines, strips), the
    machine, and a legend."""
    rows = [(module.name, module_cells(module)) for module in figures.modules]
    machine = machine_rows(figures.machine)
    most = max((len(cells) for _, cells in rows + machine), default=1)
    layout = Layout.fit(width, [name for name, _ in rows + machine], most)
    lines = [header(figures, styles)]
    for module, (name, cells) in zip(figures.modules, rows, strict=True):
        lines.extend(row_lines(name, cells, layout, styles, console))
        lines.extend(flag_lines(module, layout, styles))
        if module.histograms:
            lines.extend(strip_lines(module, layout, strip_rows, styles))
    if machine:
        lines.append(Text("the trainer process, per epoch", style=styles.muted))
        for name, cells in machine:
            lines.extend(row_lines(name, cells, layout, styles, console))
    lines.append(legend(figures, styles))
    return Text("\n").join(lines)


def header(figures: LayerFigures, styles: LayerStyles) -> Text:
    epochs = figures.epochs
    text = Text(f"epoch {epochs[-1]}" if epochs else "no epoch yet", style="bold")
    if len(epochs) > 1:
        text.append(f" · sparklines over epochs {epochs[0]}-{epochs[-1]}", style=styles.muted)
    flagged = figures.flagged
    if flagged:
        text.append(" · ")
        for index, (name, flag) in enumerate(flagged):
            text.append(("; " if index else "") + f"{name} ")
            text.append(flag.upper(), style=styles.flag)
    else:
        text.append(" · no flags", style=styles.muted)
    return text


def row_lines(
    name: str, cells: Sequence[Cell], layout: Layout, styles: LayerStyles, console: Console
) -> list[Text]:
    """A module's cells after its name, layout.per_line to a line."""
    lines = []
    for start in range(0, len(cells), layout.per_line):
        shown = _fit(name, layout.name) if start == 0 else ""
        text = Text(shown.ljust(layout.name + 1), style=styles.name)
        for cell in cells[start : start + layout.per_line]:
            text.append(f"{cell.label:<{LABEL}} ", style=styles.muted)
            text.append(f"{cell.value:<{VALUE}}", style=styles.flag if cell.flagged else "")
            if layout.spark:
                draw = share_sparkline if cell.fixed else sparkline
                text.append(" ")
                text.append_text(draw(cell.series, layout.spark, styles, console))
            text.append(" " * GAP)
        text.rstrip()
        lines.append(text)
    return lines


def sparkline(values: Sequence[float], width: int, styles: LayerStyles, console: Console) -> Text:
    """Textual's sparkline of the values, `width` cells (blank under two values: one
    value has no trend to draw)."""
    if len(values) < 2:
        return Text(" " * width)
    drawn = Sparkline(list(values), width=width, min_color=styles.low, max_color=styles.high)
    text = Text()
    for segment in console.render(drawn, console.options.update(width=width, height=1)):
        if segment.text != "\n":
            text.append(segment.text, segment.style)
    return text


def share_sparkline(
    values: Sequence[float], width: int, styles: LayerStyles, console: Console
) -> Text:
    """A share's sparkline on the fixed scale 0..1, drawn here with Textual's bars and
    colours: Textual's scales each series to its own range, where a saturation going from
    0.1% to 0.3% would fill it as 0% to 100% does."""
    if len(values) < 2:
        return Text(" " * width)
    top = len(Sparkline.BARS) - 1
    text = Text()
    for index in spread(len(values), width):
        share = min(1.0, max(0.0, values[index]))
        colour = blend_rgb(styles.low.get_truecolor(), styles.high.get_truecolor(), share)
        text.append(Sparkline.BARS[round(share * top)], Style(color=Color.from_triplet(colour)))
    return text


def flag_lines(module: ModuleFigures, layout: Layout, styles: LayerStyles) -> list[Text]:
    """A line per flag: the word in capitals, in the flag's colour, and why."""
    lines = []
    indent = " " * (layout.name + 1)
    last = module.last
    for flag in module.flags:
        if flag == SATURATED:
            share = share_text(last.saturated or 0)
            why = f"{share} of its outputs saturated (over {saturated_above(last):.0%})"
        elif flag == VANISHING:
            why = f"gradient norm under {VANISHING_BELOW:g} x its weight norm"
        else:
            why = f"each update moves its weights by over {BIG_STEPS_ABOVE:.0%} of their norm"
        line = Text(indent)
        line.append(f"▲ {flag.upper()}", style=styles.flag)
        line.append(f": {why}", style=styles.muted)
        lines.append(line)
    return lines


def strip_lines(
    module: ModuleFigures, layout: Layout, rows: int, styles: LayerStyles
) -> list[Text]:
    """The module's weights over the epochs, `rows` lines of half blocks, the range's high
    and low value at its top and bottom left."""
    width = layout.width - layout.name - 1
    histograms = module.histograms
    if len(histograms) > width:  # the epochs drawn, and only those rebinned
        histograms = [histograms[i] for i in spread(len(histograms), width)]
    found = distribution(histograms, 2 * rows)
    colours = to_colours(strip_pixels(found, width), 0.0, 1.0)
    lines = []
    for index, segments in enumerate(half_block_lines(colours)):
        label = (
            f"{found.high:+.2g}" if index == 0 else f"{found.low:+.2g}" if index == rows - 1 else ""
        )
        line = Text(label.rjust(layout.name) + " ", style=styles.muted)
        for segment in Segment.simplify(segments):  # an epoch's columns, one span
            line.append(segment.text, segment.style)
        lines.append(line)
    return lines


def legend(figures: LayerFigures, styles: LayerStyles) -> Text:
    parts = [
        "w weight norm",
        "grad gradient norm",
        "u/w update/weight (both on a log scale)",
        "sat saturated share (|tanh| > 0.99, ReLU 0; its sparkline 0-100%)",
        f"flagged: sat over {SATURATED_ABOVE['tanh']:.0%} (ReLU {SATURATED_ABOVE['relu']:.0%}), "
        f"grad under {VANISHING_BELOW:g} x w, "
        f"u/w over {BIG_STEPS_ABOVE:.0%}",
    ]
    drawn = [module.histogram_epochs for module in figures.modules if module.histograms]
    if drawn:
        first, last = min(e[0] for e in drawn), max(e[-1] for e in drawn)
        parts.append(f"strips: weights (up) by epoch {first}-{last} (across), brighter = denser")
    return Text(" · ".join(parts), style=styles.muted)


def _fit(name: str, width: int) -> str:
    """A module name in width columns: its end kept (resblocks.9.conv: the block counts)."""
    return name if len(name) <= width else "…" + name[-(width - 1) :]
