"""The session's work off the UI thread: loading torch, and calling core's training loop.

These functions run in Textual thread workers (Session starts them). They hold no training
logic of their own: they import core, call it, and hand what it reports to a callback.
torch and core's torch modules are imported inside them, never at this module's import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.core.events import Event
from cnn_tui.tui.state import CurrentModel

if TYPE_CHECKING:
    from cnn_tui.core.config import TrainConfig
    from cnn_tui.core.control import TrainControl
    from cnn_tui.core.data import DataSet
    from cnn_tui.core.resume import Resume


def load_engine(weights: str | None) -> tuple[str, CurrentModel | None, str | None]:
    """Import torch and the training code; return the device name, the current model and
    why the weights could not be used (None when they could, or when there are none).

    The current model is the --weights file if given, else the shipped weights if they
    exist; None when there is neither or the file is refused (a named pipe, NaN values,
    no model's shapes...: the reason is the third value), and the other screens say so.
    """
    from cnn_tui.tui.slow_imports import collector_paused

    with collector_paused("torch"):  # no full collections stalling the UI meanwhile
        import torch  # noqa: F401  (the slow import this worker exists for)
        from cnn_tui.core import evaluate, train  # noqa: F401
    from cnn_tui.core.memory import keep_freed_memory
    from cnn_tui.core.models import pick_device
    from cnn_tui.core.paths import default_weights
    from cnn_tui.core.weights import WeightsError, load_model

    share_the_cpu()
    keep_freed_memory()  # set once, before any model runs (core/memory.py)
    device = str(pick_device("auto"))
    path = Path(weights).expanduser() if weights else default_weights()
    if not weights and not path.exists():
        return device, None, None
    try:
        _, meta = load_model(path)  # checked now, so no screen meets a file it cannot use
    except WeightsError as error:
        return device, None, str(error)
    # load_model's metadata: the sidecar's, with the model and classes found where it has none
    return device, CurrentModel(path, meta, "file" if weights else "shipped"), None


def share_the_cpu() -> None:
    """Leave a core to the UI thread: torch's threads = cores - 1 (at least 1).

    With every core in torch's intra-op pool, the UI thread (and anything else) takes a
    core from a parallel region whose other threads then wait, spinning: on a 2-core
    machine that made training several times slower in the app. OMP_NUM_THREADS, when
    set, is the user's choice and is left alone.
    """
    import os

    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) - 1))


def run_training(
    config: TrainConfig,
    on_event: Callable[[Event], None],
    control: TrainControl,
    runs_dir: str | Path | None,
    dataset: DataSet | None = None,
    resume: str | Path | Resume | None = None,
) -> str | None:
    """Run core.train.train; return None when it ran, else the one-line reason it could not.

    Errors train() raises before its first epoch (a data folder without the expected
    layout, an unwritable runs folder...) come back as a line for the log, not a traceback.
    """
    from cnn_tui.core.config import ConfigError
    from cnn_tui.core.data import DataError
    from cnn_tui.core.run_files import RunError
    from cnn_tui.core.train import train
    from cnn_tui.core.weights import WeightsError

    try:
        train(config, on_event, control=control, runs_dir=runs_dir, dataset=dataset, resume=resume)
    except (ConfigError, DataError, RunError, WeightsError) as error:
        return str(error)
    except OSError as error:
        return f"cannot train: {error.strerror or error}"
    except Exception as error:  # shown in the log; the app carries on
        from cnn_tui.tui.errors import describe, record_error, where_logged

        path = record_error(error, "training")  # a bug: its traceback is kept
        return f"training crashed: {describe(error)} ({where_logged(path)})"
    return None
