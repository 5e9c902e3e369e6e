"""The shipped models' robustness figures, kept between runs of the app.

Measuring how easily a model is tricked (core/robustness.py) takes minutes on a CPU, and
its answer depends only on the weights file's bytes, the fixed set's pixels and the
attack's settings. So each figure is stored in the user's cache folder under a key made
of those: a weights file that changes, other data or another attack is measured again.
One JSON file, written to a temporary name and renamed; a file there that cnn-tui did not
write is read as empty and never replaced.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from .attack import DEFAULT_STEPS, STEP_FACTOR
from .robustness import (
    MOST_LEVELS,
    PER_CLASS,
    Robustness,
    fixed_set,
    measure_weights,
    shipped_weights,
)

if TYPE_CHECKING:
    from .data import Split

CACHE_NAME = "robustness.json"
FORMAT = "cnn-tui robustness figures 1"  # the file's own mark, and its format's version
MOST_ENTRIES = 200  # the oldest figures go first beyond this
MAX_CACHE_BYTES = 1 << 20
HASH_CHUNK = 1 << 20


def cache_path() -> Path:
    from .paths import cache_dir

    return cache_dir() / CACHE_NAME


def figures_key(weights: Path, images: Split) -> str:
    """What the figures of weights on images depend on, as one string: the file's and the
    images' SHA-256 and the attack's settings. OSError (FileRefused) for a file that is
    not a regular file of at most the weights' size limit."""
    from .safe_files import open_regular
    from .weights import MAX_WEIGHTS_BYTES

    file_hash = hashlib.sha256()
    with open_regular(weights, MAX_WEIGHTS_BYTES) as handle:
        while chunk := handle.read(HASH_CHUNK):
            file_hash.update(chunk)
    data_hash = hashlib.sha256(images.images.contiguous().numpy().tobytes())
    data_hash.update(images.labels.long().numpy().tobytes())  # the same for uint8 labels
    settings = f"{MOST_LEVELS}-{DEFAULT_STEPS}-{STEP_FACTOR:g}"
    return f"{file_hash.hexdigest()}:{data_hash.hexdigest()[:32]}:{settings}"


def read_figures(path: Path | None = None) -> dict[str, Robustness]:
    """Every stored figure by its key; empty for a missing, unreadable or foreign file."""
    stored = _read(path or cache_path())
    figures = stored.get("figures") if stored is not None else None
    if not isinstance(figures, dict):
        return {}
    found = {}
    for key, record in figures.items():
        row = _robustness(record)
        if isinstance(key, str) and row is not None:
            found[key] = row
    return found


def store_figures(new: dict[str, Robustness], path: Path | None = None) -> bool:
    """Add figures to the file (the newest MOST_ENTRIES are kept); False, writing nothing,
    where a file that is not ours is there. OSError when it cannot be written."""
    from .atomic import write_json_atomic

    path = path or cache_path()
    stored = _read(path)
    if stored is None and path.exists():
        return False
    figures = read_figures(path)
    for key in new:
        figures.pop(key, None)  # a new figure counts as the newest
    figures.update(new)
    kept = list(figures.items())[-MOST_ENTRIES:]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"format": FORMAT, "figures": {k: _record(r) for k, r in kept}})
    return True


def cached_ranking(
    split: Split,
    num_classes: int,
    weights: list[Path] | None = None,
    per_class: int = PER_CLASS,
) -> tuple[list[Robustness], int]:
    """The figures of each weights file (default: every shipped one that fits the data's
    class count), in file name order, and how many were read from the cache: a figure the
    app or an earlier run measured on the same bytes, images and attack is read, any
    other measured and kept (a cache that cannot be written is left as it is: the figures
    still stand)."""
    images = fixed_set(split, num_classes, per_class)
    stored = read_figures()
    rows, hits = [], 0
    for path in weights if weights is not None else shipped_weights():
        key = figures_key(path, images)
        row = stored.get(key)
        if row is not None:
            hits += 1
        else:
            row = measure_weights(path, images, num_classes)
            if row is not None:
                with suppress(OSError):
                    store_figures({key: row})
        if row is not None:
            rows.append(row)
    return rows, hits


def _read(path: Path) -> dict[str, Any] | None:
    """The file's object when it is ours; None otherwise (missing, special, bad)."""
    from .safe_files import read_text_regular

    try:
        stored = json.loads(read_text_regular(path, MAX_CACHE_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    return stored if isinstance(stored, dict) and stored.get("format") == FORMAT else None


def _record(row: Robustness) -> dict[str, Any]:
    return {**row.as_json(), "median_levels": _levels(row.median_eps)}


def _levels(eps: float | None) -> int | None:
    return None if eps is None else round(eps * 255)


def _robustness(record: Any) -> Robustness | None:
    """A stored figure, or None for one that does not hold what a figure holds."""
    if not isinstance(record, dict):
        return None
    name, model = record.get("weights"), record.get("model")
    parameters, images = record.get("parameters"), record.get("images")
    levels, flipped = record.get("median_levels"), record.get("flipped_within_default_eps")
    accuracy = record.get("val_accuracy")
    if not (isinstance(name, str) and isinstance(model, str)):
        return None
    if not (_is_int(parameters) and _is_int(images) and parameters > 0 and images > 0):
        return None
    if levels is not None and not (_is_int(levels) and 0 <= levels <= MOST_LEVELS):
        return None
    if not (_is_number(flipped) and 0 <= flipped <= 1):
        return None
    if accuracy is not None and not _is_number(accuracy):
        return None
    return Robustness(
        name=name,
        model=model,
        parameters=parameters,
        val_accuracy=None if accuracy is None else float(accuracy),
        images=images,
        median_eps=None if levels is None else levels / 255,
        flipped=float(flipped),
    )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
