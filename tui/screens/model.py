"""The Model screen: a network's layers, all networks side by side, and why `net` flattens.

Everything shown is measured by core (torchinfo, a real forward pass, a real caught
error), asked of the session's `models` in thread workers; this screen only lays it out.
Loading and saving weights also run in workers, and a file that does not fit leaves the
current weights as they were.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.core.registry import MODELS
from cnn_tui.core.weights_files import is_weights_file
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.model_compare import COMPARE_COLUMNS, COMPARE_TAB, CompareView
from cnn_tui.tui.screens.model_lab import LAB_TAB, LabView
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.session.errors import SessionError, TargetExists
from cnn_tui.tui.state import CurrentModel, Origin
from cnn_tui.tui.widgets.current_model import weights_text
from cnn_tui.tui.widgets.file_picker import FilePickerScreen
from cnn_tui.tui.widgets.model_lab import ModelLab
from cnn_tui.tui.widgets.model_tables import fill_layers, layer_totals, lesson_texts
from cnn_tui.tui.widgets.nav import NavBar
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import ScreenResume
from textual.widgets import DataTable, Footer, Label, Select, Static, TabbedContent, TabPane

if TYPE_CHECKING:
    from cnn_tui.core.inspection import LayerTable, ShapeLesson

LAYER_COLUMNS = ("name", "type", "output shape", "params", "share", "kernel", "mult-adds", "train")
TAB_KEYS = Binding.Group("Views", compact=True)
WEIGHT_KEYS = Binding.Group("Weights", compact=True)


class ModelScreen(ReportsWorkerErrors, CompareView, LabView):
    """Inspect parameter counts and layer shapes, try the Net with other kernels and widths;
    load and save the current weights."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding(
            "i", "tab('layers')", "Layers", group=TAB_KEYS, tooltip="The picked model's layers"
        ),
        Binding(
            "c", "tab('compare')", "Compare", group=TAB_KEYS, tooltip="All models side by side"
        ),
        Binding("f", "tab('shapes')", "Flatten", group=TAB_KEYS, tooltip="Why net needs flatten"),
        Binding(
            "a",
            f"tab('{LAB_TAB}')",
            "Lab",
            group=TAB_KEYS,
            tooltip="The book's Net with another kernel, widths or activation",
        ),
        Binding(
            "t", "train_lab", "Train", tooltip="Put the Lab's net into the Train form, and go there"
        ),
        Binding("m", "pick_model", "Model", tooltip="Pick a model to inspect"),
        Binding("l", "load", "Load", group=WEIGHT_KEYS, tooltip="Load weights from a file"),
        Binding("b", "book", "Book's", group=WEIGHT_KEYS, tooltip="Load the book's own checkpoint"),
        Binding(
            "s", "save", "Save", group=WEIGHT_KEYS, tooltip="Save the current weights to a file"
        ),
        Binding("u", "use_row", "Use", group=WEIGHT_KEYS, tooltip="Use the compared row's weights"),
        Binding(
            "e",
            "capacity",
            "Flip eps",
            tooltip="Measure how small an attack flips each shipped model (minutes; kept)",
        ),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]
    COMMANDS_HELP = {
        "load": ("Model: load weights", "Load weights from a .pt or .pth file (l)"),
        "book": ("Model: load the book's checkpoint", "The book's birds_vs_airplanes.pt (b)"),
        "save": ("Model: save weights", "Save the current weights to a file, atomically (s)"),
        "pick_model": ("Model: pick a model", "Choose which model's layers to show (m)"),
        "use_row": (
            "Model: use the compared weights",
            "Make the highlighted row's best the current (u)",
        ),
        "capacity": (
            "Model: how easily each shipped model is tricked",
            "The median smallest eps that flips 200 validation images, per model (e)",
        ),
        "train_lab": (
            "Model: train the Lab's net",
            "Put the Lab's kernel, widths and activation into the Train form (t)",
        ),
    }

    def __init__(self) -> None:
        super().__init__(id="model-screen")
        self.picked = "net"
        self._tables: dict[tuple[str, int], LayerTable] = {}
        self._lesson_drawn = False
        self._shown_table: tuple[str, int] | None = None
        self.busy = ""  # what a worker is doing, for the tests and the message line

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield NavBar("model")
        with Horizontal(id="model-bar"):
            yield Label("model", id="model-pick-label")
            yield Select(
                [(name, name) for name in MODELS],
                value="net",
                allow_blank=False,
                compact=True,
                id="model-pick",
            )
            yield Static("", id="model-weights")
        yield Static("", id="model-message")
        with TabbedContent(id="model-tabs", initial="layers"):
            with TabPane("Layers", id="layers"):
                yield DataTable(id="layer-table", cursor_type="row", zebra_stripes=True)
                yield Static("measuring the layers...", id="layer-totals")
            with TabPane("Compare", id=COMPARE_TAB):
                yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="models-note")
                yield Static("", id="capacity-note")
            with TabPane("Why flatten", id="shapes"), VerticalScroll(id="lesson"):
                yield Static("running the book's Sequential...", id="lesson-without")
                yield Static("", id="lesson-with")
            with TabPane("Lab", id=LAB_TAB):
                yield ModelLab(id="lab-view")
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        layers = self.query_one("#layer-table", DataTable)
        for column in LAYER_COLUMNS:
            layers.add_column(column, key=column)
        compare = self.query_one("#models-table", DataTable)
        for column in COMPARE_COLUMNS:
            compare.add_column(column, key=column)
        self.session.current_model_changed.subscribe(self, self._current_changed)
        model = self.session.current_model.meta.get("model") if self.session.current_model else None
        if isinstance(model, str) and model in MODELS:
            self.picked = model
            self.query_one("#model-pick", Select).value = self.picked
        self.sync()
        self._show_layers()

    @on(ScreenResume)
    def _resumed(self) -> None:
        if not closed_before_mounting(self):
            self.sync()

    # -- what the screen shows ----------------------------------------------------------

    @property
    def num_classes(self) -> int:
        current = self.session.current_model
        if current is not None and current.meta.get("model") == self.picked:
            n = current.meta.get("num_classes")
            if isinstance(n, int) and n > 0:
                return n
        return 2

    def sync(self) -> None:
        """Redraw the line about the current weights (the App calls this on changes)."""
        current = self.session.current_model
        if current is None:
            text = Text.assemble(("weights: ", "dim"), "none yet (l loads a file, 1 trains)")
            self.query_one("#model-weights", Static).update(text)
        else:
            self.query_one("#model-weights", Static).update(weights_text(current))
        if self.lab_shown():
            self.measure_lab()  # (it waits for the engine)

    def _current_changed(self, current: CurrentModel) -> None:
        self.sync()
        self.forget_comparison()  # a finished run may have new scores

    @on(Select.Changed, "#model-pick")
    def _picked(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK or event.value == self.picked:
            return
        self.picked = str(event.value)
        self._show_layers()

    @on(TabbedContent.TabActivated, "#model-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id
        if pane == COMPARE_TAB:
            self.show_comparison(self.num_classes)
        elif pane == "shapes" and not self._lesson_drawn:
            self.run_worker(self._lesson_job, thread=True, group="lesson", exit_on_error=False)
        elif pane == LAB_TAB:
            self.measure_lab()
        self.refresh_bindings()  # t is the Lab's

    # -- the layer table ----------------------------------------------------------------

    def _show_layers(self) -> None:
        key = (self.picked, self.num_classes)
        if key in self._tables:
            self._draw_layers(key, self._tables[key])
            return
        self.query_one("#layer-totals", Static).update(f"measuring {self.picked}'s layers...")
        self.run_worker(
            partial(self._layers_job, key),
            thread=True,
            group="layers",
            exclusive=True,
            exit_on_error=False,
        )

    def _layers_job(self, key: tuple[str, int]) -> None:
        try:
            table = self.session.models.layer_table(key[0], key[1])
        except Exception as error:  # said on screen; the app carries on
            self._from_thread(self.say, f"cannot measure {key[0]}: {error}", "error")
            return
        self._from_thread(self._layers_done, key, table)

    def _layers_done(self, key: tuple[str, int], table: LayerTable) -> None:
        self._tables[key] = table
        if key == (self.picked, self.num_classes):
            self._draw_layers(key, table)

    def _draw_layers(self, key: tuple[str, int], table: LayerTable) -> None:
        if self._shown_table == key:
            return
        self._shown_table = key
        fill_layers(self.query_one("#layer-table", DataTable), table)
        current = self.session.current_model
        is_current = current is not None and current.meta.get("model") == key[0]
        self.query_one("#layer-totals", Static).update(layer_totals(key[0], is_current, table))

    # -- all models side by side (the rest is in model_compare.py) ---------------------

    @on(DataTable.RowSelected, "#models-table")
    def _compare_row_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key is None or event.row_key.value is None:
            return  # no row (an empty table)
        name = str(event.row_key.value)
        self.query_one("#model-pick", Select).value = name
        self.query_one(TabbedContent).active = "layers"

    def action_use_row(self) -> None:
        if not self.compare_shown() or not self.comparison:
            self.say("u works on the Compare view (c): it uses the highlighted row's weights")
            return
        view = self.query_one("#models-table", DataTable)
        row = self.comparison[view.cursor_row] if view.row_count else None
        if row is None or row.best is None:
            self.say(f"no trained weights for {row.model if row else 'this row'} yet", "error")
            return
        self._load(row.best.path, origin="shipped" if row.best.origin == "shipped" else "run")

    # -- the shape lesson ---------------------------------------------------------------

    def _lesson_job(self) -> None:
        models = self.session.models
        try:
            one, many = models.shape_lesson(1), models.shape_lesson(64)
        except Exception as error:
            self._from_thread(self.say, f"cannot run the shape lesson: {error}", "error")
            return
        self._from_thread(self._lesson_done, one, many)

    def _lesson_done(self, lesson: ShapeLesson, batch: ShapeLesson) -> None:
        self._lesson_drawn = True
        without, with_flatten = lesson_texts(lesson, batch)
        self.query_one("#lesson-without", Static).update(without)
        self.query_one("#lesson-with", Static).update(with_flatten)

    # -- loading and saving weights -----------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = {
            "layers": "#layer-table",
            "compare": "#models-table",
            "shapes": "#lesson",
            LAB_TAB: "#lab-kernel",
        }[tab]
        self.query_one(target).focus()

    def action_pick_model(self) -> None:
        self.query_one("#model-pick", Select).focus()

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def _start_folder(self) -> Path:
        current = self.session.current_model
        if current is not None and current.origin != "shipped" and current.path.parent.is_dir():
            return current.path.parent
        return Path.cwd()

    def action_load(self) -> None:
        self.app.push_screen(
            FilePickerScreen(
                "Load weights: a .pt or .pth file (a state_dict or a checkpoint)",
                self._start_folder(),
                accept=is_weights_file,
                what="weights file",
            ),
            self._load,
        )

    def action_book(self) -> None:
        from cnn_tui.core.weights_files import BOOK_CHECKPOINT_NAMES

        found = self.session.models.book_checkpoint()
        if found is None:
            self.say(
                f"the book's checkpoint ({' or '.join(BOOK_CHECKPOINT_NAMES)}) is not beside the "
                "data, in the user's data folder or here; l loads it from anywhere",
                "error",
            )
            return
        self._load(found, origin="book")

    def _load(self, path: Path | None, origin: Origin = "file") -> None:
        if path is None:
            return
        if self.session.engine_state != "ready":
            self.say("the engine is still loading (importing torch); try again in a moment")
            return
        self.busy = "load"
        self.say(f"loading {path}...")
        self.run_worker(
            partial(self._load_job, Path(path), origin, self.picked),
            thread=True,
            group="weights",
            exclusive=True,
            exit_on_error=False,
        )

    def _load_job(self, path: Path, origin: Origin, picked: str) -> None:
        try:
            meta = self.session.models.load(path, picked)
        except SessionError as error:
            self._from_thread(self._load_failed, str(error))
            return
        except Exception as error:  # one line, never a traceback
            self._from_thread(self._load_failed, f"{path}: {type(error).__name__}: {error}")
            return
        self._from_thread(self._loaded, path, meta, origin)

    def _load_failed(self, reason: str) -> None:
        self.busy = ""
        self.say(reason + "; the current weights are unchanged", "error")
        self.notify(reason, title="Weights not loaded", severity="error")

    def _loaded(self, path: Path, meta: dict[str, object], origin: Origin) -> None:
        self.busy = ""
        self.session.set_current_model(CurrentModel(path, meta, origin))
        model = meta.get("model", "?")
        self.say(f"loaded {path.name}: {model}, {meta.get('num_classes')} classes", "success")
        if model in MODELS and model != self.picked:
            self.query_one("#model-pick", Select).value = model
        else:
            self._shown_table = None
            self._show_layers()

    def action_save(self) -> None:
        current = self.session.current_model
        if current is None:
            self.say("no current weights to save: load a file (l) or train (1)", "error")
            return
        name = f"{current.meta.get('model', 'weights')}-weights.pt"
        folder = self._start_folder()
        self.app.push_screen(
            FilePickerScreen(
                "Save the current weights to (a .pt file and a .json beside it)",
                folder,
                mode="save",
                accept=is_weights_file,
                what="file name",
                initial=str(folder / name),
            ),
            self._save,
        )

    def _save(self, path: Path | None, overwrite: bool = False) -> None:
        current = self.session.current_model
        if path is None or current is None:
            return
        self.busy = "save"
        self.say(f"saving to {path}...")
        self.run_worker(
            partial(self._save_job, current.path, Path(path), overwrite),
            thread=True,
            group="weights",
            exclusive=True,
            exit_on_error=False,
        )

    def _save_job(self, source: Path, target: Path, overwrite: bool) -> None:
        try:
            written, sidecar = self.session.models.save(source, target, overwrite=overwrite)
        except TargetExists as exists:
            self._from_thread(self._ask_overwrite, target, str(exists))
            return
        except SessionError as error:
            self._from_thread(self._save_failed, str(error))
            return
        self._from_thread(self._saved, written, sidecar)

    def _ask_overwrite(self, target: Path, what: str) -> None:
        self.busy = ""
        self.app.push_screen(
            ConfirmScreen(f"{what}. Replace?", yes="Replace", no="Keep"),
            lambda yes: self._save(target, overwrite=True) if yes else self.say("not saved"),
        )

    def _save_failed(self, reason: str) -> None:
        self.busy = ""
        self.say(reason, "error")
        self.notify(reason, title="Not saved", severity="error")

    def _saved(self, path: Path, sidecar: Path) -> None:
        self.busy = ""
        self.say(f"saved {path} (and {sidecar.name})", "success")
