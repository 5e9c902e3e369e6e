"""A run's loss and accuracy charts together, with the keys that change how they look.

The Train screen and one run's screen show the same pair of charts and offer the same
keys (m smoothing, l log scale for the loss, t x-axis by epoch, step or time, c which
chart a small terminal shows); the Train screen adds the run's per-batch figures, and
with them the axis by step. The panel holds how they are asked to look (a ChartView)
and the last epochs it was given, so a key redraws them without the screen. Its keys are
the screen's (a panel never has the focus): a screen lists chart_bindings() and chart_help()
(CHART_BINDINGS and CHART_HELP without the step axis) and mixes in ChartKeys, whose
actions come to the panel.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, Protocol

from cnn_tui.core.events import EpochEnd
from cnn_tui.tui.batch_series import BatchSeries
from cnn_tui.tui.widgets.chart_view import Axis, ChartView
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container

if TYPE_CHECKING:  # textual-plotext is imported when the charts are made (see charts.py)
    from cnn_tui.tui.widgets.charts import MetricChart

Metric = Literal["loss", "accuracy"]
Toggle = Literal["smooth", "log_loss"]

CHART_KEYS = Binding.Group("Chart", compact=True)


def chart_bindings(by_step: bool = False) -> list[Binding]:
    """The chart keys, for a screen's BINDINGS (by_step: t offers the axis by step too)."""
    axes = "epoch, step or time" if by_step else "epoch or time"
    return [
        Binding("m", "toggle_smooth", "Smooth", group=CHART_KEYS, tooltip="Smoothing (EMA)"),
        Binding("l", "toggle_log", "Log", group=CHART_KEYS, tooltip="Log scale for the loss"),
        Binding("t", "toggle_time", "Axis", group=CHART_KEYS, tooltip=f"x-axis: {axes}"),
        Binding("c", "next_chart", "Which", group=CHART_KEYS, tooltip="Loss or accuracy chart"),
    ]


def chart_help(by_step: bool = False) -> dict[str, tuple[str, str]]:
    """What the chart keys' actions are called in the command palette."""
    axes = "epoch, step or time" if by_step else "epoch or time"
    batches = ", batches" if by_step else ""
    return {
        "toggle_smooth": ("Chart: smoothing", "Exponential moving average on or off (m)"),
        "toggle_log": ("Chart: log scale for the loss", "Log or linear loss axis (l)"),
        "toggle_time": (f"Chart: x-axis by {axes}", f"Epochs{batches} or training time (t)"),
        "next_chart": ("Chart: loss or accuracy", "Which chart a small terminal shows (c)"),
    }


CHART_BINDINGS = chart_bindings()
CHART_HELP = chart_help()


class ChartPanel(Container):
    """The loss chart and the accuracy chart of one run, side by side on a wide screen,
    stacked on a tall one, one at a time (class -show-loss or -show-accuracy) on a small
    one (the screen's stylesheet says which, by the panel's and the charts' ids)."""

    def __init__(
        self,
        *,
        id: str,
        chart_ids: tuple[str, str],
        shown: Metric,
        later: bool = False,
        axes: tuple[Axis, ...] = ("epoch", "time"),
    ) -> None:
        """chart_ids: the loss chart's and the accuracy chart's ids; shown: the chart a
        small terminal shows first; later: the charts are made by mount_charts, not at
        compose (the Train screen's first frame comes sooner without them); axes: what t
        cycles through (by step only where per-batch figures come)."""
        super().__init__(id=id, classes=f"-show-{shown}")
        self.chart_ids = chart_ids
        self.later = later
        self.axes = axes
        self.view = ChartView()
        self._charts: list[MetricChart] = []
        self._history: list[EpochEnd] = []
        self._best_epoch: int | None = None
        self._version: Hashable = None
        self._batches: BatchSeries | None = None
        self._lr = False
        self._drawn: tuple[Hashable, ...] | None = None

    def _make_charts(self) -> list[MetricChart]:
        from cnn_tui.tui.widgets.charts import MetricChart

        loss, accuracy = self.chart_ids
        self._charts = [MetricChart("loss", id=loss), MetricChart("accuracy", id=accuracy)]
        return self._charts

    def compose(self) -> ComposeResult:
        if not self.later:
            yield from self._make_charts()

    async def mount_charts(self) -> None:
        """Make the charts now (once), for a panel made with later=True."""
        if not self._charts:
            await self.mount_all(self._make_charts())

    def show(
        self,
        history: Sequence[EpochEnd],
        best_epoch: int | None,
        version: Hashable,
        batches: BatchSeries | None = None,
        lr: bool = False,
    ) -> None:
        """Draw these epochs (version changes whenever they or the batches do) unless
        already drawn so; batches: the run's per-batch figures, lr: with its learning
        rate's curve (a one-cycle schedule)."""
        if (version, best_epoch, self.view, len(self._charts)) == self._drawn:
            return
        self._history = list(history)
        self._best_epoch = best_epoch
        self._version = version
        self._batches, self._lr = batches, lr
        self._draw()

    def _draw(self) -> None:
        self._drawn = (self._version, self._best_epoch, self.view, len(self._charts))
        for chart in self._charts:
            chart.show(self._history, self.view, self._best_epoch, self._batches, self._lr)

    def toggle(self, setting: Toggle) -> None:
        """Turn one of the view's settings on or off, and redraw with it."""
        view = self.view
        if setting == "smooth":
            self.view = replace(view, smooth=not view.smooth)
        else:
            self.view = replace(view, log_loss=not view.log_loss)
        self._draw()

    def next_axis(self) -> None:
        """The next of the horizontal axes this panel offers, and redraw with it."""
        axes = self.axes
        now = axes.index(self.view.x_axis) if self.view.x_axis in axes else -1
        self.view = replace(self.view, x_axis=axes[(now + 1) % len(axes)])
        self._draw()

    def next_chart(self) -> None:
        """Show the other chart on a small terminal (where only one fits)."""
        loss = self.has_class("-show-loss")
        self.set_class(not loss, "-show-loss")
        self.set_class(loss, "-show-accuracy")
        screen = self.screen
        if not (screen.has_class("-narrow") and screen.has_class("-short")):
            self.notify("Both charts are shown at this size; c picks one on small terminals.")


class HoldsChartPanel(Protocol):
    """What ChartKeys needs of its screen: the one chart panel it shows."""

    @property
    def chart_panel(self) -> ChartPanel: ...


class ChartKeys:
    """The chart keys' actions, mixed into a screen that lists CHART_BINDINGS: each one
    goes to the screen's chart panel."""

    def action_toggle_smooth(self: HoldsChartPanel) -> None:
        self.chart_panel.toggle("smooth")

    def action_toggle_log(self: HoldsChartPanel) -> None:
        self.chart_panel.toggle("log_loss")

    def action_toggle_time(self: HoldsChartPanel) -> None:
        self.chart_panel.next_axis()

    def action_next_chart(self: HoldsChartPanel) -> None:
        self.chart_panel.next_chart()
