"""Classifying with the current weights, for the Predict screen.

One Predictor per weights file and one validation data set, built on first use and shared
by the screen's workers: every method here runs in a thread worker, never on the UI thread
(the Predictor loads torch and the weights).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.state import CurrentModel

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from cnn_tui.core.data import DataSet
    from cnn_tui.core.fooled import FooledSearch
    from cnn_tui.core.predict import FileAnswer, Predictor
    from cnn_tui.core.validation_results import ValidationResults

ModelKey = tuple[str, int]  # a weights file and its modification time: changes when it does


def model_key(current: CurrentModel) -> ModelKey:
    """What tells one weights file (as it is now) from another."""
    try:
        stamp = current.path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return (str(current.path), stamp)


@dataclass(frozen=True)
class Fooled:
    """Pictures of classes the weights do not know that they are sure of (the Fooled tab)."""

    data: str  # the data set's name
    search: FooledSearch  # what was looked through and found, surest first
    pixels: npt.NDArray[np.uint8]  # (len(found), 32, 32, 3), in found's order
    probabilities: npt.NDArray[np.float32] | None  # (len(found), classes); None: none found
    classes: list[str]  # the weights' classes


@dataclass(frozen=True)
class Validation:
    """The validation set scored by some weights, with the pixels to show its images."""

    results: ValidationResults
    pixels: npt.NDArray[np.uint8]  # (N, 32, 32, 3)
    note: str = ""  # the last thing loading the data said, if anything


class Predicting:
    """The predictor of the current weights and the data it is scored on."""

    def __init__(self, data_dir: str | None, given: Callable[[], DataSet | None]) -> None:
        """data_dir: where validation data are read from when the app was given none;
        given: the data set the app was given (read at each call: tests set it late)."""
        self._data_dir = data_dir
        self._given = given
        self._lock = threading.Lock()  # one Predictor built at a time
        self._predictor: Predictor | None = None
        self._predictor_key: ModelKey | None = None
        self._loaded: dict[str, DataSet] = {}  # by what was wanted (cifar2, cifar10)

    def files_folder(self) -> Path:
        """Where browsing image files starts: the data's validation folder if there is one,
        else the data folder, else the current folder."""
        if self._data_dir:
            root = Path(self._data_dir).expanduser()
            for name in ("test", "val", "valid", "validation"):
                if (root / name).is_dir():
                    return root / name
            if root.is_dir():
                return root
        return Path.cwd()

    @property
    def classes(self) -> list[str]:
        """The class names of the last predictor built (none before the first)."""
        return self._predictor.classes if self._predictor is not None else []

    def true_class_of(self, path: Path) -> str | None:
        """A file under a folder named after a class (train/bird/0001.jpg) is that class."""
        return path.parent.name if path.parent.name in self.classes else None

    def predictor(self, current: CurrentModel) -> Predictor:
        """The Predictor for these weights (built once per file as it is)."""
        key = model_key(current)
        with self._lock:
            if self._predictor_key != key or self._predictor is None:
                from cnn_tui.core.predict import Predictor

                self._predictor = Predictor.from_weights(current.path)
                self._predictor_key = key
            return self._predictor

    def validate(self, current: CurrentModel) -> Validation:
        """Score the validation set matching the weights' classes; SessionError says why
        it cannot (weights refused, no data, classes that do not match)."""
        from cnn_tui.core.data import DataError
        from cnn_tui.core.validation_results import check_classes, dataset_for, score_split
        from cnn_tui.core.weights import WeightsError

        notes: list[str] = []
        try:
            predictor = self.predictor(current)
            classes = predictor.classes
            data = self._data_for(dataset_for(len(classes)), notes)
            mismatch = check_classes(classes, data)
            if mismatch:
                raise SessionError(f"cannot score these weights: {mismatch}")
            results = score_split(predictor.model, data.val, classes, data.name)
            pixels = data.val.images.permute(0, 2, 3, 1).contiguous().numpy()
        except (WeightsError, DataError, OSError) as error:
            raise SessionError(str(error)) from error
        return Validation(results, pixels, notes[-1] if notes else "")

    def data(self, wanted: str) -> DataSet:
        """The app's data set, else `wanted` (cifar2, cifar10) from the data folder, read
        once and shared with the validation list; DataError says why it cannot be."""
        return self._data_for(wanted, [])

    def _data_for(self, wanted: str, notes: list[str]) -> DataSet:
        """The app's data set, else `wanted` read from the data folder (once)."""
        given = self._given()
        if given is not None:
            return given
        if wanted not in self._loaded:
            from cnn_tui.core.data import load_dataset

            self._loaded[wanted] = load_dataset(
                wanted,
                self._data_dir,
                download=False,
                on_log=lambda message, level: notes.append(message),
                train=False,  # this screen looks at validation images only
            )
        return self._loaded[wanted]

    def fooled(self, current: CurrentModel, minimum: float) -> Fooled:
        """The validation images of CIFAR-10's classes these weights do not know that they
        call one of theirs with at least minimum (core/fooled.py), with their pixels and
        every class's probability; SessionError says in one line why there are none to
        look through and how to get them."""
        from cnn_tui.core.data import CIFAR10_CLASSES, DataError
        from cnn_tui.core.fooled import FooledError, find_fooled
        from cnn_tui.core.weights import WeightsError

        try:
            predictor = self.predictor(current)
            data = self.data("cifar10")
            search = find_fooled(predictor, data.val, data.classes, minimum)
        except FooledError as error:
            if len(data.classes) >= len(CIFAR10_CLASSES):  # it knows all ten: no data helps
                raise SessionError(f"{error}: weights of fewer classes have some") from error
            why = "the bundled sample holds CIFAR-2 only" if data.is_sample else str(error)
            raise SessionError(f"{why}: {self._how_to_get_cifar10()}") from error
        except (WeightsError, DataError, OSError) as error:
            raise SessionError(str(error)) from error
        chosen = data.val.images[[found.index for found in search.found]]
        probabilities = predictor.predict(chosen).numpy() if len(chosen) else None
        pixels = chosen.permute(0, 2, 3, 1).contiguous().numpy()
        return Fooled(data.name, search, pixels, probabilities, predictor.classes)

    def _how_to_get_cifar10(self) -> str:
        from cnn_tui.core.paths import default_data_dir

        given = f" --data {self._data_dir}" if self._data_dir else ""
        folder = Path(self._data_dir).expanduser() if self._data_dir else default_data_dir()
        return f"`cnn-tui fooled{given}` downloads CIFAR-10 into {folder}; then restart the app"

    def classify_file(self, current: CurrentModel, path: Path) -> FileAnswer:
        """One image file's answer (a bad image is an answer with its error, not a raise)."""
        from cnn_tui.core.weights import WeightsError

        try:
            return self.predictor(current).classify_file(path)
        except WeightsError as error:
            raise SessionError(str(error)) from error

    def classify_folder(
        self, current: CurrentModel, folder: Path
    ) -> tuple[int, Iterator[FileAnswer]]:
        """How many images the folder holds, and their answers as they come; SessionError
        (now or while iterating) when the folder or the weights cannot be read."""
        from cnn_tui.core.predict import image_files

        with _said_plainly(folder):
            predictor = self.predictor(current)
            total = len(image_files(folder))
        return total, _answers(predictor, folder)


def _answers(predictor: Predictor, folder: Path) -> Iterator[FileAnswer]:
    with _said_plainly(folder):
        yield from predictor.classify_folder(folder)


@contextmanager
def _said_plainly(folder: Path) -> Iterator[None]:
    """Turn a folder's or the weights' errors into SessionError with their one line."""
    from cnn_tui.core.weights import WeightsError

    try:
        yield
    except (FileNotFoundError, NotADirectoryError, PermissionError, WeightsError) as error:
        raise SessionError(str(error)) from error
    except OSError as error:
        raise SessionError(f"{folder}: {error.strerror or error}") from error
