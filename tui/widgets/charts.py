"""Live loss and accuracy charts (textual-plotext), drawn from the App's training state."""

from __future__ import annotations

from collections.abc import Sequence

from cnn_tui.core.events import EpochEnd
from cnn_tui.tui.widgets.cached_plot import CachedPlot
from cnn_tui.tui.widgets.chart_view import ChartView, ema, integer_ticks, time_label

__all__ = ["ChartView", "MetricChart", "ema", "integer_ticks", "time_label"]


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
