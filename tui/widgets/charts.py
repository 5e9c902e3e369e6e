"""Live loss and accuracy charts (textual-plotext), drawn from the App's training state."""

from __future__ import annotations

from collections.abc import Sequence

from cnn_tui.core.events import EpochEnd
from cnn_tui.tui.widgets.cached_plot import CachedPlot
from cnn_tui.tui.widgets.chart_view import ChartView, ema, integer_ticks, time_label
from rich.color import Color as RichColor
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult

__all__ = ["ChartView", "MetricChart", "ema", "integer_ticks", "time_label"]

BEST = "◆"  # the best validation epoch's mark on the val curve
TRAIN_KEY, VAL_KEY, BEST_KEY = "━ train", "━ val", f"{BEST} best"


class MetricChart(CachedPlot):
    """One metric (loss or accuracy), train and val, against epoch or wall time."""

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
        self._history: list[EpochEnd] = []
        self._keys: list[tuple[str, str]] = []  # the legend: (key, theme colour)

    def show(self, history: Sequence[EpochEnd], view: ChartView, best_epoch: int | None) -> None:
        """Plot these epochs as asked; called at most a few times a second."""
        self._history = list(history)
        self.view = view
        self.x = []
        total = 0.0
        for record in self._history:
            total += record.epoch_seconds
            self.x.append(total if view.by_time else float(record.epoch))
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

    def _draw(self) -> None:
        plt = self.plt
        title = "loss" if self.metric == "loss" else "accuracy"
        if self.view.log_loss and self.metric == "loss":
            title += " (log)"
        if self.view.smooth:
            title += " smoothed"
        if not self.x:
            plt.title(f"{title}: no epochs yet")
            return
        best = self.best_x
        # The legend is the title's line, outside the plot (plotext's own sat on the
        # curves): each name after a swatch that _finish colours as its line.
        keys = [(TRAIN_KEY, "primary"), (VAL_KEY, "accent")]
        # One epoch is one point: a braille dot would be all but invisible.
        marker = "braille" if len(self.x) > 1 else "●"
        for name, colour in (("train", "primary"), ("val", "accent")):
            plt.plot(
                list(self.x), list(self.series[name]), color=self._colour(colour), marker=marker
            )
        detail = ""
        if best is not None:  # a mark on the val curve (a vertical line at the last epoch
            # read as a second right border)
            index = self.x.index(best)
            plt.scatter(
                [best], [self.series["val"][index]], color=self._colour("warning"), marker=BEST
            )
            keys.append((BEST_KEY, "warning"))
            record = self._history[index]
            if self.metric == "accuracy":
                detail = f" {record.val_accuracy:.3f} @ {record.epoch}"
        self._keys = keys
        plt.title(_fit_title(title, [key for key, _ in keys], detail, self.size.width))
        if self.metric == "loss" and self.view.log_loss:
            values = [v for v in self.series["train"] + self.series["val"] if v > 0]
            if values:
                plt.yscale("log")
        if self.view.by_time:
            ticks = _spread(self.x)
            plt.xticks(ticks, [time_label(t) for t in ticks])
        else:
            plt.xticks(integer_ticks(int(self.x[-1])))
        if len(self.x) > 1:
            # a little room at the right, so that the last point and tick are not drawn
            # against the frame's corner (`┬┘` read as a double border)
            plt.xlim(self.x[0], self.x[-1] + (self.x[-1] - self.x[0]) * 0.04)

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
    its key); where the width is short, the detail goes, then the title's later words."""
    legend = "  ".join(keys)
    for line in (f"{title}   {legend}{detail}", f"{title}   {legend}"):
        if len(line) <= width:
            return line
    return f"{title.split(' ')[0]}   {legend}"


def _spread(values: Sequence[float], most: int = 4) -> list[float]:
    """A few of the x values, first and last included, for wall-time ticks."""
    if len(values) <= most:
        return list(values)
    step = (len(values) - 1) / (most - 1)
    return [values[round(i * step)] for i in range(most)]
