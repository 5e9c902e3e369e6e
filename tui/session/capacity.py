"""How easily each shipped model is tricked, for the Model screen's Compare view: the last
question of the chapter's second exercise ("is this easier with less or more capacity?").

Measuring takes minutes on a CPU (core/robustness.py), so the screen asks for it with a
key and runs it in its own thread worker; each model's figure is kept for the app's life
and in the cache folder (core/robustness_cache.py), so a second look shows it at once and
a stopped measurement goes on from the models already done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from cnn_tui.core.data import DataSet, Split
    from cnn_tui.core.robustness import Robustness


@dataclass(frozen=True)
class Measuring:
    """Where a measurement is: the model being attacked and the budgets tried so far."""

    model: str  # the model's name (the Compare view's row)
    number: int  # 1 for the first model measured
    count: int  # models to measure
    level: int  # the budget being tried, in 8-bit levels (0 before the first)
    most: int  # the largest budget tried
    left: int  # images not flipped yet
    images: int  # in the fixed set

    def describe(self) -> str:
        where = f"attacking {self.model} ({self.number} of {self.count})"
        if not self.level:
            return where + "..."
        return (
            f"{where}: trying {self.level}/255 (up to {self.most}/255), "
            f"{self.images - self.left} of {self.images} images flipped"
        )


@dataclass(frozen=True)
class CapacityTable:
    """The figures found or measured, and what they were measured on."""

    data: str  # the data set's name, as loading it says it
    sample: bool  # the bundled sample, not CIFAR-2
    classes: int  # the data's, and the measured models'
    images: int  # in the fixed set
    figures: dict[str, Robustness]  # by model name (the Compare view's rows)
    unmeasured: list[str] = field(default_factory=list)  # shipped models not measured yet
    note: str = ""  # a warning (the cache could not be written...)


class Stopped(Exception):
    """The screen asked the measurement to stop (raised between two budgets)."""


class Capacity:
    """The shipped models' robustness figures, read from the cache or measured."""

    def __init__(self, data: Callable[[], DataSet]) -> None:
        """data: the validation data the figures are measured on (called in the worker)."""
        self._data = data
        self._lock = threading.Lock()  # one measurement at a time
        self.last: CapacityTable | None = None  # the last table made, for a second visit

    def table(
        self,
        measure: bool,
        on_progress: Callable[[Measuring], None] | None = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> CapacityTable:
        """Every shipped model's figure: the cached ones, and with measure the others
        measured one after the other (each stored as it is done). Runs in a thread worker;
        stopped() is asked between budgets, and ends the measurement with what is done."""
        from cnn_tui.core.robustness import PER_CLASS, fixed_set
        from cnn_tui.core.robustness_cache import figures_key, read_figures

        with self._lock:
            dataset = self._data()
            count = len(dataset.classes)
            images = fixed_set(dataset.val, count, PER_CLASS)
            shipped = shipped_models(count)
            keys = {path: figures_key(path, images) for path in shipped}
            stored = read_figures()
            found = {path: stored[key] for path, key in keys.items() if key in stored}
            missing = [path for path in shipped if path not in found]
            note = ""
            if measure and missing:
                note = self._measure(
                    missing, shipped, images, count, keys, found, on_progress, stopped
                )
            table = CapacityTable(
                data=dataset.name,
                sample=dataset.is_sample,
                classes=count,
                images=len(images),
                figures={shipped[path]: row for path, row in found.items()},
                unmeasured=[model for path, model in shipped.items() if path not in found],
                note=note,
            )
            self.last = table
            return table

    def _measure(
        self,
        files: list[Path],
        shipped: dict[Path, str],
        images: Split,
        classes: int,
        keys: dict[Path, str],
        found: dict[Path, Robustness],
        on_progress: Callable[[Measuring], None] | None,
        stopped: Callable[[], bool],
    ) -> str:
        """Measure files into found, storing each figure; a note if one could not be."""
        from cnn_tui.core.robustness import MOST_LEVELS, measure_weights
        from cnn_tui.core.robustness_cache import cache_path, store_figures

        note = ""
        for number, path in enumerate(files, start=1):

            def attacked(level: int, left: int, number: int = number, path: Path = path) -> None:
                if on_progress is not None:
                    model, count = shipped[path], len(files)
                    on_progress(
                        Measuring(model, number, count, level, MOST_LEVELS, left, len(images))
                    )
                if stopped():
                    raise Stopped

            try:
                attacked(0, len(images))
                row = measure_weights(path, images, classes, on_progress=attacked)
            except Stopped:
                break
            if row is None:
                continue
            found[path] = row
            try:
                if not store_figures({keys[path]: row}):
                    note = f"{cache_path()} is not cnn-tui's: the figures are not kept"
            except OSError as error:
                note = f"cannot keep the figures in {cache_path()}: {error.strerror or error}"
        return note


def shipped_models(classes: int) -> dict[Path, str]:
    """The shipped weights files for this many classes, with their model's name, as their
    sidecars say (a file without one is left out)."""
    from cnn_tui.core.robustness import shipped_weights
    from cnn_tui.core.weights import read_sidecar

    found = {}
    for path in shipped_weights():
        meta = read_sidecar(path)
        model = meta.get("model")
        if isinstance(model, str) and meta.get("num_classes") == classes:
            found[path] = model
    return found
