"""The Predict screen itself: its keys, its layout, and the validation set scored for the
current weights; each tab's behaviour is its own part of the package, which this class
derives from."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from cnn_tui.tui.errors import describe
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.screens.predict.attack import AttackScreen
from cnn_tui.tui.screens.predict.folder import FolderView
from cnn_tui.tui.screens.predict.fooled import FOOLED_TAB, FooledPane, FooledView
from cnn_tui.tui.screens.predict.looked import LookView
from cnn_tui.tui.screens.predict.mistakes import MistakesView
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.predicting import ModelKey, Validation, model_key
from cnn_tui.tui.state import CurrentModel
from cnn_tui.tui.widgets.current_model import ModelLines
from cnn_tui.tui.widgets.file_picker import FilteredTree, is_image
from cnn_tui.tui.widgets.folder_pane import FolderPane
from cnn_tui.tui.widgets.nav import NavBar
from cnn_tui.tui.widgets.picture import (
    PicturePanel,
    ProbabilityBars,
    load_textual_image,
    top_class,
)
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.events import ScreenResume
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

TAB_KEYS = Binding.Group("Views", compact=True)
FILTER_KEYS = Binding.Group("Filters", compact=True)


TYPE_PATH = "Files: a path typed from /, ~ or . goes into the path field"


class PredictScreen(MistakesView, FolderView, LookView, FooledView):
    """Classify validation images, files and folders with the current weights."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("v", "tab('validation')", "Valid", group=TAB_KEYS, tooltip="The validation set"),
        Binding("f", "tab('files')", "Files", group=TAB_KEYS, tooltip="Image files on disk"),
        Binding("d", "folder", "Folder", group=TAB_KEYS, tooltip="Classify a whole folder"),
        Binding(
            "m", "tab('mistakes')", "Mistakes", group=TAB_KEYS, tooltip="Confusion, top losses"
        ),
        Binding(
            "u",
            f"tab('{FOOLED_TAB}')",
            "Fooled",
            group=TAB_KEYS,
            tooltip="Pictures of classes it does not know that it is sure of",
        ),
        Binding("w", "wrong", "Wrong", group=FILTER_KEYS, tooltip="Wrong predictions only"),
        Binding("c", "next_class", "Class", group=FILTER_KEYS, tooltip="Filter by true class"),
        Binding("o", "next_order", "Order", group=FILTER_KEYS, tooltip="Least confident first"),
        Binding(
            "a",
            "attack",
            "Trick",
            tooltip="Make the picked image read as another class (the attack view)",
        ),
        Binding(
            "g", "look", "Looked at", tooltip="Show or hide what the model looked at (Grad-CAM)"
        ),
        Binding("n", "look_class", "Other class", tooltip="What it looked at for the next class"),
        Binding(
            "t",
            "fooled_min",
            "Threshold",
            tooltip="Fooled pictures read with at least 90, 95 or 99%",
        ),
        Binding("h", "halfcell", "Half blocks", tooltip="Force half blocks (for tmux, SSH)"),
        Binding("x", "stop_folder", "Stop", tooltip="Stop classifying the folder"),
        Binding("escape", "leave_field", "Leave field", show=False),
        # priority: handled as it arrives, so the rest of a path typed in one burst (one
        # read over SSH) follows it into the field rather than to the tree
        *(
            Binding(
                key, f"type_path('{char}')", "Path", show=False, tooltip=TYPE_PATH, priority=True
            )
            for key, char in (("slash", "/"), ("tilde", "~"), ("full_stop", "."))
        ),
    ]
    COMMANDS_HELP = {
        "folder": ("Predict: classify a folder", "Every image in a folder, as a table (d)"),
        "wrong": ("Predict: wrong predictions only", "Filter the validation list (w)"),
        "next_class": ("Predict: filter by class", "All classes, then each true class (c)"),
        "next_order": ("Predict: order", "In order, least or most confident first (o)"),
        "attack": ("Predict: trick the model", "Attack the picked image toward a class (a)"),
        "look": ("Predict: what it looked at", "Grad-CAM over the picked image, on or off (g)"),
        "look_class": ("Predict: looked at for another class", "The next class's Grad-CAM (n)"),
        "fooled_min": ("Predict: fooled threshold", "At least 90, 95 or 99% (t)"),
        "halfcell": ("Predict: half blocks", "Draw images with half blocks, not graphics (h)"),
        "stop_folder": ("Predict: stop the folder", "Stop classifying the folder (x)"),
    }

    def __init__(self) -> None:
        super().__init__()
        self._validating = False

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield NavBar("predict")
        yield ModelLines(id="predict-model")
        with Horizontal(id="predict-body"):
            with TabbedContent(id="predict-tabs", initial="validation"):
                with TabPane("Validation", id="validation"):
                    yield Static("", id="val-status")
                    yield Static("", id="val-filters")
                    yield DataTable(id="val-table", cursor_type="row")
                with TabPane("Files", id="files"):
                    yield Input(
                        placeholder="type an image or folder path, Enter",
                        id="file-path",
                        compact=True,
                        select_on_focus=False,  # (a / typed on the tree starts the path)
                    )
                    yield FilteredTree(Path.cwd(), is_image, id="file-tree")
                yield FolderPane("Folder", id="folder")
                with TabPane("Mistakes", id="mistakes"):
                    yield Static("", id="confusion-title")
                    yield DataTable(id="confusion-table", cursor_type="cell")
                    yield Static("", id="losses-title")
                    yield DataTable(id="losses-table", cursor_type="row")
                yield FooledPane("Fooled", id=FOOLED_TAB)
            with Vertical(id="picture-pane"):
                yield PicturePanel(id="picture")
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        for column in ("#", "true", "predicted", ""):
            self.query_one("#val-table", DataTable).add_column(column, key=column or "ok")
        for column in ("#", "true", "predicted", "loss"):
            self.query_one("#losses-table", DataTable).add_column(column, key=column)
        start = self.session.predicting.files_folder()
        if start != Path.cwd():
            self.query_one("#file-tree", FilteredTree).path = start
        self.session.current_model_changed.subscribe(self, lambda _current: self.sync())
        self._draw_filters()
        self.query_one("#val-table").focus()
        self.sync()

    @on(ScreenResume)
    def _resumed(self) -> None:
        self.sync()

    # -- the current weights and the validation set -------------------------------------

    def sync(self) -> None:
        """Start what the app's state asks for and is not done yet (cheap when nothing is)."""
        if not self.is_current:
            return
        session = self.session
        self.query_one(ModelLines).show(session.current_model, session.engine_state == "loading")
        if session.engine_state == "loading":
            self._status("loading the engine (importing torch)...")
            return
        if session.engine_state == "failed":
            self._status("the engine could not be loaded: nothing can be classified", "error")
            return
        if session.current_model is None:
            self._status("no current weights: load a file on the Model screen (2) or train (1)")
            return
        key = model_key(session.current_model)
        if key != self._results_key and not self._validating:
            self._validating = True
            self._status(f"classifying the validation set with {session.current_model.label}...")
            self.run_worker(
                partial(self._validate_job, session.current_model, key),
                thread=True,
                group="validate",
                exclusive=True,
                exit_on_error=False,
            )

    def _status(self, message: str, level: str = "info") -> None:
        line = self.query_one("#val-status", Static)
        line.update(Text(message))
        line.set_class(level == "error", "-error")

    def _validate_job(self, current: CurrentModel, key: ModelKey) -> None:
        load_textual_image()  # here, off the UI thread, before the first image is drawn
        try:
            validation = self.session.predicting.validate(current)
        except SessionError as error:
            self._from_thread(self._validation_failed, key, str(error))
            return
        except Exception as error:  # one line on screen; the app carries on
            self._from_thread(self._validation_failed, key, describe(error))
            return
        if get_current_worker().is_cancelled:
            return
        self._from_thread(self._validated, key, validation)

    def _validation_failed(self, key: ModelKey, reason: str) -> None:
        self._validating = False
        self._results_key = key  # do not retry the same weights over and over
        self.results = None
        self._status(reason, "error")
        self.query_one("#val-table", DataTable).clear()

    def _validated(self, key: ModelKey, validation: Validation) -> None:
        self._validating = False
        self._results_key = key
        self.results = results = validation.results
        self._val_pixels = validation.pixels
        if self.true_class is not None and self.true_class >= len(results.classes):
            self.true_class = None
        self.predicted_class = None
        note = f" · {validation.note}" if validation.note else ""
        self._status(
            f"accuracy {results.accuracy:.3f} · loss {results.loss:.3f} · "
            f"{results.dataset_name}{note}"
        )
        self._fill_validation()
        self._fill_mistakes()
        current = self.session.current_model
        if current is None or model_key(current) != key:
            self.sync()  # the weights changed while this ran

    @on(TabbedContent.TabActivated, "#predict-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """Show the highlighted row of the tab's table (each tab keeps its own place)."""
        table_id = {
            "validation": "#val-table",
            "mistakes": "#losses-table",
            "folder": "#folder-table",
        }.get(str(event.pane.id))
        if table_id is None:
            return
        table = self.query_one(table_id, DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
            if key is not None and table_id == "#folder-table":
                self.classify_file(Path(key))
            elif key is not None:
                self._show_entry(int(key))

    # -- other keys ---------------------------------------------------------------------

    def action_attack(self) -> None:
        """The attack view on the picked image (the one shown large)."""
        panel = self.query_one(PicturePanel)
        picked = self.session.picked_image
        current = self.session.current_model
        probabilities = self.query_one(ProbabilityBars).probabilities
        if picked is None or panel.pixels is None or not probabilities:
            self.notify("pick an image first: a validation row, a file or a folder row")
            return
        if current is None or self.session.engine_state != "ready":
            self.notify("no current weights yet: load some on the Model screen (2)")
            return
        predicted = top_class(probabilities)
        view = AttackScreen(picked, current, list(probabilities), predicted, panel.force_halfcell)
        self.app.push_screen(view)

    def action_halfcell(self) -> None:
        panel = self.query_one(PicturePanel)
        panel.set_halfcell(not panel.force_halfcell)
        self.notify(panel.drawn_with())

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_folder":
            return self.folder_state == "running"
        if action == "look_class":
            return self.looking
        if action == "type_path":  # a priority key: in a field, it is the field's character
            return self._active("files") and not isinstance(self.focused, Input)
        return super().check_action(action, parameters)
