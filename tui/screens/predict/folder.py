"""The Predict screen's Folder tab, its keys' side: pick a folder, stop it, and show the
highlighted row's file large. The tab itself (a thread worker adding rows as they come) is
tui/widgets/folder_pane.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.screens.predict.files import FilesView
from cnn_tui.tui.widgets.file_picker import FilePickerScreen, FilteredTree
from cnn_tui.tui.widgets.folder_pane import FolderPane, FolderState
from cnn_tui.tui.widgets.prediction_tables import row_key
from textual import on
from textual.widgets import DataTable, TabbedContent

if TYPE_CHECKING:
    from cnn_tui.core.predict import FileAnswer


class FolderView(FilesView):
    """A whole folder classified (PredictScreen derives from it)."""

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
