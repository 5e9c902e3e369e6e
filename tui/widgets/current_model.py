"""The current weights in words, where a screen names them: which file, the data they were
trained on when that matters (the bundled sample), and the only classes they can answer.

A newcomer's first surprise is a frog called a bird: the model has no "none of these", so
the Predict screen says so in a line that stays on screen (ModelLines).
"""

from __future__ import annotations

from cnn_tui.tui.state import CurrentModel
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static


def weights_text(current: CurrentModel) -> Content:
    """`weights: net, trained on the 500-image sample, from weights.pt (run)`: the label
    before the file name, so a narrow line cuts the name, not the label."""
    parts: list[str | tuple[str, str]] = [
        ("weights: ", "dim"),
        (str(current.meta.get("model", "?")), "bold"),
    ]
    if current.trained_on:
        parts += [", ", (current.trained_on, "bold $text-warning"), ","]
    parts.append(f" from {current.path.name} ({current.origin})")
    return Content.assemble(*parts)


class ModelLines(Vertical):
    """Two lines: the current weights, and the only classes they can answer."""

    DEFAULT_CSS = """
    ModelLines {
        height: auto;
        padding: 0 1;
    }
    ModelLines Static {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ModelLines #known-classes {
        color: $text-muted;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("weights: none yet", id="current-weights")
        yield Static("", id="known-classes")

    def show(self, current: CurrentModel | None, loading: bool = False) -> None:
        """Name these weights (None: none yet, or still loading)."""
        if current is None:
            words = "loading..." if loading else "none yet (2: the Model screen loads a file)"
            text = Content.assemble(("weights: ", "dim"), words)
            classes = Content("")
        else:
            text, classes = weights_text(current), Content(current.known_classes)
        self.query_one("#current-weights", Static).update(text)
        self.query_one("#known-classes", Static).update(classes)
