"""Reading a run folder as typed records: its epochs, state, config and progress.

Regular files only, bounded in size, every value checked: a torn last line of
metrics.jsonl, a damaged state.json or a FIFO in place of a file gives a warning or None,
never an exception or a hang. The one reader of each file (the CLI, watch, the app and
the trainer use these).
"""

from __future__ import annotations

import errno
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import EPOCH_FIGURES, EpochEnd, Progress
from .layer_stats import Histogram, histograms_from_line, layers_from_json, machine_from_json
from .run_files import CONFIG, HISTOGRAMS, METRICS, PROGRESS, STATE, RunError
from .safe_files import MAX_JSON_BYTES, FileRefused, read_regular

MAX_METRICS_BYTES = 256 << 20  # about a million epochs
_EPOCH_NUMBERS = tuple(name for name in EPOCH_FIGURES if name != "epoch")


def _read_bytes(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most limit of them (core.safe_files: a FIFO or device is
    never opened for reading). FileNotFoundError when there is no file; FileRefused, an
    OSError saying why, for anything else that cannot be read."""
    try:
        return read_regular(path, limit)
    except FileRefused as refused:
        if refused.missing and not os.path.islink(path):
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
        raise


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _read_object(path: Path) -> dict[str, Any]:
    """A JSON object from a small file; RunError saying why it is not one (absent files
    raise FileNotFoundError)."""
    try:
        data = json.loads(_read_bytes(path, MAX_JSON_BYTES))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise RunError(f"cannot read {path}: {_reason(error)}") from None
    except ValueError as error:  # also UnicodeDecodeError
        raise RunError(f"cannot read {path}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise RunError(f"cannot read {path}: not a JSON object")
    return data


def as_finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_count(value: object, low: int = 0) -> int | None:
    """A whole number of at least low (not a bool, not absurdly large), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < 2**31:
        return None
    return value


def as_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def epoch_from_dict(record: object) -> EpochEnd | None:
    """A metrics.jsonl object as an EpochEnd, or None if any figure is missing, of the wrong
    type or not finite (a hand-edited or foreign line). Its "layers" and "machine", where
    present and valid, fill those fields; a bad one leaves its field None."""
    if not isinstance(record, dict):
        return None
    epoch = as_count(record.get("epoch"), 1)
    numbers = {name: as_finite(record.get(name)) for name in _EPOCH_NUMBERS}
    if epoch is None or any(v is None for v in numbers.values()):
        return None
    return EpochEnd(
        epoch=epoch,
        **numbers,  # type: ignore[arg-type]
        layers=layers_from_json(record.get("layers")),
        machine=machine_from_json(record.get("machine")),
    )


@dataclass
class MetricsLog:
    """metrics.jsonl read: its valid epochs, a warning per line skipped, and where each
    epoch's line ends in the file (for a truncation that needs no free space)."""

    epochs: list[EpochEnd] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # byte offset of each epoch's line
    size: int = 0  # bytes of whole lines (a torn last line excluded)
    readable: bool = True  # False: the file is there but could not be read at all


def read_metrics(run_dir: str | Path) -> MetricsLog:
    """Every valid epoch line as an EpochEnd; a torn, bad or non-finite line is skipped
    with a warning. The one reader of metrics.jsonl (the CLI, watch and the app use it)."""
    result = MetricsLog()
    path = Path(run_dir) / METRICS
    try:
        data = _read_bytes(path, MAX_METRICS_BYTES)
    except FileNotFoundError:
        return result
    except OSError as error:
        result.warnings.append(f"{path}: cannot be read ({_reason(error)})")
        result.readable = False
        return result
    offset = 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        start, offset = offset, offset + len(line) + 1
        torn = number == len(lines)  # no newline after it (empty if the file ends whole)
        if not line.strip():
            continue
        try:
            record = epoch_from_dict(json.loads(line))
        except ValueError:
            record = None
        if record is None or torn:
            what = "a torn last line" if torn else f"a bad line {number}"
            result.warnings.append(f"{path}: skipped {what}")
            continue
        result.epochs.append(record)
        result.starts.append(start)
    result.size = data.rfind(b"\n") + 1
    return result


def read_histograms(run_dir: str | Path) -> dict[int, dict[str, Histogram]]:
    """histograms.jsonl as epoch -> module -> its weights' histogram; a torn, bad or foreign
    line is skipped, a later line of an epoch wins. {} when there is no file or it cannot
    be read (older runs have none). The one reader of histograms.jsonl."""
    try:
        data = _read_bytes(Path(run_dir) / HISTOGRAMS, MAX_METRICS_BYTES)
    except OSError:
        return {}
    found: dict[int, dict[str, Histogram]] = {}
    for line in data.split(b"\n")[:-1]:  # the part after the last newline is torn
        try:
            epoch = histograms_from_line(json.loads(line))
        except ValueError:
            epoch = None
        if epoch is not None:
            found[epoch[0]] = epoch[1]
    return found


def read_state(run_dir: str | Path) -> dict[str, Any]:
    """state.json's object; {} when it is absent or unreadable (see state_problem)."""
    try:
        return _read_object(Path(run_dir) / STATE)
    except (OSError, RunError):
        return {}


def state_problem(run_dir: str | Path) -> str | None:
    """Why state.json cannot be read, or None (absent counts as fine: a new run)."""
    try:
        _read_object(Path(run_dir) / STATE)
    except FileNotFoundError:
        return None
    except RunError as error:
        return str(error)
    return None


def read_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG
    try:
        return _read_object(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})") from None


def read_progress(run_dir: str | Path) -> Progress | None:
    """progress.json as a Progress, or None when absent, unreadable or not one."""
    try:
        data = _read_object(Path(run_dir) / PROGRESS)
    except (OSError, RunError):
        return None
    counts = {name: as_count(data.get(name)) for name in ("epoch", "epochs", "batch", "batches")}
    numbers = {
        name: as_finite(data.get(name))
        for name in ("images_per_second", "eta_seconds", "elapsed_seconds")
    }
    if any(v is None for v in (*counts.values(), *numbers.values())):
        return None
    machine = machine_from_json(data.get("machine"))
    return Progress(**counts, **numbers, machine=machine)  # type: ignore[arg-type]
