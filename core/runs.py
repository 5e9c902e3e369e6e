"""A run's folder: config.json, state.json, metrics.jsonl, last.pt, best.pt, weights.pt.

Every file but metrics.jsonl is written to a temporary name and renamed; metrics.jsonl
gets one flushed line per epoch, and a reader drops a torn last line with a warning.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic

CONFIG = "config.json"
STATE = "state.json"
METRICS = "metrics.jsonl"
LAST = "last.pt"
BEST = "best.pt"
WEIGHTS = "weights.pt"  # plain state_dict, loadable by the book's code


class RunError(Exception):
    """A run folder that cannot be made, read or written; one line says why."""


def new_run_dir(runs_dir: str | Path, model: str) -> Path:
    """Make a fresh, uniquely named run folder under runs_dir."""
    runs_dir = Path(runs_dir).expanduser()
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = runs_dir / f"{stamp}-{model}-{secrets.token_hex(2)}"
        path.mkdir()
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise RunError(f"cannot write runs folder {runs_dir}: {error.strerror or error}") from None
    return path


@dataclass
class MetricsLog:
    epochs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_metrics(run_dir: str | Path) -> MetricsLog:
    """Every complete epoch line; a torn or bad line is skipped with a warning."""
    result = MetricsLog()
    path = Path(run_dir) / METRICS
    try:
        text = path.read_text()
    except FileNotFoundError:
        return result
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "epoch" not in record:
                raise ValueError
        except ValueError:
            torn = number == len(lines) and not text.endswith("\n")
            what = "a torn last line" if torn else f"a bad line {number}"
            result.warnings.append(f"{path}: skipped {what}")
            continue
        result.epochs.append(record)
    return result


def append_metrics(run_dir: str | Path, record: dict[str, Any]) -> None:
    with open(Path(run_dir) / METRICS, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def truncate_metrics(run_dir: str | Path, epochs: int) -> None:
    """Keep only the first `epochs` epoch lines (on resume, past the last checkpoint)."""
    kept = [r for r in read_metrics(run_dir).epochs if r["epoch"] <= epochs]
    text = "".join(json.dumps(r) + "\n" for r in kept)
    from .atomic import write_atomic

    write_atomic(Path(run_dir) / METRICS, lambda handle: handle.write(text.encode()))


def write_state(run_dir: str | Path, **fields: Any) -> None:
    """Merge fields into state.json (state, pid, started, ended, message, ...)."""
    path = Path(run_dir) / STATE
    write_json_atomic(path, {**read_state(run_dir), **fields})


def read_state(run_dir: str | Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(run_dir) / STATE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def read_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})") from None
    except (OSError, ValueError) as error:
        raise RunError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} does not hold a config object")
    return data
