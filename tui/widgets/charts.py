"""Live loss and accuracy charts (textual-plotext), drawn from the App's training state."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cnn_tui.core.events import EpochEnd
from cnn_tui.tui.batch_series import BatchSeries, thin
from cnn_tui.tui.widgets.cached_plot import CachedPlot
from cnn_tui.tui.widgets.chart_view import ChartView, ema, integer_ticks, time_label
from rich.color import Color as RichColor
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult

__all__ = ["ChartView", "MetricChart", "ema", "integer_ticks", "time_label"]

BEST = "◆"  # the best validation epoch's mark on the val curve
TRAIN_KEY, VAL_KEY, BEST_KEY = "━ train", "━ val", f"{BEST} best"
BATCH_KEY, LR_KEY = "━ batch", "━ lr →"  # (the learning rate reads on the right-hand axis)
BATCH_COLOUR = "primary-muted"  # the train curve's colour, paler: the same loss, per batch


class MetricChart(CachedPlot):
    """One metric (loss or accuracy), train and val, against epoch, step or training time;
    the loss chart adds each batch's loss and, for a one-cycle run, the learning rate (on
    the right-hand axis), where the Train screen hands them over."""

    DEFAULT_CSS = """
    MetricChart {
        width: 1fr;
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, metric: str, *, id: str | None = None) -> None:
        super().__init__(f"{metric} chart", id=id)
        if metric not in ("loss", "accuracy"):
            raise ValueError(f"unknown metric {metric!r}")
        self.metric = metric
        self.series: dict[str, list[float]] = {"train": [], "val": []}
        self.x: list[float] = []
        self.best_x: float | None = None
        self.view = ChartView()
        self.batches: BatchSeries | None = None  # (the loss chart's only)
        self.lr = False
        self._history: list[EpochEnd] = []
        self._keys: list[tuple[str, str]] = []  # the legend: (key, theme colour)
        self._shown: tuple[object, ...] | None = None  # what show() last drew

    def show(
        self,
        history: Sequence[EpochEnd],
        view: ChartView,
        best_epoch: int | None,
        batches: BatchSeries | None = None,
        lr: bool = False,
    ) -> None:
        """Plot these epochs (and batches: the run's per-batch figures; lr: with the
        learning rate's curve) as asked; called at most a few times a second."""
        per_epoch = batches.per_epoch if batches is not None else 0
        batches = batches if self.metric == "loss" and batches and batches.steps else None
        # A Progress changes the batches only: the accuracy chart is not built again for it
        shown = (
            len(history),
            history[-1] if history else None,
            view,
            best_epoch,
            per_epoch if view.x_axis == "step" else 0,
            (id(batches), batches.version, lr) if batches is not None else None,
        )
        if shown == self._shown:
            return
        self._shown = shown
        self._history = list(history)
        self.view = view
        self.batches = batches
        self.lr = lr
        self.x = []
        total = 0.0
        for record in self._history:
            total += record.epoch_seconds
            if view.x_axis == "time":
                self.x.append(total)
            elif view.x_axis == "step" and per_epoch:
                self.x.append(float(record.epoch * per_epoch))
            else:
                self.x.append(float(record.epoch))
        if self.metric == "loss":
            train = [r.train_loss for r in self._history]
            val = [r.val_loss for r in self._history]
        else:
            train = [r.train_accuracy for r in self._history]
            val = [r.val_accuracy for r in self._history]
        if view.smooth:
            train, val = ema(train), ema(val)
        self.series = {"train": train, "val": val}
        self.best_x = None
        if best_epoch is not None:
            for x, record in zip(self.x, self._history, strict=True):
                if record.epoch == best_epoch:
                    self.best_x = x
        self.redraw()

    def batch_points(self) -> tuple[list[float], list[float], list[float]]:
        """x, loss and learning rate of each batch on the view's axis, thinned to about
        one point per column (the mean of each group of neighbours)."""
        batches = self.batches
        if batches is None:
            return [], [], []
        if self.view.x_axis == "time":
            xs = batches.seconds
        elif self.view.x_axis == "step" or not batches.per_epoch:
            xs = batches.steps
        else:  # in epochs: batch k of an epoch of n sits at epoch - 1 + k / n
            xs = [step / batches.per_epoch for step in batches.steps]
        most = max(self.size.width - 8, 10)  # (the y axis's labels take some columns)
        x, losses = thin(xs, batches.losses, most)
        _, lrs = thin(xs, batches.lrs, most)
        return x, ema(losses) if self.view.smooth else losses, lrs

    def _draw(self) -> None:
        plt = self.plt
        self._keys = []
        title = "loss" if self.metric == "loss" else "accuracy"
        if self.view.log_loss and self.metric == "loss":
            title += " (log)"
        if self.view.smooth:
            title += " smoothed"
        if self.view.x_axis != "epoch":
            title += f" by {self.view.x_axis}"
        x_batch, loss_batch, lr_batch = self.batch_points()
        if not self.x and not x_batch:
            plt.title(f"{title}: no epochs yet")
            return
        # The legend is the title's line, outside the plot (plotext's own sat on the
        # curves): each name after a swatch that _finish colours as its line.
        keys = [(TRAIN_KEY, "primary"), (VAL_KEY, "accent")]
        if x_batch:  # under the epochs' curves
            plt.plot(x_batch, loss_batch, color=self._colour(BATCH_COLOUR), marker="braille")
            if self.lr and all(math.isfinite(v) for v in lr_batch):
                plt.plot(
                    x_batch,
                    lr_batch,
                    color=self._colour("success"),
                    yside="right",
                    marker="braille",
                )
                top = max(lr_batch)
                ticks = [top * i / 2 for i in range(3)]
                plt.yticks(ticks, [lr_label(t) for t in ticks], yside="right")
                keys.append((LR_KEY, "success"))  # (before batch: its axis needs it more)
            keys.append((BATCH_KEY, BATCH_COLOUR))
        self._plot_epochs()
        detail = ""
        if self.best_x is not None:
            keys.append((BEST_KEY, "warning"))
            if self.metric == "accuracy":
                record = self._history[self.x.index(self.best_x)]
                detail = f" {record.val_accuracy:.3f} @ {record.epoch}"
        self._keys = keys
        # plotext centres the title on the canvas, between the axes' labels: its room
        room = self.size.width - (14 if LR_KEY in dict(keys) else 8)
        plt.title(_fit_title(title, [key for key, _ in keys], detail, room))
        if self.metric == "loss" and self.view.log_loss:
            values = [v for v in self.series["train"] + self.series["val"] + loss_batch if v > 0]
            if values:
                plt.yscale("log")
        self._ticks(sorted(self.x + x_batch[:1] + x_batch[-1:]))

    def _plot_epochs(self) -> None:
        """Train and val, one point an epoch, and the best validation epoch's mark on the
        val curve (a vertical line at the last epoch read as a second right border)."""
        plt = self.plt
        if not self.x:
            return
        # One epoch is one point: a braille dot would be all but invisible.
        marker = "braille" if len(self.x) > 1 else "●"
        for name, colour in (("train", "primary"), ("val", "accent")):
            plt.plot(
                list(self.x), list(self.series[name]), color=self._colour(colour), marker=marker
            )
        best = self.best_x
        if best is not None:
            index = self.x.index(best)
            plt.scatter(
                [best], [self.series["val"][index]], color=self._colour("warning"), marker=BEST
            )

    def _ticks(self, xs: list[float]) -> None:
        """Ticks for the view's axis over xs (ascending), and a little room at the right."""
        plt = self.plt
        last = max(xs)
        if self.view.x_axis == "time":
            ticks = _spread(sorted(xs))
            plt.xticks(ticks, [time_label(t) for t in ticks])
        else:
            plt.xticks(integer_ticks(math.ceil(last)))
        if len(xs) > 1 and last > xs[0]:
            # a little room at the right, so that the last point and tick are not drawn
            # against the frame's corner (`┬┘` read as a double border)
            plt.xlim(xs[0], last + (last - xs[0]) * 0.04)

    def _finish(self, figure: RenderResult) -> RenderResult:
        """Colour each legend key's swatch (its first character) in the title's line."""
        if not isinstance(figure, Text):
            return figure
        plain = figure.plain
        end = plain.find("\n")
        for key, colour in self._keys:
            at = plain.find(key, 0, end)
            if at >= 0:
                figure.stylize(Style(color=RichColor.from_rgb(*self._colour(colour))), at, at + 1)
        return figure


def _fit_title(title: str, keys: list[str], detail: str, width: int) -> str:
    """The title and the legend's keys on one line (detail: the best epoch's figures, after
    its key) in width; where it is short, the detail goes, then the title's later words,
    then the last keys (the least needed are last)."""
    legend, first = "  ".join(keys), title.split(" ")[0]
    lines = [
        f"{title}   {legend}{detail}",
        f"{title}   {legend}",
        f"{first}   {legend}",
        f"{first} {' '.join(keys)}",
    ]
    lines += [" ".join([first, *keys[:count]]) for count in range(len(keys) - 1, 1, -1)]
    for line in lines:
        if len(line) <= width:
            return line
    return first  # (plotext leaves out a title wider than it has room for)


def lr_label(value: float) -> str:
    """A learning rate in few columns (5.0e-3): the right-hand axis shares the row with the
    chart beside it."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _spread(values: Sequence[float], most: int = 4) -> list[float]:
    """A few of the x values, first and last included, for wall-time ticks."""
    if len(values) <= most:
        return list(values)
    step = (len(values) - 1) / (most - 1)
    return [values[round(i * step)] for i in range(most)]
