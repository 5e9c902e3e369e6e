"""What the model looked at: `g` covers the picked image's large picture with a Grad-CAM
heat map (saliency for a model without convolutions: core/explain.py chooses) for the
class it predicts; `n` shows it for the next class instead. Computed in a thread worker
through the session's `tricking`; a result for an image or class no longer asked for is
dropped."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from cnn_tui.tui.errors import describe
from cnn_tui.tui.screens.predict.base import PredictBase
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.widgets.picture import PicturePanel, ProbabilityBars, top_class
from textual import on

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from cnn_tui.tui.session.tricking import Look
    from cnn_tui.tui.state import CurrentModel


class LookView(PredictBase):
    """The overlay's side of the Predict screen (PredictScreen derives from it)."""

    def __init__(self) -> None:
        super().__init__()
        self.looking = False
        self.look_class: str | None = None  # None: the class the image is predicted as
        self._look_asked = 0  # counts requests: only the last one's answer is drawn

    def action_look(self) -> None:
        self.looking = not self.looking
        self.look_class = None
        self.refresh_bindings()  # n comes and goes with the overlay
        if self.looking:
            self._ask_look()
        else:
            self._look_asked += 1  # one on its way is not drawn
            self.query_one(PicturePanel).cover(None)

    def action_look_class(self) -> None:
        """The next class of the model's (after the last, the first again)."""
        probabilities = self.query_one(ProbabilityBars).probabilities
        if not self.looking or not probabilities:
            return
        classes = list(probabilities)
        shown = self.look_class or top_class(probabilities)
        self.look_class = classes[(classes.index(shown) + 1) % len(classes)]
        self._ask_look()

    @on(PicturePanel.Shown)
    def _picture_changed(self) -> None:
        """Another image: its overlay, for the class it is predicted as."""
        self.look_class = None
        if self.looking:
            self._ask_look()

    def _ask_look(self) -> None:
        panel = self.query_one(PicturePanel)
        current = self.session.current_model
        self._look_asked += 1
        if panel.pixels is None or current is None or self.session.engine_state != "ready":
            return
        what = self.look_class or "the predicted class"
        panel.cover(None, f"what it looked at for {what}: computing...")
        self.run_worker(
            partial(self._look_job, self._look_asked, current, panel.pixels, self.look_class),
            thread=True,
            group="look",
            exit_on_error=False,
        )

    def _look_job(
        self,
        asked: int,
        current: CurrentModel,
        pixels: npt.NDArray[np.uint8],
        label: str | None,
    ) -> None:
        try:
            look = self.session.tricking.explain(current, pixels, label)
        except SessionError as error:
            self._from_thread(self._looked_failed, asked, str(error))
            return
        except Exception as error:  # one line in the caption; the app carries on
            self._from_thread(self._looked_failed, asked, describe(error))
            return
        self._from_thread(self._looked, asked, pixels, look)

    def _looked(self, asked: int, pixels: npt.NDArray[np.uint8], look: Look) -> None:
        panel = self.query_one(PicturePanel)
        if asked != self._look_asked or panel.pixels is not pixels:
            return  # a newer image or class was asked for meanwhile
        panel.cover(look.picture, f"{look.method} for {look.label} (red: counts most)")

    def _looked_failed(self, asked: int, reason: str) -> None:
        if asked == self._look_asked:
            self.query_one(PicturePanel).cover(None)
            self.notify(f"cannot show what it looked at: {reason}", severity="error")
