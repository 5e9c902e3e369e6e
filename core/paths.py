"""Where data, runs, caches and shipped weights live on a user's machine."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "cnn-tui"


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def default_data_dir() -> Path:
    """--data wins over this; then CNN_TUI_DATA; then the user's data folder."""
    env = os.environ.get("CNN_TUI_DATA")
    return Path(env).expanduser() if env else user_data_dir() / "data"


def default_runs_dir() -> Path:
    env = os.environ.get("CNN_TUI_RUNS")
    return Path(env).expanduser() if env else user_data_dir() / "runs"


def cache_dir() -> Path:
    env = os.environ.get("CNN_TUI_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """Where the app keeps what it records about itself (its error log): CNN_TUI_STATE,
    else the user's state folder (~/.local/state/cnn-tui on Linux)."""
    env = os.environ.get("CNN_TUI_STATE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_state_path

    return user_state_path(APP_NAME, appauthor=False)


def shipped_weights_dir() -> Path:
    """The weights/ folder, found the same way from a checkout, editable install or wheel."""
    from importlib.resources import files

    return Path(str(files("cnn_tui.weights")))


def default_weights() -> Path:
    return shipped_weights_dir() / "birds_vs_airplanes.pt"
