"""`cnn-tui layers [RUN] [--json]`: a look inside a run's training, read from its
metrics.jsonl (core/layer_watch.py measured it as the run trained).

A row per layer with weights (its weight norm, gradient norm and update-to-weight ratio at
the last epoch, each with a sparkline over the epochs) and a row per activation (its share
of saturated outputs), flagged where a figure says trouble, within 80 columns; the machine
beside the model at the last epoch. --json: the per-epoch records, as metrics.jsonl holds
them. A run with no layer figures (trained before cnn-tui recorded them, or with the
measuring failed) says so in one line, exit 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnn_tui.core.events import EpochEnd
from cnn_tui.core.layer_stats import (
    LayerStats,
    MachineStats,
    layer_flags,
    layers_to_json,
    machine_to_json,
)
from cnn_tui.tui.cli.output import EXIT_OK, CliFailure, Output, plural

BLOCKS = "▁▂▃▄▅▆▇█"
WIDTH = 80  # the columns a table keeps to in a pipe (and at most on a terminal)
FLAGS_NOTE = (  # lines within 80 columns
    "saturated: over half of a tanh's outputs past 0.99, or 90% of a ReLU's at 0",
    "vanishing gradient: gradient norm below 1e-6 x the weight norm",
    "big steps: each update moves the weights by over 1% of their norm",
)


def add_layers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`layers [RUN] [--runs DIR] [--json]`."""
    layers = command(
        "layers", "each layer's norms, update ratios and saturation over a run's epochs"
    )
    layers.add_argument(
        "run", nargs="?", default=None, metavar="RUN", help="run folder (default: the newest)"
    )
    layers.add_argument("--runs", metavar="DIR", help="where to look for RUN and the newest run")
    layers.add_argument(
        "--json",
        action="store_true",
        default=False,
        help="one array: {epoch, layers: {name: {figures}}, machine} per epoch",
    )


def cmd_layers(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.paths import default_runs_dir
    from cnn_tui.core.run_records import read_metrics
    from cnn_tui.core.runs import find_run

    runs_dir = Path(args.runs).expanduser() if getattr(args, "runs", None) else default_runs_dir()
    run_dir = find_run(runs_dir, getattr(args, "run", None))
    log = read_metrics(run_dir)
    epochs = [epoch for epoch in log.epochs if epoch.layers]
    if not epochs:
        what = "no epochs yet" if not log.epochs else "no layer figures (an older run)"
        raise CliFailure(f"run {run_dir.name} has {what}")
    if out.json:
        out.emit_json([_record(epoch) for epoch in epochs], indent=2)
        return EXIT_OK
    for warning in log.warnings:
        out.warn(warning)
    _show(out, run_dir.name, epochs)
    return EXIT_OK


def _record(epoch: EpochEnd) -> dict[str, object]:
    record: dict[str, object] = {"epoch": epoch.epoch, "layers": layers_to_json(epoch.layers or {})}
    if epoch.machine is not None:
        record["machine"] = machine_to_json(epoch.machine)
    return record


def sparkline(
    values: Sequence[float | None], width: int, scale: tuple[float, float] | None = None
) -> str:
    """values in at most width blocks from ▁ (the lowest) to █ (the highest), or on a fixed
    scale (low, high); more values than width are averaged in equal runs; a missing value
    is a space; a flat line is ▄ (▁ when it is 0)."""
    if len(values) > width:
        runs = [
            values[len(values) * i // width : len(values) * (i + 1) // width] for i in range(width)
        ]
        values = [_mean(run) for run in runs]
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = scale or (min(present), max(present))
    top = len(BLOCKS) - 1

    def block(value: float | None) -> str:
        if value is None:
            return " "
        if high == low:  # flat: at the bottom when it is 0 (none saturated), else midway
            return BLOCKS[0] if high == 0 else BLOCKS[top // 2]
        return BLOCKS[max(0, min(top, round((value - low) / (high - low) * top)))]

    return "".join(block(v) for v in values)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _show(out: Output, run: str, epochs: list[EpochEnd]) -> None:
    last = epochs[-1]
    layers = last.layers or {}
    span = f"epoch {last.epoch}" if len(epochs) == 1 else f"epochs {epochs[0].epoch}-{last.epoch}"
    out.line(f"run {run}: {plural(len(epochs), 'epoch')} with layer figures ({span})")
    out.line(f"figures at epoch {last.epoch}; sparklines over {span}, low ▁ to high █")
    weighted = [name for name, s in layers.items() if s.weight_norm is not None]
    activations = [name for name, s in layers.items() if s.saturated is not None]
    width = min(out.width or WIDTH, WIDTH)
    any_flag = False
    if weighted:
        figures = ("weight norm", "grad norm", "update/weight")
        rows = [
            _row(name, epochs, ("weight_norm", "grad_norm", "update_ratio")) for name in weighted
        ]
        any_flag |= _table(out, ("layer", *figures), rows, width)
    if activations:
        rows = [_row(name, epochs, ("saturated",)) for name in activations]
        any_flag |= _table(out, ("activation", "saturated"), rows, width)
    if last.machine is not None:
        first, *rest = machine_words(last.machine)
        out.line(f"machine at epoch {last.epoch}: {first}")
        for line in rest:
            out.line(f"  {line}")
    if any_flag:
        for line in FLAGS_NOTE:
            out.line(line, style="dim")


def _series(name: str, epochs: list[EpochEnd], figure: str) -> list[float | None]:
    """One figure of one layer, epoch by epoch (None where an epoch lacks it)."""
    values: list[float | None] = []
    for epoch in epochs:
        stats = (epoch.layers or {}).get(name)
        values.append(None if stats is None else stats.figures()[figure])
    return values


@dataclass(frozen=True)
class _Cell:
    """A figure of a row: its last value as shown, its series, the sparkline's scale (None:
    the series' own range; a share is drawn on 0-100%, so a tiny one stays low)."""

    shown: str
    series: list[float | None]
    scale: tuple[float, float] | None


@dataclass(frozen=True)
class _Row:
    name: str
    cells: list[_Cell]
    flags: list[str]


def _row(name: str, epochs: list[EpochEnd], figures: Sequence[str]) -> _Row:
    """A table row before layout."""
    cells = []
    for figure in figures:
        series = _series(name, epochs, figure)
        value, share = series[-1], figure == "saturated"
        shown = "-" if value is None else (f"{value:.1%}" if share else f"{value:.3g}")
        cells.append(_Cell(shown, series, (0.0, 1.0) if share else None))
    stats = (epochs[-1].layers or {}).get(name, LayerStats())
    return _Row(name, cells, list(layer_flags(stats)))


def _table(out: Output, headers: Sequence[str], rows: list[_Row], width: int) -> bool:
    """Lay the rows out within width (the sparklines take what the rest leaves, at most
    one block per epoch); returns whether any row is flagged."""
    figures = len(headers) - 1
    name_w = max(len(headers[0]), *(len(row.name) for row in rows))
    value_w = max(len(cell.shown) for row in rows for cell in row.cells)
    flag_w = max((len(", ".join(row.flags)) for row in rows), default=0)
    epochs = len(rows[0].cells[0].series)
    fixed = name_w + figures * (value_w + 3) + (flag_w + 2 if flag_w else 0)
    spark_w = max(3, min(epochs, 20, (width - fixed) // figures))
    cell_w = max(value_w + 1 + spark_w, *(len(h) for h in headers[1:]))
    header = "  ".join([headers[0].ljust(name_w), *(h.ljust(cell_w) for h in headers[1:])])
    out.line(header.rstrip())
    for row in rows:
        parts = [row.name.ljust(name_w)]
        for cell in row.cells:
            line = sparkline(cell.series, spark_w, cell.scale)
            parts.append(f"{cell.shown.rjust(value_w)} {line}".ljust(cell_w))
        if row.flags:
            parts.append(", ".join(row.flags))
        out.line("  ".join(parts).rstrip())
    return any(row.flags for row in rows)


def machine_words(machine: MachineStats) -> list[str]:
    """The machine in a line, and its GPU in a second where there is one: "CPU 98% (of one
    core), 712 MiB resident, 3 threads", "GPU 87%, 1.2 GiB of memory held by torch"."""
    lines = [
        f"CPU {machine.cpu_percent:.0f}% (of one core), {machine.rss_bytes / 2**20:,.0f} MiB "
        f"resident, {plural(machine.threads, 'thread')}"
    ]
    gpu = []
    if machine.gpu_percent is not None:
        gpu.append(f"GPU {machine.gpu_percent:.0f}%")
    if machine.gpu_memory_bytes is not None:
        gpu.append(f"{machine.gpu_memory_bytes / 2**30:.1f} GiB of GPU memory held by torch")
    if gpu:
        lines.append(", ".join(gpu))
    return lines
