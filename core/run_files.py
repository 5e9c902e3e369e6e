"""A run folder's files by name, and the error for a folder that cannot be used.

config.json, state.json, metrics.jsonl, histograms.jsonl, last.pt, best.pt, weights.pt and
the files of a live run. Every file but the two .jsonl ones is written to a temporary name
and renamed; those get one flushed line per epoch (core/run_writer.py writes them,
core/run_records.py reads them).
"""

from __future__ import annotations

from .errors import CnnTuiError

CONFIG = "config.json"
STATE = "state.json"
METRICS = "metrics.jsonl"
HISTOGRAMS = "histograms.jsonl"  # an epoch's weight histograms per line, beside its metrics
LAST = "last.pt"
BEST = "best.pt"
WEIGHTS = "weights.pt"  # plain state_dict, loadable by the book's code
LOCK = "train.lock"  # flock-ed by the one process that writes the folder
LOG = "train.log"  # a detached trainer's stdout and stderr
PROGRESS = "progress.json"  # a detached trainer's place within the epoch (not fsync-ed)
STOP_REQUEST = "stop.request"  # stop_run's request; every trainer looks for it (see stop_run)


class RunError(CnnTuiError):
    """A run folder that cannot be made, read or written; one line says why."""
