"""Text fitted to the room it has: the form's help lines and the log's lines.

The form is 27 columns wide at 80x24: a model's description or a data folder's sentence
cut by the widget's height ended mid-word (`stages (16, 8 channels),`), and a log line
wrapped by words left `img/s` alone on a line. These fit the words themselves; the widget
keeps the full text for its tooltip.
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.events import Resize
from textual.widgets import Static

ELLIPSIS = "…"
SEPARATOR = " · "
INDENT = "  "  # a log line's continuation


def _wrap(text: str, width: int, *, cut: bool = True) -> list[str]:
    """text's lines at width, broken at spaces only (cut: a word longer than a line is
    cut, else left whole and too long)."""
    return textwrap.wrap(text, width, break_long_words=cut, break_on_hyphens=False)


def fit_words(text: str, width: int, lines: int) -> str:
    """text wrapped at word boundaries into at most `lines` lines of `width`, ended by an
    ellipsis after the last whole word that fits when it is longer."""
    wrapped = _wrap(text, width)
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    shown = wrapped[:lines]
    last = shown[-1]
    while last and len(last) + len(ELLIPSIS) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[: width - len(ELLIPSIS)]
    shown[-1] = last.rstrip(" ,;:") + ELLIPSIS
    return "\n".join(shown)


def shorten_path(path: str, width: int) -> str:
    """path in at most `width` columns, its leading folders replaced by an ellipsis (the
    last folders name it best); whole folder names only, the last one always kept."""
    if len(path) <= width:
        return path
    parts = path.split("/")
    for start in range(1, len(parts)):
        tail = ELLIPSIS + "/" + "/".join(parts[start:])
        if len(tail) <= width or start == len(parts) - 1:
            return tail
    return path


def fit_with_path(text: str, path: str | None, width: int, lines: int) -> str:
    """Like fit_words, but a folder named in text is shortened from the left first (more of
    it dropped until the words fit), so that the sentence around it stays whole."""
    if path and path in text:
        for room in range(len(path), 4, -1):
            candidate = text.replace(path, shorten_path(path, room), 1)
            wrapped = _wrap(candidate, width, cut=False)
            if len(wrapped) <= lines and all(len(line) <= width for line in wrapped):
                return fit_words(candidate, width, lines)
        text = text.replace(path, shorten_path(path, 5), 1)
    return fit_words(text, width, lines)


def pack_segments(message: str, width: int) -> str:
    """A log line whose parts are joined by ` · `, broken between parts rather than
    inside one where it does not fit in width (a part too long alone is left to wrap).
    Filled from the end, so that the last, short part (`3,200 img/s`) is never alone."""
    parts = message.split(SEPARATOR)
    if width <= 0 or len(parts) == 1 or len(message) <= width:
        return message
    lines = [parts[-1]]
    for part in reversed(parts[:-1]):
        if len(INDENT) + len(part) + len(SEPARATOR) + len(lines[0]) <= width:
            lines[0] = part + SEPARATOR + lines[0]
        else:
            lines.insert(0, part)
    return "\n".join([lines[0], *(INDENT + line for line in lines[1:])])


class FittedText(Static):
    """A help line fitted to its width and max-height by whole words (a folder in it
    shortened from the left), the full text in its tooltip; `expanded` shows it all."""

    def __init__(
        self, text: str, *, path: str | None = None, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__("", id=id, classes=classes)
        self.full = text
        self.path = path
        self._expanded = False
        self._shown = ""

    def set_text(self, text: str, path: str | None = None) -> None:
        self.full, self.path = text, path
        self._fit()

    @property
    def expanded(self) -> bool:
        return self._expanded

    @expanded.setter
    def expanded(self, value: bool) -> None:
        self._expanded = value
        self.set_class(value, "-expanded")
        self._fit()

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self, event: Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        self.tooltip = self.full
        width = self.content_region.width or self.container_size.width
        lines = self.styles.max_height
        most = int(lines.value) if lines is not None and not self._expanded else 0
        fitted = self.full
        if width > 0 and most > 0:
            fitted = fit_with_path(self.full, self.path, width, most)
        if fitted != self._shown:  # (a resize to the same width changes nothing)
            self._shown = fitted
            self.update(Text(fitted))  # a folder's name: no markup
