"""Tricking the current model and seeing what it looked at, for the Predict screen: the
attack view (core/attack.py's PGD on the picked image) and the Grad-CAM overlay
(core/explain.py).

Every method runs in a thread worker. The model used here is a copy of its own, loaded
once per weights file and touched only under a lock: the attack takes gradients and
Grad-CAM hooks a layer, and neither may reach the Predict screen's predictor while its
workers classify a folder with it. What comes back are uint8 pictures and plain numbers.

An attack is judged as `cnn-tui attack` judges it: on the 8-bit image, classified again
after the attack (PGD returns rounded pixels, which is what a PNG holds), not on the
attack's own float iterate.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.predicting import ModelKey, model_key
from cnn_tui.tui.state import CurrentModel, PickedImage

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from cnn_tui.core.predict import Predictor

MIN_LEVELS, MAX_LEVELS, DEFAULT_LEVELS = 1, 32, 8  # eps in whole 8-bit levels (x/255)
SAVE_TRIES = 99  # name-2.png ... name-99.png where a user's own file has the name


@dataclass(frozen=True)
class Reading:
    """What the model made of one picture: its class and every class's probability."""

    label: str
    probabilities: dict[str, float]


@dataclass(frozen=True)
class Trick:
    """One attack on a picture: both pictures, the change made visible, both readings."""

    target: str
    levels: int  # the budget, eps = levels / 255
    original: Reading
    adversarial: Reading  # of the 8-bit adversarial picture, classified again
    original_pixels: npt.NDArray[np.uint8]  # (32, 32, 3)
    adversarial_pixels: npt.NDArray[np.uint8]  # (32, 32, 3), what a PNG of it holds
    change: npt.NDArray[np.uint8]  # (32, 32, 3): grey is no change, amplified `gain` times
    gain: float
    moved: int  # the largest change of any pixel, in 8-bit levels
    steps: int

    @property
    def success(self) -> bool:
        return self.adversarial.label == self.target


@dataclass(frozen=True)
class Look:
    """What the model looked at for one class: the picture with the heat map over it."""

    label: str
    method: str  # "Grad-CAM on conv2" or "saliency"
    picture: npt.NDArray[np.uint8]  # (256, 256, 3): the picture enlarged, the map over it


class Tricking:
    """A model of its own per weights file, attacked and explained one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._predictor: Predictor | None = None
        self._key: ModelKey | None = None

    def _predictor_for(self, current: CurrentModel) -> Predictor:
        """Under the lock: the copy of these weights (loaded once per file as it is)."""
        from cnn_tui.core.predict import Predictor
        from cnn_tui.core.weights import WeightsError

        key = model_key(current)
        if self._predictor is None or self._key != key:
            try:
                self._predictor = Predictor.from_weights(current.path)
            except (WeightsError, OSError) as error:
                raise SessionError(str(error)) from error
            self._key = key
        return self._predictor

    def attack(
        self, current: CurrentModel, pixels: npt.NDArray[np.uint8], target: str, levels: int
    ) -> Trick:
        """PGD toward `target` within `levels`/255 on (32, 32, 3) uint8 pixels."""
        import numpy as np
        import torch
        from cnn_tui.core.attack import DEFAULT_STEPS, class_index, perturb
        from cnn_tui.core.errors import CnnTuiError

        if not MIN_LEVELS <= levels <= MAX_LEVELS:
            raise SessionError(f"eps must be {MIN_LEVELS}/255 to {MAX_LEVELS}/255")
        with self._lock:
            predictor = self._predictor_for(current)
            try:
                index = class_index(predictor.classes, target)
            except CnnTuiError as error:
                raise SessionError(str(error)) from error
            image = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
            done, _, taken = perturb(
                predictor.model, image, torch.tensor([index]), levels / 255, DEFAULT_STEPS
            )
            before, after = predictor.predict(torch.cat([image, done]))
            original = Reading(*predictor.answer(before))
            adversarial = Reading(*predictor.answer(after))
        result = done[0].numpy().transpose(1, 2, 0).copy()
        change, gain, moved = amplified(pixels, result)
        return Trick(
            predictor.classes[index],
            levels,
            original,
            adversarial,
            pixels,
            result,
            change,
            gain,
            moved,
            int(taken[0]),
        )

    def explain(
        self, current: CurrentModel, pixels: npt.NDArray[np.uint8], label: str | None
    ) -> Look:
        """Where the model looked for class `label` (None: the class it predicts)."""
        import numpy as np
        import torch
        from cnn_tui.core.attack import class_index
        from cnn_tui.core.errors import CnnTuiError
        from cnn_tui.core.explain import SCALE, heat_map, overlay

        with self._lock:
            predictor = self._predictor_for(current)
            image = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))
            try:
                if label is None:
                    index = int(predictor.predict(image[None])[0].argmax())
                else:
                    index = class_index(predictor.classes, label)
            except CnnTuiError as error:
                raise SessionError(str(error)) from error
            heat, method = heat_map(predictor.model, image, index)
        return Look(predictor.classes[index], method, overlay(pixels, heat, SCALE))


def amplified(
    original: npt.NDArray[np.uint8], changed: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.uint8], float, int]:
    """The change between two pictures made visible: mid-grey where nothing changed, the
    largest change scaled to the end of the range; with the gain and that change."""
    import numpy as np

    delta = changed.astype(np.int16) - original.astype(np.int16)
    moved = int(np.abs(delta).max())
    gain = 127 / moved if moved else 1.0
    shown = np.clip(np.rint(128 + delta * gain), 0, 255).astype(np.uint8)
    return shown, gain, moved


def save_trick(trick: Trick, picked: PickedImage, folder: Path) -> Path:
    """Write the adversarial picture into `folder` as an 8-bit PNG named as `cnn-tui
    attack` names it (`<image name>-as-<target>.png`; a validation image is
    `validation-<n>`), or that name with -2, -3... where a file cnn-tui did not write has
    it: such a file is never replaced. SessionError says why it cannot be written."""
    from cnn_tui.core.attack import WRITTEN_BY, default_out
    from cnn_tui.core.our_png import PngFileError, check_writable, write_png, written_by_cnn_tui

    name = picked.path or picked.label.split(" (")[0].replace(" #", "-").replace(" ", "-")
    first = folder / default_out(name, trick.target)
    out = first
    for number in range(2, SAVE_TRIES + 1):
        if not os.path.lexists(out) or written_by_cnn_tui(out):
            break
        out = first.with_name(f"{first.stem}-{number}{first.suffix}")
    try:
        check_writable(out, "name")
        return write_png(out, trick.adversarial_pixels, WRITTEN_BY)
    except PngFileError as error:
        raise SessionError(str(error)) from error
