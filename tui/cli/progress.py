"""The spinner shown while a data set loads, with a byte count only once a download has
begun. Imported only on a terminal (rich loads only there: see output.py)."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TransferSpeedColumn,
)
from rich.text import Text


class WhileDownloading(ProgressColumn):
    """Another column, drawn only once bytes have come or a size is known: loading from
    disk has neither, and a byte column would read `0/? bytes ?` for the whole load."""

    def __init__(self, column: ProgressColumn) -> None:
        super().__init__()
        self.column = column

    def render(self, task: Task) -> RenderableType:
        if task.total is None and not task.completed:
            return Text("")
        return self.column.render(task)


def loading_progress(console: Console) -> Progress:
    """A transient spinner and description; a bar, bytes and speed while downloading."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        WhileDownloading(BarColumn()),
        WhileDownloading(DownloadColumn()),
        WhileDownloading(TransferSpeedColumn()),
        console=console,
        transient=True,
    )
