"""The states a run, a training and a log line can be in, as types.

The values are the words written to state.json and carried by core/events.py's records,
unchanged; the types let a checker catch a misspelt one.
"""

from __future__ import annotations

from typing import Literal, get_args

LogLevel = Literal["info", "warning", "error"]

EndState = Literal["finished", "stopped", "failed"]
"""How a training ended (events.Finished.state)."""

StoredState = Literal["starting", "running", "finished", "stopped", "failed"]
"""What state.json says: a trainer is starting or at work, or how it ended."""

RunState = Literal["starting", "running", "finished", "stopped", "failed", "crashed", "unreadable"]
"""A run as listings show it (runs.RunSummary.state): state.json's word, or crashed (it
says running but no process holds the folder's lock), or unreadable (it is damaged or
holds no known state)."""

TrainingPhase = Literal[
    "idle", "starting", "running", "paused", "stopping", "finished", "stopped", "failed"
]
"""Where a front end's training is: nothing yet, loading its data, at work, paused or
stopping (core/control.py's TrainControl), or how it ended."""

LIVE_STATES: tuple[StoredState, ...] = ("starting", "running")  # while a trainer works
KNOWN_STATES: tuple[StoredState, ...] = get_args(StoredState)
