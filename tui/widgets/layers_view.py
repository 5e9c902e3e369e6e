"""The Layers view: inside a run, epoch by epoch, one row per module (issue 12, part 4).

The Train screen hands it the live run's epochs, one run's screen a run folder's (with
the histograms read in a worker); it draws them as layers_text.py lays them out for its
width, redrawn only when they, its size or the theme change. It scrolls; strips get taller
while the whole view still fits.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from cnn_tui.core.events import EpochEnd
from cnn_tui.core.layer_stats import Histogram
from cnn_tui.tui.layer_figures import layer_figures
from cnn_tui.tui.widgets.chart_panel import CHART_KEYS
from cnn_tui.tui.widgets.layers_text import NARROWEST, LayerStyles, layers_text
from rich.color import Color
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.widgets import Static

STRIP_ROWS = (5, 4, 3)  # the tallest strips with which the whole view fits, else the last
NO_FIGURES = (
    "This run recorded no layer figures: runs trained before cnn-tui measured layers have "
    "none (a resumed run's new epochs will)."
)


class LayersView(VerticalScroll):
    """A run's layer figures over its epochs, or one line saying why there are none."""

    DEFAULT_CSS = """
    LayersView {
        height: 1fr;
        padding: 0 0 0 1;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
    }
    LayersView > Static {
        width: 1fr;
        height: auto;
    }
    LayersView > .layers--low { color: $primary 35%; }
    LayersView > .layers--high { color: $primary; }
    LayersView > .layers--name { text-style: bold; }
    LayersView > .layers--flag { color: $text-warning; text-style: bold; }
    LayersView > .layers--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "layers--low",
        "layers--high",
        "layers--name",
        "layers--flag",
        "layers--muted",
    }

    def __init__(self, *, id: str | None = None, waiting: str) -> None:
        """waiting: the line shown before any epoch has ended."""
        super().__init__(id=id)
        self.waiting = waiting
        self._epochs: Sequence[EpochEnd] = ()
        self._histograms: Mapping[int, Mapping[str, Histogram]] | None = None
        self._version: Hashable = None
        self._drawn: tuple[Hashable, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="layers-body")

    def show(
        self,
        epochs: Sequence[EpochEnd],
        version: Hashable,
        histograms: Mapping[int, Mapping[str, Histogram]] | None = None,
    ) -> None:
        """Draw these epochs (version changes whenever they or the histograms do).
        histograms: epoch -> module -> histogram read from a run folder; None: those the
        epochs carry."""
        self._epochs, self._version, self._histograms = epochs, version, histograms
        self.redraw()

    def on_resize(self, event: Resize) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Lay the figures out again if anything they depend on changed (shown only)."""
        if not self.display or not self.is_mounted:
            return
        width = self.scrollable_content_region.width
        key = (self._version, width, self.size.height, self.app.theme)
        if key == self._drawn or width <= 0:
            return
        self._drawn = key
        self.query_one(".layers-body", Static).update(self._text(width))

    def _text(self, width: int) -> Text:
        if not self._epochs:
            return Text(self.waiting)
        figures = layer_figures(self._epochs, self._histograms)
        if not figures.modules:
            return Text(NO_FIGURES)
        if width < NARROWEST:
            return Text(f"The Layers view needs {NARROWEST} columns: widen the window.")
        console, styles = self.app.console, self._styles()
        try:
            shortest = STRIP_ROWS[-1]
            text = layers_text(figures, width, shortest, styles, console)
            lines = sum(-(-max(1, len(line)) // width) for line in text.plain.split("\n"))
            strips = sum(1 for module in figures.modules if module.histograms)
            for rows in STRIP_ROWS[:-1]:  # the tallest strips with which it all fits
                if lines + strips * (rows - shortest) <= self.size.height:
                    return layers_text(figures, width, rows, styles, console)
        except (ValueError, ArithmeticError) as error:  # a record no check foresaw
            return Text(f"cannot draw the layer figures: {type(error).__name__}: {error}")
        return text

    def _styles(self) -> LayerStyles:
        def colour(name: str) -> Color:
            found = self.get_component_rich_style(name).color
            return found if found is not None else Color.default()

        return LayerStyles(
            low=colour("layers--low"),
            high=colour("layers--high"),
            name=self.get_component_rich_style("layers--name"),
            flag=self.get_component_rich_style("layers--flag"),
            muted=self.get_component_rich_style("layers--muted"),
        )

    @property
    def text(self) -> str:
        """What the view shows, as plain text."""
        return str(self.query_one(".layers-body", Static).render())


# In the chart keys' group: the footer has no room at 80 columns for a key of its own.
LAYERS_BINDING = Binding(
    "i", "toggle_layers", "Layers", group=CHART_KEYS, tooltip="Layers view or the charts"
)
LAYERS_HELP = {
    "toggle_layers": (
        "Layers: inside training, or the charts",
        "Each layer's norms, gradients, saturation and weights over the epochs (i)",
    )
}
