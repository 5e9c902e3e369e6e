"""The Model screen's Lab view: the Net family member typed in its fields, measured.

The fields (tui/widgets/model_lab.py) post each architecture they describe; this part of
the screen has the session measure it in a thread worker once the engine (torch) is
loaded, keeps what it measured, and hands the Train form the architecture on `t`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from cnn_tui.tui.errors import describe
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.widgets.model_lab import ModelLab
from textual import on
from textual.widgets import TabbedContent

if TYPE_CHECKING:
    from cnn_tui.core.architecture import Architecture
    from cnn_tui.tui.session.models import LabTable

LAB_TAB = "lab"


class LabView(AppScreen):
    """The Lab's side of the Model screen (ModelScreen derives from it)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lab_tables: dict[Architecture, LabTable] = {}
        self._lab_asked: Architecture | None = None  # measured now, or being measured

    @property
    def lab(self) -> ModelLab:
        return self.query_one(ModelLab)

    def lab_shown(self) -> bool:
        return self.query_one(TabbedContent).active == LAB_TAB

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "train_lab":
            return self.lab_shown()  # t shows in the footer on the Lab view only
        return True

    @on(ModelLab.Changed)
    def _lab_changed(self, event: ModelLab.Changed) -> None:
        self.measure_lab()

    def measure_lab(self) -> None:
        """Have the fields' architecture measured (once each), when the engine is ready."""
        architecture = self.lab.architecture
        if architecture is None or architecture == self._lab_asked:
            return
        if architecture in self._lab_tables:
            self._lab_asked = architecture
            self.lab.show(self._lab_tables[architecture])
            return
        if self.session.engine_state == "failed":
            self.lab.waiting("the engine could not be loaded: nothing can be measured")
            return
        if self.session.engine_state != "ready":
            self.lab.waiting("waiting for the engine (torch is being imported)...")
            return
        self._lab_asked = architecture
        self.lab.waiting(f"measuring {architecture.describe()}...")
        self.run_worker(
            partial(self._lab_job, architecture),
            thread=True,
            group="lab",
            exclusive=True,
            exit_on_error=False,
        )

    def _lab_job(self, architecture: Architecture) -> None:
        try:
            measured = self.session.models.lab_table(architecture)
        except Exception as error:  # said in the Lab; the app carries on
            self._from_thread(self._lab_failed, architecture, describe(error))
            return
        self._from_thread(self._lab_done, measured)

    def _lab_done(self, measured: LabTable) -> None:
        self._lab_tables[measured.architecture] = measured
        self.lab.show(measured)

    def _lab_failed(self, architecture: Architecture, reason: str) -> None:
        self._lab_asked = None
        if architecture == self.lab.architecture:
            self.lab.waiting(f"cannot measure {architecture.describe()}: {reason}")

    def action_train_lab(self) -> None:
        """Put the Lab's architecture into the Train form and show it."""
        architecture = self.lab.architecture
        if not self.lab_shown():
            return
        if architecture is None:
            self.notify("A value is refused: the reason is beside its field.", severity="error")
            return
        self.session.choose_architecture(architecture)
        self.app.switch_mode("train")
