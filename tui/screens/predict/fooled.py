"""The Predict screen's Fooled tab: the second half of the chapter's second exercise ("find
a picture of neither that it calls one with more than 95%").

From the validation images of the classes the current weights do not know (CIFAR-10's
other eight, for the book's airplane-or-bird weights), those they call one of their own
with at least a threshold, surest first (core/fooled.py, `cnn-tui fooled`). The search
runs once per weights file in a thread worker through the session's `predicting`, at the
lowest threshold; `t` steps through the thresholds by filtering what was found. The
highlighted row's picture is shown large and becomes the picked image. Where the data hold
no other class (the bundled sample is CIFAR-2 only), the tab says why and how to get them.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from cnn_tui.tui.errors import describe
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.screens.predict.base import PredictBase
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.predicting import ModelKey, model_key
from cnn_tui.tui.state import PickedImage
from cnn_tui.tui.widgets.picture import PicturePanel
from cnn_tui.tui.widgets.prediction_tables import row_key
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.events import Mount, ScreenResume
from textual.widgets import DataTable, Static, TabbedContent, TabPane

if TYPE_CHECKING:
    from cnn_tui.core.fooled import Fooling
    from cnn_tui.tui.session.predicting import Fooled
    from cnn_tui.tui.state import CurrentModel

FOOLED_TAB = "fooled"
MINIMUMS = (0.90, 0.95, 0.99)  # the thresholds t steps through
DEFAULT_MINIMUM = 0.95  # the exercise's


class FooledPane(TabPane):
    """The tab's widgets: a line saying what was found, and the table."""

    def compose(self) -> ComposeResult:
        yield Static("", id="fooled-status")
        yield Static("", id="fooled-data")
        yield DataTable(id="fooled-table", cursor_type="row")

    def on_mount(self) -> None:
        for column in ("#", "true", "read as", "probability"):
            self.query_one("#fooled-table", DataTable).add_column(column, key=column)


class FooledView(PredictBase):
    """The Fooled tab's side of the Predict screen (PredictScreen derives from it)."""

    def __init__(self) -> None:
        super().__init__()
        self.fooled: Fooled | None = None  # what the last search found
        self.fooled_min = DEFAULT_MINIMUM
        self._fooled_key: ModelKey | None = None  # the weights searched, or being searched
        self._fooled_failed = ""
        self._fooled_places: dict[int, int] = {}  # an image's index -> its place in fooled

    def fooled_shown(self) -> list[Fooling]:
        """The rows of the tab: what was found with at least the threshold."""
        found = self.fooled.search.found if self.fooled is not None else []
        return [f for f in found if f.probability >= self.fooled_min]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fooled_min":
            return self._active(FOOLED_TAB)  # t shows in the footer on the Fooled tab
        return super().check_action(action, parameters)

    def action_fooled_min(self) -> None:
        """The next threshold (after the last, the first again)."""
        position = MINIMUMS.index(self.fooled_min) if self.fooled_min in MINIMUMS else -1
        self.fooled_min = MINIMUMS[(position + 1) % len(MINIMUMS)]
        self._fill_fooled()

    @on(TabbedContent.TabActivated, "#predict-tabs")
    def _fooled_tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()  # t is the Fooled tab's
        if event.pane.id == FOOLED_TAB:
            self._search_fooled()
            self._show_fooled_row()

    @on(Mount)
    def _fooled_mounted(self) -> None:
        self.session.current_model_changed.subscribe(self, self._fooled_model_changed)

    def _fooled_model_changed(self, current: CurrentModel) -> None:
        if not closed_before_mounting(self) and self._active(FOOLED_TAB):
            self._search_fooled()  # else when the tab is next shown

    @on(ScreenResume)
    def _fooled_resumed(self) -> None:
        # (a screen closed as it opens still hears ScreenResume, its tabs already gone:
        # clean-clone CI, test_a_screen_closed_as_it_opens[predict])
        if not closed_before_mounting(self) and self._active(FOOLED_TAB):
            self._search_fooled()  # the weights may have changed on another screen

    def _search_fooled(self) -> None:
        """Search with the current weights, once per weights file (as it is)."""
        current = self.session.current_model
        if current is None or self.session.engine_state != "ready":
            self._fooled_status("no current weights yet: load some on the Model screen (2)")
            return
        key = model_key(current)
        if key == self._fooled_key:
            return
        self._fooled_key = key
        self.fooled = None
        self._fooled_failed = ""
        self._fill_fooled()
        self._fooled_status(
            f"looking through the other classes' validation images with {current.label}..."
        )
        self.run_worker(
            partial(self._fooled_job, current, key),
            thread=True,
            group="fooled",
            exclusive=True,
            exit_on_error=False,
        )

    def _fooled_job(self, current: CurrentModel, key: ModelKey) -> None:
        try:
            fooled = self.session.predicting.fooled(current, min(MINIMUMS))
        except SessionError as error:
            self._from_thread(self._fooled_done, key, None, str(error))
            return
        except Exception as error:  # one line in the tab; the app carries on
            self._from_thread(self._fooled_done, key, None, describe(error))
            return
        self._from_thread(self._fooled_done, key, fooled, "")

    def _fooled_done(self, key: ModelKey, fooled: Fooled | None, failed: str) -> None:
        if key != self._fooled_key:
            return  # for weights no longer current
        self.fooled = fooled
        self._fooled_failed = failed
        found = fooled.search.found if fooled is not None else []
        self._fooled_places = {f.index: place for place, f in enumerate(found)}
        self._fill_fooled()

    def _fooled_status(self, message: str, level: str = "info") -> None:
        line = self.query_one("#fooled-status", Static)
        line.update(Text(message))
        line.set_class(level == "error", "-error")

    def _fill_fooled(self) -> None:
        table = self.query_one("#fooled-table", DataTable)
        table.clear()
        table.display = self.query_one("#fooled-data").display = not self._fooled_failed
        if self._fooled_failed:
            self._fooled_status(self._fooled_failed, "error")
            return
        if self.fooled is None:
            return
        shown = self.fooled_shown()
        for found in shown:
            table.add_row(
                Text(str(found.index), justify="right"),
                found.true_class,
                found.label,
                Text(f"{found.probability:.6f}", justify="right"),
                key=str(found.index),
            )
        self._fooled_status(self._fooled_summary(self.fooled, shown))
        self.query_one("#fooled-data", Static).update(Text(f"data: {self.fooled.data}"))
        if shown and self._active(FOOLED_TAB):
            table.move_cursor(row=0)
            self._show_fooled(shown[0])

    def _fooled_summary(self, fooled: Fooled, shown: list[Fooling]) -> str:
        """How many of how many read as each class, the threshold, and the data."""
        search = fooled.search
        counts = ", ".join(f"{sum(f.label == c for f in shown):,} {c}" for c in fooled.classes)
        return (
            f"{len(shown):,} of {search.looked_at:,} images of the {len(search.other_classes)} "
            f"other classes read ≥ {self.fooled_min:.0%}: {counts}; t: threshold"
        )

    @on(DataTable.RowHighlighted, "#fooled-table")
    def _fooled_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._active(FOOLED_TAB) and row_key(event) is not None:
            self._show_fooled_row()

    def _show_fooled_row(self) -> None:
        table = self.query_one("#fooled-table", DataTable)
        shown = self.fooled_shown()
        if table.row_count and 0 <= table.cursor_row < len(shown):
            self._show_fooled(shown[table.cursor_row])

    def _show_fooled(self, found: Fooling) -> None:
        """The picture large with every class's probability, and it becomes the picked one."""
        fooled = self.fooled
        if fooled is None or fooled.probabilities is None:
            return
        place = self._fooled_places[found.index]
        pixels = fooled.pixels[place]
        probabilities = dict(zip(fooled.classes, fooled.probabilities[place].tolist(), strict=True))
        title = f"validation #{found.index} ({found.true_class})"
        self.query_one(PicturePanel).show(
            pixels, title, probabilities, true=found.true_class, note="a class it does not know"
        )
        self.session.picked_image = PickedImage(pixels, title, None, found.true_class)
