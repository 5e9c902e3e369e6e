"""The networks for the Model screen: weights files loaded and saved, layers measured.

Every method runs in a thread worker (they load torch and the weights). A file that does
not fit is refused with a SessionError saying why, and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.session.errors import SessionError, TargetExists

if TYPE_CHECKING:
    from cnn_tui.core.architecture import Architecture
    from cnn_tui.core.inspection import LayerTable, ModelComparison, ShapeLesson


@dataclass(frozen=True)
class LabTable:
    """A Net family member's layers, measured, beside the book's Net's total (the Lab)."""

    architecture: Architecture
    table: LayerTable
    book_params: int  # the book's Net's parameters, for the same number of classes

    @property
    def difference(self) -> int:
        return self.table.total_params - self.book_params


class Models:
    """Weights files and the models' shapes, for the options the app was opened with."""

    def __init__(self, data_dir: str | None, runs_dir: str | None) -> None:
        self._data_dir = data_dir
        self._runs_dir = runs_dir

    def load(self, path: Path, compare_with: str) -> dict[str, object]:
        """Check that the file loads into a model; its metadata (model, classes...).

        compare_with: the model on screen, named where the file fits none.
        """
        from cnn_tui.core.weights import WeightsError
        from cnn_tui.core.weights_files import load_weights_file

        try:
            _, meta = load_weights_file(path, compare_with=compare_with)
        except WeightsError as error:
            raise SessionError(str(error)) from error
        return meta

    def save(self, source: Path, target: Path, overwrite: bool = False) -> tuple[Path, Path]:
        """Write the weights of `source` to `target`, atomically; the files written (the
        weights and the .json beside them). TargetExists when it would replace a file."""
        from cnn_tui.core.weights import WeightsError, sidecar_path
        from cnn_tui.core.weights_files import WeightsExist, save_current_weights

        try:
            written = save_current_weights(source, target, overwrite=overwrite)
        except WeightsExist as exists:
            raise TargetExists(str(exists)) from exists
        except (WeightsError, OSError) as error:
            raise SessionError(str(error)) from error
        return written, sidecar_path(written)

    def book_checkpoint(self) -> Path | None:
        """The book's own checkpoint where it is usually kept, or None."""
        from cnn_tui.core.weights_files import find_book_checkpoint

        return find_book_checkpoint(self._data_dir)

    def layer_table(self, model: str, num_classes: int) -> LayerTable:
        """A model's layers, measured by a real forward pass (torchinfo)."""
        from cnn_tui.core.inspection import layer_table

        return layer_table(model, num_classes)

    def lab_table(self, architecture: Architecture, num_classes: int = 2) -> LabTable:
        """The net of this architecture measured as the Layers view measures a model (a
        real forward pass), with the book's Net's total beside it."""
        from cnn_tui.core.architecture import BOOK_NET
        from cnn_tui.core.inspection import layer_table

        table = layer_table("net", num_classes, architecture=architecture)
        return LabTable(architecture, table, BOOK_NET.parameter_count(num_classes))

    def compare(self, num_classes: int) -> list[ModelComparison]:
        """Every model's size and the best scores of its shipped weights and runs."""
        from cnn_tui.core.inspection import compare_models

        return compare_models(num_classes, runs_dir=self._runs_dir)

    def shape_lesson(self, batch: int) -> ShapeLesson:
        """The book's Sequential without flatten, run on a batch: where it breaks."""
        from cnn_tui.core.inspection import shape_lesson

        return shape_lesson(batch)
