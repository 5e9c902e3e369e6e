"""The Predict screen's Files tab: a directory tree of image files (or a typed path); the
highlighted file is classified at once, in a thread worker."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.screens.predict.base import PredictBase
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.state import CurrentModel, PickedImage
from cnn_tui.tui.widgets.file_picker import FilteredTree
from cnn_tui.tui.widgets.picture import PicturePanel, load_textual_image
from textual import on
from textual.events import Paste
from textual.widgets import DirectoryTree, Input, Tree
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from cnn_tui.core.predict import FileAnswer


class FilesView(PredictBase):
    """Single image files, picked in the tree or typed (PredictScreen derives from it)."""

    def action_type_path(self, start: str) -> None:
        """A path typed on the Files tab while the tree has the keys: the first character
        (/, ~ or .) starts it in the path field, where the rest of it goes, rather than
        the letters acting as the screen's keys."""
        field = self.query_one("#file-path", Input)
        field.value = start
        self.set_focus(field)  # (at once: keys already waiting go to the field)
        field.cursor_position = len(field.value)

    @on(Paste)
    async def _path_pasted(self, event: Paste) -> None:
        """A path pasted on the Files tab (a terminal's paste reaches the focused widget,
        here the tree, which has no use for it) goes into the path field and is opened."""
        field = self.query_one("#file-path", Input)
        text = event.text.strip()
        if not self._active("files") or self.focused is field or not text or "\n" in text:
            return
        event.stop()
        field.value = text
        self.set_focus(field)
        field.cursor_position = len(text)
        await field.action_submit()

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
