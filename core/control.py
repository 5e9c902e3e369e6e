"""Steering a run from another thread: pause, resume, stop, or end it failed.

A front end holds the TrainControl and sets it from its own thread (a key, a signal, a
crash); core/epoch_loop.py obeys it between batches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class TrainControl:
    """Pause, resume, stop and fail, set from any thread, obeyed between batches."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self.failure: str | None = None  # why the run must end `failed` (see fail)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def fail(self, reason: str) -> None:
        """Stop, and end the run `failed` with this reason, not "stopped by the user": what
        drives the run went wrong (the app crashed). The last epoch's checkpoint is kept."""
        if self.failure is None:  # the first reason is the cause; later ones follow from it
            self.failure = reason
        self.stop()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, stop_asked: Callable[[], bool] | None = None) -> None:
        """Block until resumed or stopped; stop_asked() is polled meanwhile (a stop request)."""
        while not self._running.wait(0.2):
            if stop_asked is not None and stop_asked():
                self.stop()
