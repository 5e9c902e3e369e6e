"""The Layers view's figures (issue 12, part 4), arranged from a run's epoch records: each
module's figures over the epochs, the flags a glance should catch, and its weights'
histograms on one common range (TensorBoard's "distributions").

The records are core's (events.EpochEnd's `layers`, `histograms` and `machine`; a run
folder's come through core's readers): nothing here measures or reads a file, and
nothing imports Textual, so the arithmetic is tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate

from cnn_tui.core.events import EpochEnd
from cnn_tui.core.layer_stats import (
    LAYER_FIGURES,
    Histogram,
    LayerStats,
    MachineStats,
    layer_flags,
)

HISTOGRAM_EPOCHS = 256  # a live run keeps at most about this many epochs' histograms

Figure = str  # one of core's LAYER_FIGURES: weight_norm, grad_norm, update_ratio, saturated


@dataclass(frozen=True)
class ModuleFigures:
    """One module's figures: each over the epochs that measured it, the last epoch's, and
    its weights' histograms (weighted modules) with the epochs they are of."""

    name: str
    series: dict[Figure, list[float]]
    last: LayerStats
    flags: tuple[str, ...] = ()
    histograms: list[Histogram] = field(default_factory=list)
    histogram_epochs: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class LayerFigures:
    """A run's layer figures: the epochs that have some, each module in the model's order,
    and the trainer process beside it per epoch."""

    epochs: list[int]
    modules: list[ModuleFigures]
    machine: list[MachineStats]
    machine_epochs: list[int]

    @property
    def flagged(self) -> list[tuple[str, str]]:
        """(module, flag) for every flag of the last epoch, in the model's order."""
        return [(module.name, flag) for module in self.modules for flag in module.flags]


def layer_figures(
    epochs: Sequence[EpochEnd], histograms: Mapping[int, Mapping[str, Histogram]] | None = None
) -> LayerFigures:
    """The figures of these epochs. histograms: epoch -> module -> its weights' histogram
    as read from a run folder; None takes those the epochs carry (a live run's events)."""
    if histograms is None:
        histograms = {e.epoch: e.histograms for e in epochs if e.histograms}
    measured = [e for e in epochs if e.layers]
    names: dict[str, None] = {}  # the model's order: the last epoch's, then older names
    for record in reversed(measured):
        names.update(dict.fromkeys(record.layers or {}))
    modules = [
        _module(
            name, measured, histograms, flags=layer_flags((measured[-1].layers or {}).get(name))
        )
        for name in names
    ]
    machine = [(e.epoch, e.machine) for e in epochs if e.machine is not None]
    return LayerFigures(
        [e.epoch for e in measured],
        modules,
        [stats for _, stats in machine],
        [epoch for epoch, _ in machine],
    )


def _module(
    name: str,
    measured: Sequence[EpochEnd],
    histograms: Mapping[int, Mapping[str, Histogram]],
    flags: tuple[str, ...],
) -> ModuleFigures:
    series: dict[Figure, list[float]] = {figure: [] for figure in LAYER_FIGURES}
    last = LayerStats()
    for record in measured:
        stats = (record.layers or {}).get(name)
        if stats is None:
            continue
        last = stats
        for figure, value in stats.figures().items():
            if value is not None and math.isfinite(value):
                series[figure].append(value)
    kept = [(epoch, found[name]) for epoch, found in sorted(histograms.items()) if name in found]
    return ModuleFigures(
        name,
        {figure: values for figure, values in series.items() if values},
        last,
        flags,
        [h for _, h in kept],
        [epoch for epoch, _ in kept],
    )


# -- the distribution strip -------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """Histograms of several epochs on one range: columns[i][b] is epoch i's density in bin
    b of `bins` equal bins from low (b = 0) to high, scaled so each column's densest bin
    is 1 (each epoch's shape stays visible however its spread changes)."""

    low: float
    high: float
    columns: list[list[float]]


def common_range(histograms: Sequence[Histogram]) -> tuple[float, float]:
    """The range that holds every histogram; widened about its value when all the
    weights are one value (a range of width 0 has no bins)."""
    low = min(h.low for h in histograms)
    high = max(h.high for h in histograms)
    if high > low:
        return low, high
    half = max(abs(low), 1.0) / 2
    return low - half, high + half


def rebin(histogram: Histogram, low: float, high: float, bins: int) -> list[float]:
    """histogram's counts in `bins` equal bins from low to high, each source bin's count
    taken as spread evenly over it: the differences of its cumulative count (linear within
    a source bin) at the new bins' edges. A histogram of width 0 puts its count in the bin
    that holds its value."""
    counts = histogram.counts
    step = (high - low) / bins
    if histogram.high <= histogram.low:
        out = [0.0] * bins
        out[min(bins - 1, max(0, int((histogram.low - low) / step)))] = float(sum(counts))
        return out
    width = (histogram.high - histogram.low) / len(counts)
    below = [0, *accumulate(counts)]  # the count below each source edge

    def cumulative(x: float) -> float:
        if x <= histogram.low:
            return 0.0
        k = min(len(counts) - 1, int((x - histogram.low) / width))
        return below[k] + counts[k] * min(1.0, (x - histogram.low - k * width) / width)

    edges = [cumulative(low + b * step) for b in range(bins)] + [cumulative(high)]
    return [edges[b + 1] - edges[b] for b in range(bins)]


def distribution(histograms: Sequence[Histogram], bins: int) -> Distribution:
    """The histograms (one per epoch, at least one) rebinned to their common range."""
    low, high = common_range(histograms)
    columns = []
    for histogram in histograms:
        counts = rebin(histogram, low, high, bins)
        peak = max(counts)
        columns.append([c / peak if peak > 0 else 0.0 for c in counts])
    return Distribution(low, high, columns)


def spread(count: int, width: int) -> list[int]:
    """Which of `count` epochs each of `width` columns shows: fewer epochs than columns
    are stretched evenly; more are sampled evenly, the first and the last always kept."""
    if count <= 0 or width <= 0:
        return []
    if count <= width:
        return [column * count // width for column in range(width)]
    if width == 1:
        return [count - 1]
    return [round(column * (count - 1) / (width - 1)) for column in range(width)]


def strip_pixels(found: Distribution, width: int) -> list[list[float]]:
    """The strip as rows of pixels (top row: the highest weights), `width` columns, each
    column an epoch's densities (epochs stretched or sampled to the width)."""
    picked = [found.columns[i] for i in spread(len(found.columns), width)]
    bins = len(found.columns[0]) if found.columns else 0
    return [[column[b] for column in picked] for b in reversed(range(bins))]


# -- a live run's histograms, thinned ---------------------------------------------------


def thin_histograms(history: list[EpochEnd], most: int = HISTOGRAM_EPOCHS) -> list[EpochEnd]:
    """history with every other epoch's histograms dropped (the newest kept) once more
    than `most` epochs carry some: a strip is narrower than that anyway."""
    carrying = [i for i, record in enumerate(history) if record.histograms]
    if len(carrying) <= most:
        return history
    drop = set(carrying[-2::-2])
    return [replace(r, histograms=None) if i in drop else r for i, r in enumerate(history)]
