"""Live loss and accuracy charts (textual-plotext), drawn from the App's training state."""

from __future__ import annotations

from collections.abc import Sequence

from cnn_tui.core.events import EpochEnd
from cnn_tui.tui.errors import cannot_draw
from cnn_tui.tui.widgets.chart_view import ChartView, ema, integer_ticks, time_label

__all__ = ["ChartView", "MetricChart", "ema", "integer_ticks", "time_label"]
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot


class MetricChart(PlotextPlot):
    """One metric (loss or accuracy), train and val, against epoch or wall time."""

    DEFAULT_CSS = """
    MetricChart {
        width: 1fr;
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, metric: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        if metric not in ("loss", "accuracy"):
            raise ValueError(f"unknown metric {metric!r}")
        self.metric = metric
        self.series: dict[str, list[float]] = {"train": [], "val": []}
        self.x: list[float] = []
        self.best_x: float | None = None
        self.view = ChartView()
        self._history: list[EpochEnd] = []
        self._drawn = 0  # counts redraws, so render() rebuilds only when something changed
        self._cache_key: tuple | None = None
        self._cache: RenderResult = ""

    def on_mount(self) -> None:
        # PlotextPlot.on_mount runs too (Textual calls each class's handler).
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())
        self.redraw()

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

    def render(self) -> RenderResult:
        # Building a plotext figure costs milliseconds; a screen refresh (a key, a
        # notification, the progress bar) must not pay that when the data did not change.
        # The figure is built afresh for each size: plotext logs the data of a log-scaled
        # figure as it builds it, in place, so building the same figure twice took the log
        # of a log (`math domain error` once a value was below 1).
        key = (self.size.width, self.size.height, self._drawn, self.app.theme)
        if key != self._cache_key:
            self._cache_key = key
            try:
                self.plt.clear_figure()
                self._draw()
                self._cache = super().render()
            except Exception as error:  # one line in its place; the app goes on
                self._cache = cannot_draw(f"{self.metric} chart", error)
        return self._cache

    def _colour(self, name: str) -> tuple[int, int, int]:
        value = self.app.theme_variables.get(name) or self.app.theme_variables.get("foreground")
        return Color.parse(value).rgb

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        self._drawn += 1  # render() builds the figure
        self.refresh()

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
        if best is not None and self.metric == "accuracy":
            record = next(r for r, x in zip(self._history, self.x, strict=True) if x == best)
            title += f"  best val {record.val_accuracy:.3f} @ {record.epoch}"
        plt.title(title)
        if best is not None:  # drawn first, so the lines stay visible over it
            plt.vline(best, self._colour("warning"))
        # One epoch is one point: a braille dot would be all but invisible.
        marker = "braille" if len(self.x) > 1 else "●"
        for name, colour in (("train", "primary"), ("val", "accent")):
            plt.plot(
                list(self.x),
                list(self.series[name]),
                label=name,
                color=self._colour(colour),
                marker=marker,
            )
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
            # a little room at the right, so that the best epoch's line, when it is the
            # last epoch, is not drawn on the frame (where it read as a double border)
            plt.xlim(self.x[0], self.x[-1] + (self.x[-1] - self.x[0]) * 0.04)


def _spread(values: Sequence[float], most: int = 4) -> list[float]:
    """A few of the x values, first and last included, for wall-time ticks."""
    if len(values) <= most:
        return list(values)
    step = (len(values) - 1) / (most - 1)
    return [values[round(i * step)] for i in range(most)]
