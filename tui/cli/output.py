"""The command line's console output: rich on a terminal, plain lines otherwise, JSON for
machines (the formats are stable; see README, "Command line").

Every error is one line on stderr, `cnn-tui: error: <reason>`, with exit status 2 for a
usage error, 1 for a failure and 130 when Ctrl-C or SIGTERM stopped a run. rich loads only
when stdout is a terminal.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

PROG = "cnn-tui"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad command line or option value: exit status 2."""


class CliFailure(Exception):
    """The command could not do its job: exit status 1."""


def finite_or_null(data: Any) -> Any:
    """data with every NaN or infinite float (in dicts, lists and tuples) made None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite_or_null(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_or_null(value) for value in data]
    return data


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 epoch", "3 epochs", "1,200 images": the count and the word it agrees with."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def print_error(message: object) -> None:
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr, flush=True)


class Output:
    """Where a command's human lines, tables, warnings and JSON go."""

    def __init__(self, json_mode: bool = False, console: Console | None = None) -> None:
        """console: draw on this one instead of the terminal's (tests: a fixed width)."""
        self.json = json_mode
        self.tty = (not json_mode) and (console is not None or sys.stdout.isatty())
        self.console = None
        if self.tty:
            from rich.console import Console

            self.console = console or Console(highlight=False)
        self._err_on_console = self.tty and sys.stderr.isatty()

    @property
    def width(self) -> int | None:
        """The terminal's width in columns; None in a pipe or JSON (lines are not cut)."""
        return self.console.width if self.console is not None else None

    def line(self, text: str, style: str | None = None) -> None:
        """A human line on stdout (nothing in JSON mode)."""
        if self.json:
            return
        if self.console is not None:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, flush=True)

    def emit_json(self, data: Any, indent: int | None = None) -> None:
        """Strict JSON: a NaN or infinite number (a diverged run's loss, an overflowing
        model's output) is written as null, never as NaN, which JSON readers refuse."""
        print(json.dumps(finite_or_null(data), indent=indent, allow_nan=False), flush=True)

    def warn(self, message: str) -> None:
        """A warning: stderr (drawn above a live bar when both streams are the terminal)."""
        text = f"{PROG}: warning: {one_line(message)}"
        if self._err_on_console and self.console is not None:
            self.console.print(text, style="yellow", markup=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def log(self, message: str, level: str = "info") -> None:
        """A log line from the core: warnings and errors to stderr, info to humans only."""
        if level in ("warning", "error"):
            self.warn(message)
        elif not self.json:
            self.line(message, style="dim")

    def table(
        self,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[str]],
        title: str | None = None,
    ) -> None:
        """columns: (header, 'left' | 'right'); cells are already formatted."""
        if self.json:
            return
        if self.console is not None:
            from rich.table import Table
            from rich.text import Text

            # Cells hold class and file names: Text, so a name like "[/oops]" is printed
            # as written, not read as Rich markup (a MarkupError, or a mangled name).
            # No borders: two spaces between columns, as the plain form, so a table that
            # fits 80 columns in a pipe fits them on a terminal too. The title is a line
            # of its own: as the table's title it was wrapped to the table's width.
            if title:
                self.console.print(Text(title))
            table = Table(header_style="bold", box=None, pad_edge=False)
            for header, justify in columns:
                table.add_column(Text(header), justify=justify)  # type: ignore[arg-type]
            for row in rows:
                table.add_row(*(Text(cell) for cell in row))
            self.console.print(table)
            return
        if title:
            print(title)
        widths = [
            max([len(header)] + [len(row[i]) for row in rows])
            for i, (header, _) in enumerate(columns)
        ]

        def render(cells: Sequence[str]) -> str:
            parts = [
                cell.rjust(width) if justify == "right" else cell.ljust(width)
                for cell, width, (_, justify) in zip(cells, widths, columns, strict=True)
            ]
            return "  ".join(parts).rstrip()

        print(render([header for header, _ in columns]))
        for row in rows:
            print(render(row))
        sys.stdout.flush()


def duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def quiet_warnings() -> None:
    """Library warnings as one line each, without source lines, so stderr stays readable."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr, flush=True)

    warnings.showwarning = show


def warn_sample_weights(out: Output, meta: dict[str, Any] | None) -> None:
    """One line on stderr when the weights were trained on the bundled sample only, whose
    answers a newcomer would otherwise take for the full data set's."""
    from cnn_tui.core.weights import trained_on

    words = trained_on(meta or {})
    if words:
        out.warn(f"weights {words}, not the full data set")


def load_dataset_shown(out: Output, dataset: str, data_dir: str | None, train: bool = True) -> Any:
    """load_dataset with a spinner (and a download bar) on a terminal; train=False for the
    validation split only (core.data.load_dataset)."""
    from cnn_tui.core.data import load_dataset

    if out.console is None:
        announced: list[bool] = []

        def on_download(done: int, total: int) -> None:
            if not announced:
                announced.append(True)
                out.line("downloading CIFAR-10 (about 170 MB) ...")

        return load_dataset(dataset, data_dir, on_log=out.log, on_download=on_download, train=train)

    from cnn_tui.tui.cli.names import relative_name, shorten_left
    from cnn_tui.tui.cli.progress import loading_progress
    from rich.markup import escape

    with loading_progress(out.console) as progress:
        # the folder's end is what tells it apart; a folder name is not markup
        where = shorten_left(relative_name(data_dir), 40) if data_dir else "the data folder"
        task = progress.add_task(f"loading {dataset} from {escape(where)}", total=None)

        def on_download(done: int, total: int) -> None:
            progress.update(task, description="downloading CIFAR-10", completed=done)
            if total:
                progress.update(task, total=total)

        return load_dataset(dataset, data_dir, on_log=out.log, on_download=on_download, train=train)
