"""Charts that compare runs: val accuracy and val loss curves overlaid, each curve named at
its end, and the chapter's closing figure (train and val accuracy side by side for each
run, as grouped bars).

A single run's loss and accuracy are drawn by the Train screen's MetricChart; these two
only add what one run cannot show.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from cnn_tui.tui.widgets.cached_plot import CachedPlot
from cnn_tui.tui.widgets.chart_view import integer_ticks

# Theme colours for the runs, in order (not warning: most themes make it the accent's
# orange); more runs than these repeat them.
RUN_COLOURS = (
    "primary",
    "accent",
    "success",
    "error-lighten-2",
    "foreground",
    "primary-lighten-3",
    "accent-lighten-3",
    "success-lighten-3",
)


@dataclass(frozen=True)
class RunSeries:
    """One run as a comparison draws it."""

    label: str
    epochs: tuple[int, ...]
    val_accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    final_train: float | None  # the final epoch's train accuracy
    final_val: float | None


class _Chart(CachedPlot):
    """A chart of the compared runs, redrawn only when they, its size or theme changed."""

    DEFAULT_CSS = """
    _Chart {
        width: 1fr;
        height: 1fr;
        min-height: 5;
    }
    """

    WHAT = "chart"  # what the one line says cannot be drawn

    def __init__(self, what: str | None = None, *, id: str | None = None) -> None:
        super().__init__(what or self.WHAT, id=id)
        self.runs: tuple[RunSeries, ...] = ()

    def show(self, runs: Sequence[RunSeries]) -> None:
        runs = tuple(runs)
        if runs != self.runs or not self._drawn:
            self.runs = runs
            self.redraw()

    def _building(self) -> contextlib.AbstractContextManager[None]:
        return _ordered_dedupe()

    def colour(self, index_or_name: int | str) -> tuple[int, int, int]:
        """The colour of the run at this index (as in the runs' table), or a theme colour."""
        if isinstance(index_or_name, int):
            return self._colour(RUN_COLOURS[index_or_name % len(RUN_COLOURS)])
        return self._colour(index_or_name)


@contextlib.contextmanager
def _ordered_dedupe() -> Iterator[None]:
    """plotext drops duplicate ticks and points with list(set(...)), whose order follows
    Python's per-process string hash seed: bar labels then land (or are dropped) one way
    in one process and another way in the next. Keep the first-seen order meanwhile.
    (Rendering happens on the UI thread only, one chart at a time.)"""
    from plotext import _utility

    original = _utility.no_duplicates
    _utility.no_duplicates = lambda data: list(dict.fromkeys(data))
    try:
        yield
    finally:
        _utility.no_duplicates = original


class ValCurvesChart(_Chart):
    """Each run's val accuracy (or loss) by epoch, overlaid, in the colours of the runs'
    table, each curve named at its last epoch, so that no run is told by colour alone.

    Not plotext's legend: it is drawn over the top left corner, where early epochs are.
    """

    def __init__(self, metric: Literal["accuracy", "loss"], *, id: str | None = None) -> None:
        super().__init__(f"val {metric} chart", id=id)
        self.metric = metric

    def _values(self, run: RunSeries) -> tuple[float, ...]:
        return run.val_accuracy if self.metric == "accuracy" else run.val_loss

    def _draw(self) -> None:
        plt = self.plt
        drawn = [run for run in self.runs if run.epochs]
        if not drawn:
            plt.title(f"val {self.metric}: no epochs yet")
            return
        plt.title(f"val {self.metric} by epoch")
        last = max(run.epochs[-1] for run in drawn)
        for index, run in enumerate(self.runs):
            if not run.epochs:
                continue
            marker = "braille" if len(run.epochs) > 1 else "●"
            values = list(self._values(run))
            colour = self.colour(index)
            plt.plot(list(run.epochs), values, color=colour, marker=marker)
            # the name at the curve's end, inside the frame: ending there in the right
            # half, starting there in the left one
            side = "right" if 2 * run.epochs[-1] > last + 1 else "left"
            plt.text(run.label, run.epochs[-1], values[-1], color=colour, alignment=side)
        plt.xticks(integer_ticks(max(last, 1)))


def bar_floor(values: Sequence[float]) -> float:
    """Where the bars start: a tenth below the lowest value, rounded down to a tenth, so
    that differences of a few points stay visible (0 when a value is low anyway)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0
    return max(0.0, round(math.floor(min(finite) * 10 + 1e-9) / 10 - 0.1, 1))


class AccuracyBars(_Chart):
    """Train and val accuracy of each run's final epoch, side by side (grouped bars)."""

    WHAT = "accuracy bars"

    def _draw(self) -> None:
        plt = self.plt
        runs = [r for r in self.runs if r.final_train is not None and r.final_val is not None]
        if not runs:
            plt.title("train and val accuracy: no epochs yet")
            return
        train = [float(r.final_train) for r in runs]  # type: ignore[arg-type]
        val = [float(r.final_val) for r in runs]  # type: ignore[arg-type]
        floor = bar_floor(train + val)
        title = "final epoch: train and val accuracy"
        if floor > 0:
            title += f" (bars from {floor:.1f})"
        plt.title(title)
        plt.multiple_bar(
            [r.label for r in runs],
            [train, val],
            labels=["train", "val"],
            color=[self.colour("primary"), self.colour("accent")],
            minimum=floor,
        )
        plt.ylim(floor, 1.0)
