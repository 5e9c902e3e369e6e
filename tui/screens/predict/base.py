"""What every part of the Predict screen shares: the validation set's answers for the current
weights, which tab is shown, and the picked validation image drawn large."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.state import PickedImage
from cnn_tui.tui.widgets.picture import PicturePanel
from textual.widgets import TabbedContent

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from cnn_tui.core.validation_results import ValidationResults
    from cnn_tui.tui.session.predicting import ModelKey

TAB_FOCUS = {  # each tab's widget that takes the keys when the tab is shown
    "validation": "#val-table",
    "files": "#file-tree",
    "folder": "#folder-table",
    "mistakes": "#losses-table",
    "fooled": "#fooled-table",
}


class PredictBase(ReportsWorkerErrors, AppScreen):
    """The state the Predict screen's tabs share (PredictScreen derives from each tab's part)."""

    def __init__(self) -> None:
        super().__init__(id="predict-screen")
        self.results: ValidationResults | None = None  # of the current weights
        self._results_key: ModelKey | None = None
        self._val_pixels: npt.NDArray[np.uint8] | None = None  # (N, 32, 32, 3)

    def _active(self, tab: str) -> bool:
        """Whether this tab is shown: only its table's highlight changes the picture."""
        return self.query_one(TabbedContent).active == tab

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(TAB_FOCUS[tab]).focus()

    def _show_entry(self, index: int) -> None:
        results = self.results
        if results is None or self._val_pixels is None:
            return
        entry = results.entry(index)
        classes = results.classes
        probabilities = dict(zip(classes, results.probabilities[index], strict=True))
        true = classes[entry.true]
        pixels = self._val_pixels[index]
        self.query_one(PicturePanel).show(
            pixels, f"validation #{index}", probabilities, true=true, note=f"loss {entry.loss:.3f}"
        )
        self.session.picked_image = PickedImage(pixels, f"validation #{index} ({true})", None, true)
