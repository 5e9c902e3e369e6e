"""The Predict screen: what the current weights make of an image, a folder, the validation set.

- Validation: every validation image with its true label, the prediction and the
  confidence; filters (wrong only, by class, least confident first); arrows browse.
- Files: a directory tree of image files (or a typed path); the highlighted file is
  classified at once.
- Folder: every image of a folder, classified in a thread worker as a stream of rows
  while the rest of the app stays usable.
- Mistakes: the confusion matrix and the most confident mistakes (fastai's top losses).

The picked image is shown large beside its class probabilities (widgets/picture.py) and
kept as the session's `picked_image` for the Explore screen. torch runs only in thread
workers, through the session's `predicting` (one predictor and data set for the app).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.predicting import ModelKey, Validation, model_key
from cnn_tui.tui.state import CurrentModel, PickedImage
from cnn_tui.tui.widgets.current_model import ModelLines
from cnn_tui.tui.widgets.file_picker import FilePickerScreen, FilteredTree, is_image
from cnn_tui.tui.widgets.folder_pane import FolderPane, FolderState
from cnn_tui.tui.widgets.nav import NavBar
from cnn_tui.tui.widgets.picture import PicturePanel, load_textual_image
from cnn_tui.tui.widgets.prediction_tables import (
    ORDER_NAMES,
    add_entries,
    fill_confusion,
    fill_top_losses,
    filters_text,
    row_key,
)
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.events import ScreenResume
from textual.widgets import (
    DataTable,
    DirectoryTree,
    Footer,
    Input,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)
from textual.worker import get_current_worker

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from cnn_tui.core.predict import FileAnswer
    from cnn_tui.core.validation_results import Entry, ValidationResults

TOP_LOSSES = 20
LIST_PAGE = 500  # validation rows added to the table at a time
TAB_KEYS = Binding.Group("Views", compact=True)
FILTER_KEYS = Binding.Group("Filters", compact=True)


class PredictScreen(ReportsWorkerErrors, AppScreen):
    """Classify validation images, files and folders with the current weights."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("v", "tab('validation')", "Valid", group=TAB_KEYS, tooltip="The validation set"),
        Binding("f", "tab('files')", "Files", group=TAB_KEYS, tooltip="Image files on disk"),
        Binding("d", "folder", "Folder", group=TAB_KEYS, tooltip="Classify a whole folder"),
        Binding(
            "m", "tab('mistakes')", "Mistakes", group=TAB_KEYS, tooltip="Confusion, top losses"
        ),
        Binding("w", "wrong", "Wrong", group=FILTER_KEYS, tooltip="Wrong predictions only"),
        Binding("c", "next_class", "Class", group=FILTER_KEYS, tooltip="Filter by true class"),
        Binding("o", "next_order", "Order", group=FILTER_KEYS, tooltip="Least confident first"),
        Binding("h", "halfcell", "Half blocks", tooltip="Force half blocks (for tmux, SSH)"),
        Binding("x", "stop_folder", "Stop", tooltip="Stop classifying the folder"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]
    COMMANDS_HELP = {
        "folder": ("Predict: classify a folder", "Every image in a folder, as a table (d)"),
        "wrong": ("Predict: wrong predictions only", "Filter the validation list (w)"),
        "next_class": ("Predict: filter by class", "All classes, then each true class (c)"),
        "next_order": ("Predict: order", "In order, least or most confident first (o)"),
        "halfcell": ("Predict: half blocks", "Draw images with half blocks, not graphics (h)"),
        "stop_folder": ("Predict: stop the folder", "Stop classifying the folder (x)"),
    }

    def __init__(self) -> None:
        super().__init__(id="predict-screen")
        self.results: ValidationResults | None = None  # of the current weights
        self._results_key: ModelKey | None = None
        self._val_pixels: npt.NDArray[np.uint8] | None = None  # (N, 32, 32, 3)
        self.wrong_only = False
        self.true_class: int | None = None
        self.predicted_class: int | None = None
        self.order = "index"
        self._entries: list[Entry] = []  # of the list, filtered and ordered
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
                    )
                    yield FilteredTree(Path.cwd(), is_image, id="file-tree")
                yield FolderPane("Folder", id="folder")
                with TabPane("Mistakes", id="mistakes"):
                    yield Static("", id="confusion-title")
                    yield DataTable(id="confusion-table", cursor_type="cell")
                    yield Static("", id="losses-title")
                    yield DataTable(id="losses-table", cursor_type="row")
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
            self._from_thread(self._validation_failed, key, f"{type(error).__name__}: {error}")
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

    # -- the validation list ------------------------------------------------------------

    def _draw_filters(self) -> None:
        classes = self.results.classes if self.results is not None else []
        true = self.true_class if self.true_class is not None else -1
        predicted = self.predicted_class if self.predicted_class is not None else -1
        shown = "" if self.results is None else f"{len(self._entries)}/{len(self.results)} "
        text = filters_text(shown, self.wrong_only, classes, true, predicted, self.order)
        self.query_one("#val-filters", Static).update(text)

    def _fill_validation(self) -> None:
        table = self.query_one("#val-table", DataTable)
        table.clear()
        self._entries = []
        results = self.results
        if results is None:
            self._draw_filters()
            return
        self._entries = results.select(
            wrong_only=self.wrong_only,
            true_class=self.true_class,
            predicted_class=self.predicted_class,
            order=self.order,
        )
        self._list_more()
        self._draw_filters()
        if self._entries and self._active("validation"):
            table.move_cursor(row=0)
            self._show_entry(self._entries[0].index)

    def _list_more(self) -> None:
        """Add the next page of entries to the table.

        A DataTable measures every new cell, so ten thousand rows at once would hold the
        UI for seconds; pages of LIST_PAGE rows keep each filter change instant, and the
        next page comes as the cursor nears the end.
        """
        table = self.query_one("#val-table", DataTable)
        classes = self.results.classes if self.results is not None else []
        start = table.row_count
        add_entries(table, self._entries[start : start + LIST_PAGE], classes)

    @on(DataTable.RowHighlighted, "#val-table")
    def _val_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if event.cursor_row >= table.row_count - 5 and table.row_count < len(self._entries):
            self._list_more()
        key = row_key(event)
        if self._active("validation") and key is not None:
            self._show_entry(int(key))

    def _active(self, tab: str) -> bool:
        """Whether this tab is shown: only its table's highlight changes the picture."""
        return self.query_one(TabbedContent).active == tab

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

    def action_wrong(self) -> None:
        self.wrong_only = not self.wrong_only
        self._refilter()

    def action_next_class(self) -> None:
        count = len(self.results.classes) if self.results is not None else 0
        if self.true_class is None:
            self.true_class = 0 if count else None
        else:
            self.true_class = self.true_class + 1 if self.true_class + 1 < count else None
        self.predicted_class = None
        self._refilter()

    def action_next_order(self) -> None:
        orders = list(ORDER_NAMES)
        self.order = orders[(orders.index(self.order) + 1) % len(orders)]
        self._refilter()

    def _refilter(self) -> None:
        self.action_tab("validation")
        self._fill_validation()

    # -- the confusion matrix and the most confident mistakes ---------------------------

    def _fill_mistakes(self) -> None:
        results = self.results
        matrix = self.query_one("#confusion-table", DataTable)
        matrix.clear(columns=True)
        losses = self.query_one("#losses-table", DataTable)
        losses.clear()
        if results is None:
            return
        self.query_one("#confusion-title", Static).update(fill_confusion(matrix, results))
        title = fill_top_losses(losses, results, TOP_LOSSES)
        self.query_one("#losses-title", Static).update(title)

    @on(DataTable.CellSelected, "#confusion-table")
    def _cell_chosen(self, event: DataTable.CellSelected) -> None:
        row = event.coordinate.row
        column = event.coordinate.column - 1  # the first column names the true class
        if self.results is None or not (0 <= column < len(self.results.classes)):
            return
        self.true_class, self.predicted_class = row, column
        self.wrong_only = False
        self._refilter()

    @on(DataTable.RowHighlighted, "#losses-table")
    def _loss_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = row_key(event)
        if self._active("mistakes") and key is not None:
            self._show_entry(int(key))

    # -- single files -------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#file-tree")
    def _file_highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        path = getattr(data, "path", None)
        if path is not None and Path(path).is_file():
            self.classify_file(Path(path))

    @on(DirectoryTree.FileSelected, "#file-tree")
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#file-path", Input).value = str(event.path)

    @on(Input.Submitted, "#file-path")
    def _path_typed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser().absolute()  # relative to the current folder
        if path.is_dir():
            self.query_one("#file-tree", FilteredTree).path = path
        else:
            self.classify_file(path)

    def classify_file(self, path: Path) -> None:
        """Classify one file in a worker; a bad file gets its one-line reason on the panel."""
        current = self.session.current_model
        if current is None or self.session.engine_state != "ready":
            self.query_one(PicturePanel).fail(path.name, "no current weights yet (Model screen: l)")
            return
        self.run_worker(
            partial(self._file_job, current, path),
            thread=True,
            group="predict-file",
            exclusive=True,
            exit_on_error=False,
        )

    def _file_job(self, current: CurrentModel, path: Path) -> None:
        load_textual_image()
        try:
            answer = self.session.predicting.classify_file(current, path)
        except SessionError as error:
            self._from_thread(self.query_one(PicturePanel).fail, path.name, str(error))
            return
        if not get_current_worker().is_cancelled:
            self._from_thread(self._show_answer, answer)

    def _show_answer(self, answer: FileAnswer) -> None:
        panel = self.query_one(PicturePanel)
        name = Path(answer.path).name
        if answer.error is not None:
            panel.fail(name, f"{name}: {answer.error}")
            return
        true = self.session.predicting.true_class_of(Path(answer.path))
        panel.show(answer.pixels, name, answer.probabilities, true=true, note=answer.note)
        self.session.picked_image = PickedImage(answer.pixels, name, answer.path, true)

    # -- a whole folder -----------------------------------------------------------------

    @property
    def folder_state(self) -> FolderState:
        panes = self.query(FolderPane)
        return panes.first().state if panes else "idle"

    @property
    def folder_rows(self) -> list[FileAnswer]:
        return self.query_one(FolderPane).rows

    def action_folder(self) -> None:
        self.action_tab("folder")
        pane = self.query_one(FolderPane)
        start = pane.folder or Path(self.query_one("#file-tree", FilteredTree).path)
        self.app.push_screen(
            FilePickerScreen(
                "Classify every image in a folder",
                start,
                mode="folder",
                what="folder",
                initial=str(start),
            ),
            self.classify_folder,
        )

    def classify_folder(self, folder: Path | None) -> None:
        if folder is None:
            return
        pane = self.query_one(FolderPane)
        current = self.session.current_model
        if current is None or self.session.engine_state != "ready":
            pane.say("no current weights yet: load some on the Model screen (2)", "error")
            return
        self.query_one(TabbedContent).active = "folder"
        pane.start(current, Path(folder))

    def action_stop_folder(self) -> None:
        self.query_one(FolderPane).stop()

    @on(DataTable.RowHighlighted, "#folder-table")
    def _folder_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = row_key(event)
        if self._active("folder") and key is not None:
            self.classify_file(Path(key))

    # -- other keys ---------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = {
            "validation": "#val-table",
            "files": "#file-tree",
            "folder": "#folder-table",
            "mistakes": "#losses-table",
        }[tab]
        self.query_one(target).focus()

    def action_halfcell(self) -> None:
        panel = self.query_one(PicturePanel)
        panel.set_halfcell(not panel.force_halfcell)
        self.notify(panel.drawn_with())

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_folder":
            return self.folder_state == "running"
        return True
