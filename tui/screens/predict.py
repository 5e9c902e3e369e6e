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

import contextlib
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cnn_tui.core.images import IMAGE_SUFFIXES
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.predicting import ModelKey, Validation, model_key
from cnn_tui.tui.state import CurrentModel, PickedImage
from cnn_tui.tui.widgets.file_picker import FilePickerScreen, FilteredTree
from cnn_tui.tui.widgets.nav import NavBar
from cnn_tui.tui.widgets.picture import PicturePanel, load_textual_image
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
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
    from cnn_tui.core.gallery import Entry, ValidationResults
    from cnn_tui.core.predict import FileAnswer

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}
ORDER_NAMES = {
    "index": "in order",
    "least-confident": "least sure first",
    "most-confident": "most sure first",
}
TOP_LOSSES = 20
FolderState = Literal["idle", "running", "stopped", "done", "failed"]
LIST_PAGE = 500  # validation rows added to the table at a time
TAB_KEYS = Binding.Group("Views", compact=True)
FILTER_KEYS = Binding.Group("Filters", compact=True)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


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
        self.folder_rows: list[FileAnswer] = []  # as they came
        self.folder: Path | None = None
        self.folder_state: FolderState = "idle"
        self._validating = False

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield NavBar("predict")
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
                    yield FilteredTree(Path.cwd(), _is_image, id="file-tree")
                with TabPane("Folder", id="folder"):
                    yield Static("d picks a folder to classify", id="folder-status")
                    yield DataTable(id="folder-table", cursor_type="row")
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
        for column in ("#", "true", "predicted", "conf", ""):
            self.query_one("#val-table", DataTable).add_column(column, key=column or "ok")
        for column in ("file", "class", "conf"):
            self.query_one("#folder-table", DataTable).add_column(column, key=column)
        for column in ("#", "true", "predicted", "conf", "loss"):
            self.query_one("#losses-table", DataTable).add_column(column, key=column)
        start = self._start_folder()
        if start != Path.cwd():
            self.query_one("#file-tree", FilteredTree).path = start
        self.session.current_model_changed.subscribe(self, self._current_changed)
        self._draw_filters()
        self.query_one("#val-table").focus()
        self.sync()

    @on(ScreenResume)
    def _resumed(self) -> None:
        self.sync()

    def _start_folder(self) -> Path:
        """The Files tab starts in the data's validation folder if there is one."""
        data = self.session.options.data
        if data:
            root = Path(data).expanduser()
            for name in ("test", "val", "valid", "validation"):
                if (root / name).is_dir():
                    return root / name
            if root.is_dir():
                return root
        return Path.cwd()

    # -- the current weights and the validation set -------------------------------------

    def _model_key(self) -> ModelKey | None:
        current = self.session.current_model
        return None if current is None else model_key(current)

    def sync(self) -> None:
        """Start what the app's state asks for and is not done yet (cheap when nothing is)."""
        if not self.is_current:
            return
        session = self.session
        if session.engine_state == "loading":
            self._status("loading the engine (importing torch)...")
            return
        if session.engine_state == "failed":
            self._status("the engine could not be loaded: nothing can be classified", "error")
            return
        if session.current_model is None:
            self._status("no current weights: load a file on the Model screen (2) or train (1)")
            return
        key = self._model_key()
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

    def _current_changed(self, current: CurrentModel) -> None:
        self.sync()

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
        if self._model_key() != key:
            self.sync()  # the weights changed while this ran

    # -- the validation list ------------------------------------------------------------

    def _draw_filters(self) -> None:
        parts = ["wrong" if self.wrong_only else "all"]
        classes = self.results.classes if self.results is not None else []
        if self.true_class is not None and self.true_class < len(classes):
            parts.append(f"true {classes[self.true_class]}")
        else:
            parts.append("all classes")
        if self.predicted_class is not None and self.predicted_class < len(classes):
            parts.append(f"predicted {classes[self.predicted_class]}")
        parts.append(ORDER_NAMES[self.order])
        shown = ""
        if self.results is not None:
            shown = f"{len(self._entries)}/{len(self.results)} "
        self.query_one("#val-filters", Static).update(
            Text.assemble((shown, "bold"), " · ".join(parts))
        )

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
        for entry in self._entries[start : start + LIST_PAGE]:
            ok = Text("✓", style="green") if entry.correct else Text("✗", style="bold red")
            table.add_row(
                Text(str(entry.index), justify="right"),
                Text(classes[entry.true]),  # class names as written: no markup
                Text(classes[entry.predicted]),
                Text(f"{entry.confidence:.1%}", justify="right"),
                ok,
                key=str(entry.index),
            )

    @on(DataTable.RowHighlighted, "#val-table")
    def _val_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if event.cursor_row >= table.row_count - 5 and table.row_count < len(self._entries):
            self._list_more()
        key = _row_key(event)
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
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
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
        classes = results.classes
        short = [name[:6] for name in classes]
        matrix.add_column("true \\ predicted", key="true")
        for index, name in enumerate(short):
            matrix.add_column(Text(name), key=str(index))
        matrix.add_column("recall", key="recall")
        recalls = results.per_class_accuracy()
        for row_index, row in enumerate(results.confusion):
            cells = []
            for col_index, count in enumerate(row):
                style = "bold green" if row_index == col_index else ("red" if count else "dim")
                cells.append(Text(str(count), style=style, justify="right"))
            recall = recalls[row_index]
            cells.append(Text("-" if recall is None else f"{recall:.1%}", justify="right"))
            matrix.add_row(Text(classes[row_index]), *cells, key=str(row_index))
        self.query_one("#confusion-title", Static).update(
            Text.assemble(
                ("Confusion matrix", "bold"),
                f" (rows: true class) · accuracy {results.accuracy:.3f}",
                (" · Enter on a cell lists its images", "dim"),
            )
        )
        top = results.top_losses(TOP_LOSSES)
        for entry in top:
            losses.add_row(
                Text(str(entry.index), justify="right"),
                Text(classes[entry.true]),  # class names as written: no markup
                Text(classes[entry.predicted]),
                Text(f"{entry.confidence:.1%}", justify="right"),
                Text(f"{entry.loss:.2f}", justify="right"),
                key=str(entry.index),
            )
        wrong = sum(1 for t, p in zip(results.labels, results.predictions, strict=True) if t != p)
        self.query_one("#losses-title", Static).update(
            Text.assemble(
                ("Most confident mistakes", "bold"),
                f" ({len(top)} of {wrong} wrong; highest loss first)",
            )
        )

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
        key = _row_key(event)
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
        true = self._true_class_of(Path(answer.path))
        panel.show(answer.pixels, name, answer.probabilities, true=true, note=answer.note)
        self.session.picked_image = PickedImage(answer.pixels, name, answer.path, true)

    def _true_class_of(self, path: Path) -> str | None:
        """A file under a folder named after a class (train/bird/0001.jpg) is that class."""
        classes = self.session.predicting.classes
        return path.parent.name if path.parent.name in classes else None

    # -- a whole folder -----------------------------------------------------------------

    def action_folder(self) -> None:
        self.action_tab("folder")
        start = self.folder or Path(self.query_one("#file-tree", FilteredTree).path)
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
        current = self.session.current_model
        if current is None or self.session.engine_state != "ready":
            self._folder_status(
                "no current weights yet: load some on the Model screen (2)", "error"
            )
            return
        self.query_one(TabbedContent).active = "folder"
        self.folder = Path(folder)
        self.folder_rows = []
        self.folder_state = "running"
        self.refresh_bindings()
        self.query_one("#folder-table", DataTable).clear()
        self._folder_status(f"{self.folder.name}/: reading the folder...")
        self.run_worker(
            partial(self._folder_job, current, Path(folder)),
            thread=True,
            group="predict-folder",
            exclusive=True,
            exit_on_error=False,
        )

    def _folder_job(self, current: CurrentModel, folder: Path) -> None:
        worker = get_current_worker()
        try:
            total, answers = self.session.predicting.classify_folder(current, folder)
            batch: list[FileAnswer] = []
            sent = time.monotonic()
            for answer in answers:
                if worker.is_cancelled:
                    return
                batch.append(answer)
                # rows go to the screen in small groups: often enough to watch them come,
                # not so often that the UI thread does nothing else
                if len(batch) >= 32 or time.monotonic() - sent > 0.1:
                    self._from_thread(self._folder_rows, batch, total)
                    batch, sent = [], time.monotonic()
            self._from_thread(self._folder_rows, batch, total)
        except SessionError as error:
            self._from_thread(self._folder_failed, str(error))
            return
        if not worker.is_cancelled:
            self._from_thread(self._folder_done, total)

    def _folder_rows(self, answers: list[FileAnswer], total: int) -> None:
        if self.folder_state != "running":
            return
        table = self.query_one("#folder-table", DataTable)
        for answer in answers:
            self.folder_rows.append(answer)
            name = Path(answer.path).name
            if answer.error is not None:
                table.add_row(Text(name), Text(answer.error, style="red"), "", key=answer.path)
            else:
                table.add_row(
                    Text(name),  # file and class names as written: no markup
                    Text(answer.label),
                    Text(f"{answer.confidence:.1%}", justify="right"),
                    key=answer.path,
                )
        self._folder_status(f"{self.folder.name}/: {len(self.folder_rows)} of {total}... (x stops)")

    def _folder_done(self, total: int) -> None:
        if self.folder_state != "running":
            return
        self.folder_state = "done"
        self.refresh_bindings()
        bad = sum(1 for a in self.folder_rows if a.error is not None)
        counts: dict[str, int] = {}
        for answer in self.folder_rows:
            if answer.label is not None:
                counts[answer.label] = counts.get(answer.label, 0) + 1
        summary = ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
        if total == 0:
            self._folder_status(f"{self.folder}: no image files here")
            return
        self._folder_status(
            f"{self.folder.name}/ {total}: {summary or 'none classified'}"
            + (f" · {bad} unreadable" if bad else "")
        )

    def _folder_failed(self, reason: str) -> None:
        self.folder_state = "failed"
        self.refresh_bindings()
        self._folder_status(reason, "error")

    def _folder_status(self, message: str, level: str = "info") -> None:
        line = self.query_one("#folder-status", Static)
        line.update(Text(message))
        line.set_class(level == "error", "-error")

    def action_stop_folder(self) -> None:
        if self.folder_state != "running":
            self._folder_status("nothing is being classified")
            return
        self.workers.cancel_group(self, "predict-folder")
        self.folder_state = "stopped"
        self.refresh_bindings()
        done = len(self.folder_rows)
        self._folder_status(f"{self.folder}: stopped after {done} file{'' if done == 1 else 's'}")

    @on(DataTable.RowHighlighted, "#folder-table")
    def _folder_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = _row_key(event)
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
        graphics = {"tgp": "kitty graphics", "sixel": "Sixel graphics"}.get(panel.graphics)
        if panel.force_halfcell:
            message = "Images are drawn with half blocks (h: back to the terminal's best)."
        elif graphics:
            message = f"Images are drawn with {graphics} (h: half blocks, for tmux or SSH)."
        else:
            message = (
                "This terminal gets half blocks anyway; CNN_TUI_GRAPHICS=sixel or tgp "
                "tries graphics."
            )
        self.notify(message)

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_folder":
            return self.folder_state == "running"
        return True

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """Run callback on the UI thread; quietly nothing if the app has gone meanwhile."""
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(callback, *args)


def _row_key(event: DataTable.RowHighlighted) -> str | None:
    """The highlighted row's key; None for "no row" (an empty table highlights row -1,
    with no key)."""
    key = event.row_key.value if event.row_key is not None else None
    return None if key is None else str(key)
