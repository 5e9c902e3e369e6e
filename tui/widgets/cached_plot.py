"""CachedPlot: a textual-plotext chart that builds its figure only when its data, size or
theme changed, and says in one line why it cannot, in its place, instead of failing."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

from cnn_tui.tui.errors import cannot_draw
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot


class CachedPlot(PlotextPlot):
    """Subclasses draw their figure in _draw() and call redraw() when their data change.

    Building a plotext figure costs milliseconds; a screen refresh (a key, a notification, a
    progress bar) must not pay that when nothing changed. The figure is built afresh for
    each size: plotext keeps state from one build to the next (which bar labels it
    dropped; a log-scaled figure's data, logged in place, so that building the same figure
    twice took the log of a log, a `math domain error` below 1).
    """

    def __init__(self, what: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.what = what  # what the one line says cannot be drawn
        self._drawn = 0  # counts redraws, so render() rebuilds only when something changed
        self._cache_key: tuple | None = None
        self._cache: RenderResult = ""

    def on_mount(self) -> None:
        # PlotextPlot.on_mount runs too (Textual calls each class's handler).
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        self._drawn += 1  # render() builds the figure
        self.refresh()

    def render(self) -> RenderResult:
        key = (self.size.width, self.size.height, self._drawn, self.app.theme)
        if key != self._cache_key:
            self._cache_key = key
            try:
                with self._building():
                    self.plt.clear_figure()
                    self._draw()
                    self._cache = self._finish(super().render())
            except Exception as error:  # one line in its place; the app goes on
                self._cache = cannot_draw(self.what, error)
        return self._cache

    def _colour(self, name: str) -> tuple[int, int, int]:
        """A theme colour by its variable name (the foreground where the theme has none)."""
        variables = self.app.theme_variables
        return Color.parse(variables.get(name) or variables.get("foreground")).rgb

    def _building(self) -> AbstractContextManager[None]:
        """What the figure is built within (nothing here)."""
        return contextlib.nullcontext()

    def _draw(self) -> None:
        """Build the figure on self.plt, which render() has just cleared."""
        raise NotImplementedError

    def _finish(self, figure: RenderResult) -> RenderResult:
        """What is shown of the built figure (itself here; a chart may colour its title)."""
        return figure
