"""Weights files as a user picks them: loading and saving the current weights.

core/weights.py reads and writes the files; this adds what a user picking files needs:
a file that fits none of the models is compared with the model on screen (so the message
names the keys and shapes that differ from it), a save never half-writes nor silently
overwrites, and the book's own checkpoint is looked for where it usually sits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .weights import WeightsError

if TYPE_CHECKING:
    from torch import nn

WEIGHTS_SUFFIXES = (".pt", ".pth")
BOOK_CHECKPOINT_NAMES = ("book_birds_vs_airplanes.pt", "birds_vs_airplanes.pt")


class WeightsExist(WeightsError):
    """A file the save would replace exists already; ask before overwriting it. The
    message names the files and whether cnn-tui wrote them."""


def load_weights_file(
    path: str | Path, compare_with: str | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a weights file into the model it belongs to, or raise WeightsError saying why.

    The sidecar or the file's own keys pick the model. Where they match no model,
    compare_with (the model on screen) names the keys and shapes that differ.
    """
    from .weights import describe_mismatch, load_model, num_classes_of, read_state_dict

    path = Path(path).expanduser()
    try:
        model, meta = load_model(path)
    except WeightsError as error:
        if compare_with is None or "match none of the models" not in str(error):
            raise
        from .models import build_model

        state = read_state_dict(path)
        classes = num_classes_of(state)
        try:
            expected = build_model(compare_with, classes).state_dict()
        except ValueError:
            raise error from None
        raise WeightsError(
            f"{path} fits none of the models; against {compare_with} with {classes} classes: "
            f"{describe_mismatch(expected, state)}"
        ) from None
    if compare_with and meta["model"] != compare_with and _guessed(path):
        # Twins share keys and shapes (net-depth and net-res, net-width and net-dropout):
        # with nothing naming the model, the one on screen is the better guess.
        from .models import build_model

        twin = build_model(compare_with, meta["num_classes"], meta["n_blocks"])
        if not describe_mismatch(twin.state_dict(), model.state_dict()):
            return load_model(path, model=compare_with)
    return model, meta


def _guessed(path: Path) -> bool:
    """The model was recognised from the keys alone: no sidecar or run config names it."""
    from .weights import read_sidecar

    return "model" not in read_sidecar(path) and not (path.parent / "config.json").exists()


def save_current_weights(
    source: str | Path,
    destination: str | Path,
    *,
    overwrite: bool = False,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write the weights of the file `source` to `destination` (and its .json sidecar).

    The write is atomic: a crash leaves the old file or the new one. A missing suffix
    becomes .pt. Raises WeightsExist, unless overwrite is True, if the weights file exists
    or a sidecar cnn-tui did not write does (a user's own notes.json beside notes.pt is
    never replaced without asking); WeightsError (one line) for a folder, a missing folder
    or an unwritable place, before anything is written.
    """
    from .weights import save_weights, sidecar_path

    target = Path(destination).expanduser()
    if str(destination).strip() == "":
        raise WeightsError("give a file name to save to")
    if target.is_dir():
        raise WeightsError(f"{target} is a folder; give a file name such as {target / 'net.pt'}")
    if not target.suffix:
        target = target.with_suffix(".pt")
    if not target.parent.is_dir():
        raise WeightsError(f"cannot save: the folder {target.parent} does not exist")
    side = sidecar_path(target)
    if side.is_dir():
        raise WeightsError(f"cannot save: {side} (where the .json beside it goes) is a folder")
    replaced = _would_replace(target, side)
    if replaced and not overwrite:
        raise WeightsExist(replaced)
    model, loaded = load_weights_file(source)
    record = {k: v for k, v in {**loaded, **(meta or {})}.items() if k != "path"}
    record["saved_from"] = str(Path(source).expanduser())
    try:
        return save_weights(target, model, record)
    except OSError as error:
        raise WeightsError(f"cannot write {target}: {error.strerror or error}") from None


def _would_replace(target: Path, side: Path) -> str | None:
    """What saving to target would replace that needs asking first, in words, or None.

    Replacing the weights file always asks. Its sidecar alone (the weights gone) is
    replaced without asking only when cnn-tui wrote it (see weights.written_by_us).
    """
    from .weights import read_sidecar, written_by_us

    ours = written_by_us(read_sidecar(target))
    found = [p for p in (target, side) if os.path.lexists(p)]
    if not found or (found == [side] and ours):
        return None
    names = " and ".join(str(p) if i == 0 else p.name for i, p in enumerate(found))
    verb = "exist" if len(found) > 1 else "exists"
    return f"{names} {verb} already ({'written' if ours else 'not written'} by cnn-tui)"


def find_book_checkpoint(data_dir: str | Path | None = None) -> Path | None:
    """The book's own checkpoint, where it is usually kept; None where it is not found.

    Looks in the data folder, a `reference/` folder inside or beside it, the user's data
    folder and the current folder, for book_birds_vs_airplanes.pt or birds_vs_airplanes.pt
    (the name the book's code saves under).
    """
    from .paths import default_data_dir, user_data_dir

    places: list[Path] = []
    for base in (Path(data_dir).expanduser() if data_dir else None, default_data_dir()):
        if base is None:
            continue
        places += [base, base / "reference", base.parent / "reference", base.parent]
    places += [user_data_dir(), Path.cwd()]
    for place in places:
        for name in BOOK_CHECKPOINT_NAMES:
            candidate = place / name
            if candidate.is_file():
                return candidate
    return None


def is_weights_file(path: str | Path) -> bool:
    """What the file picker shows: .pt and .pth files."""
    return Path(path).suffix.lower() in WEIGHTS_SUFFIXES
