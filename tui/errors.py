"""Unexpected errors in the app: the traceback goes to a log file, the screen gets one line.

Nothing here may raise: it runs while something else has already gone wrong.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from pathlib import Path
from typing import Any

from rich.text import Text

ERROR_LOG = "errors.log"
THREADS_LOG = "threads.log"  # every thread's stack, written on SIGUSR1 (dump_threads_on_signal)
MAX_LOG_BYTES = 1_000_000  # past this the log starts again (the previous one kept as .1)


def error_log_path() -> Path:
    from cnn_tui.core.paths import state_dir

    return state_dir() / ERROR_LOG


def record_error(error: BaseException, where: str) -> Path | None:
    """Append error's traceback, with where it happened, to the error log; return the log's
    path, or None when it could not be written (a read-only home, a full disk)."""
    try:
        path = error_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            if path.stat().st_size > MAX_LOG_BYTES:
                os.replace(path, path.with_name(ERROR_LOG + ".1"))
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"--- {stamp} pid {os.getpid()}: {where}\n{''.join(lines)}\n")
        return path
    except Exception:  # no log is no reason to fail twice
        return None


_threads_log: Any = None  # the open threads.log: faulthandler writes to its descriptor


def dump_threads_on_signal() -> Path | None:
    """`kill -USR1 PID` writes every thread's stack to threads.log in the state folder
    (appended, with the time), so a hung app can tell where it hangs. POSIX only; returns
    the log's path, or None where there is no SIGUSR1 or the log cannot be opened.

    The file stays open for the process's life: faulthandler writes to its descriptor from
    the signal handler, which can neither open a file nor wait for the UI thread."""
    global _threads_log
    import faulthandler
    import signal

    if not hasattr(signal, "SIGUSR1"):
        return None
    try:
        path = error_log_path().with_name(THREADS_LOG)
        path.parent.mkdir(parents=True, exist_ok=True)
        log = open(path, "a", encoding="utf-8")  # noqa: SIM115  (kept open: see above)
        log.write(
            f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: kill -USR1 "
            f"{os.getpid()} writes every thread's stack here\n"
        )
        log.flush()
        faulthandler.register(signal.SIGUSR1, file=log, all_threads=True, chain=False)
    except (OSError, ValueError, RuntimeError):
        return None
    if _threads_log is not None:
        _threads_log.close()
    _threads_log = log
    return path


def describe(error: BaseException, limit: int = 120) -> str:
    """`ValueError: math domain error`, cut to a line."""
    text = (
        f"{type(error).__name__}: {error}".splitlines()[0] if str(error) else type(error).__name__
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def where_logged(path: Path | None) -> str:
    return f"details in {path}" if path is not None else "the error log could not be written"


def cannot_draw(what: str, error: BaseException) -> Text:
    """The one line a widget shows in its place when it cannot draw (plain text: no markup)."""
    path = record_error(error, f"drawing the {what}")
    return Text(f"cannot draw the {what}: {describe(error)} ({where_logged(path)})")


class ReportsWorkerErrors:
    """For a screen (or the app) that runs workers with exit_on_error=False: an exception
    a worker did not handle itself is not dropped silently (Textual only marks the worker
    failed): its traceback goes to the error log and a notification names the log.

    (Textual calls this handler in every class of the MRO that defines it, so a screen's
    own on_worker_state_changed, if it gets one, runs as well.)"""

    def on_worker_state_changed(self, event: Any) -> None:
        from textual.worker import WorkerState

        error = event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        name = event.worker.name or "background"
        path = record_error(error, f"the {name} job")
        self.app.notify(  # type: ignore[attr-defined]
            f"{describe(error)} ({where_logged(path)})",
            title=f"The {name} job failed",
            severity="error",
            timeout=20,
        )
