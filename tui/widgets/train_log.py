"""The Train screen's log: epoch lines, warnings and errors, in the theme's colours."""

from __future__ import annotations

from collections.abc import Sequence

from cnn_tui.tui.state import LOG_LINES, LogLine
from cnn_tui.tui.widgets.train_text import pack_segments
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

PREFIXES = {"warning": "warning: ", "error": "error: "}


class TrainLog(RichLog):
    """Shows the App's log lines; rewraps them all when its width changes.

    RichLog wraps a line once, when written; after a resize (a terminal resized, the form
    shown or hidden) old lines would keep the old width and be cut, so they are written
    again from the lines last given to `show` (the session's log, which keeps them). A line
    of parts (an epoch's) breaks between its parts, never leaving `img/s` alone on a line.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, wrap=True, markup=False, highlight=False, max_lines=LOG_LINES, min_width=20
        )
        self.shown = 0  # number of the last LogLine written
        self._wrapped_at = 0
        self._lines: Sequence[LogLine] = ()

    def show(self, lines: Sequence[LogLine]) -> None:
        """Write the lines not written yet (cheap when there are none: called while
        training four times a second)."""
        self._lines = lines
        if not lines or lines[-1].number <= self.shown:
            return
        variables = self.app.theme_variables
        styles = {
            "warning": Style(color=variables.get("warning")),
            "error": Style(color=variables.get("error"), bold=True),
        }
        # the width of the last Resize (the region may not follow it yet), less the
        # padding and room for a scrollbar to come
        width = self.scrollable_content_region.width - 1
        if self._wrapped_at:
            width = self._wrapped_at - self.styles.gutter.width - 1
        for line in lines:
            if line.number <= self.shown:
                continue
            message = pack_segments(PREFIXES.get(line.level, "") + line.message, width)
            self.write(Text(message, style=styles.get(line.level, "")))
            self.shown = line.number

    def on_resize(self, event: Resize) -> None:
        width = event.size.width
        if width and width != self._wrapped_at:
            self._wrapped_at = width
            if self.shown:
                self.clear()
                self.shown = 0
                self.show(self._lines)
