"""Picking a file or folder from the keyboard: a directory tree that shows only what fits,
and a dialog around it where a path can also be typed.

Used by the Model screen (weights files to load, a place to save) and the Predict screen
(image files, folders to classify).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from cnn_tui.core.images import IMAGE_SUFFIXES
from cnn_tui.core.safe_files import FileRefused, is_regular, regular_stat
from cnn_tui.tui.screens.mounting import DismissOnce
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Input, Static


def is_image(path: Path) -> bool:
    """An image file by its suffix (the ones core reads)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


class FilteredTree(DirectoryTree):
    """A DirectoryTree that lists folders and the files `accept` says yes to (no hidden ones)."""

    def __init__(
        self,
        path: str | Path,
        accept: Callable[[Path], bool] | None = None,
        *,
        folders_only: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(path, id=id)
        self.accept = accept or (lambda _: True)
        self.folders_only = folders_only

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        shown = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                is_dir = path.is_dir()
            except OSError:
                continue
            if is_dir or (not self.folders_only and self.accept(path) and is_regular(path)):
                shown.append(path)
        return shown


class FilePickerScreen(DismissOnce, ModalScreen[Path | None]):
    """A file (or folder) dialog: browse the tree with the arrows, or type a path.

    mode "open": dismisses with an existing file that `accept` allows; "save": with a file
    path in an existing folder (it may exist; the caller asks before overwriting);
    "folder": with an existing folder. Escape dismisses with None.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+u", "up", "Up a folder"),
        Binding("ctrl+o", "submit", "Choose"),
    ]

    def __init__(
        self,
        title: str,
        start: str | Path,
        *,
        mode: str = "open",
        accept: Callable[[Path], bool] | None = None,
        what: str = "file",
        initial: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.mode = mode
        self.accept = accept or (lambda _: True)
        self.what = what
        start = Path(start).expanduser()
        self.start = start if start.is_dir() else Path.cwd()
        self.initial = initial or str(self.start) + "/"
        self._typing = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static(self.title_text, id="picker-title")
            yield Input(
                self.initial,
                id="picker-path",
                placeholder="type a path, Enter",
                compact=True,
                select_on_focus=False,  # typing from the tree moves here; keep what it typed
            )
            yield Static("", id="picker-error")
            yield FilteredTree(
                self.start, self.accept, folders_only=self.mode == "folder", id="picker-tree"
            )
            yield Static(
                "arrows browse · Enter picks · or type a path and Enter · "
                "ctrl+u up a folder · Esc cancels",
                id="picker-help",
            )
        yield Footer()

    def on_mount(self) -> None:
        # (none when the dialog was dismissed before it mounted: a key on its way closed it)
        for tree in self.query("#picker-tree").results(FilteredTree):
            tree.focus()

    def on_key(self, event: events.Key) -> None:
        """Typing while the tree has focus goes to the path field (arrows stay with the tree)."""
        boxes = list(self.query("#picker-path").results(Input))  # none once dismissed
        if not boxes:
            return
        box = boxes[0]
        if self.focused is box or not event.is_printable or event.character in (None, " "):
            return
        event.stop()
        event.prevent_default()
        starts = not self._typing and event.character in "/~."
        self._typing = True  # keys already on their way to the tree keep appending
        box.focus()
        box.value = event.character if starts else box.value + event.character
        box.cursor_position = len(box.value)

    @on(events.DescendantFocus, "#picker-tree")
    def _tree_focused(self) -> None:
        self._typing = False

    # -- the tree fills in the path -----------------------------------------------------

    @on(DirectoryTree.FileSelected, "#picker-tree")
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#picker-path", Input).value = str(event.path)
        self._try(event.path)

    @on(DirectoryTree.DirectorySelected, "#picker-tree")
    def _dir_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        box = self.query_one("#picker-path", Input)
        if self.mode == "save":
            name = Path(box.value).name if box.value and not box.value.endswith("/") else ""
            box.value = str(event.path / name) if name else str(event.path) + "/"
        else:
            box.value = str(event.path) + ("" if self.mode == "folder" else "/")

    @on(Input.Submitted, "#picker-path")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        text = self.query_one("#picker-path", Input).value.strip()
        if not text:
            self._error(f"type a {self.what} path")
            return
        self._try(Path(text).expanduser().absolute())  # relative to the current folder

    def action_up(self) -> None:
        tree = self.query_one("#picker-tree", FilteredTree)
        parent = Path(tree.path).parent
        tree.path = parent
        self.query_one("#picker-path", Input).value = str(parent) + "/"

    def action_cancel(self) -> None:
        self.dismiss(None)

    # -- checks before dismissing -------------------------------------------------------

    def _try(self, path: Path) -> None:
        if self.mode == "folder":
            if path.is_dir():
                self.dismiss(path)
            else:
                self._error(f"{path}: no such folder")
            return
        if path.is_dir():
            # a typed folder: browse it instead
            self.query_one("#picker-tree", FilteredTree).path = path
            self._error("")
            return
        if self.mode == "save":
            if not path.parent.is_dir():
                self._error(f"the folder {path.parent} does not exist")
                return
            self.dismiss(path)
            return
        try:
            regular_stat(path)  # a named pipe or a device would hang whoever reads it
        except FileRefused as error:
            self._error(f"{path}: {error}")
        else:
            self.dismiss(path)  # a typed name need not pass the tree's filter

    def _error(self, message: str) -> None:
        self.query_one("#picker-error", Static).update(Text(message))  # a typed path: no markup
