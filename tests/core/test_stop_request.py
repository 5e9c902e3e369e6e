"""Stopping a run on purpose is safe whoever trains it: core.runs.stop_run leaves a stop
request in the run folder that every trainer obeys, and sends SIGTERM only to a trainer
that has not refused signals (the app refuses: a signal would end the app, not the run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from app_support import tiny_dataset
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.data import DataSet
from cnn_tui.core.events import EpochEnd, Started
from cnn_tui.core.run_files import LOCK, STOP_REQUEST
from cnn_tui.core.run_lock import (
    RunLock,
    lock_holder,
    refuse_stop_signals,
    request_stop,
    stop_requested,
)
from cnn_tui.core.run_records import read_metrics, read_state
from cnn_tui.core.run_writer import new_run_dir
from cnn_tui.core.runs import stop_run
from cnn_tui.core.train import TrainControl, train

posix_only = pytest.mark.skipif(os.name != "posix", reason="signals and flock need POSIX")


@pytest.fixture
def tiny() -> DataSet:
    return tiny_dataset()


def _config(epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=8, device="cpu")


@pytest.fixture
def no_refusal():
    yield
    refuse_stop_signals(False)


def test_a_refusing_process_names_itself_in_the_lock(tmp_path, no_refusal):
    run = new_run_dir(tmp_path, "net")
    refuse_stop_signals(True)
    with RunLock(run):
        assert (run / LOCK).read_text() == f"{os.getpid()} no-signal\n"
        assert lock_holder(run) == os.getpid()
    refuse_stop_signals(False)
    with RunLock(run):
        assert (run / LOCK).read_text() == f"{os.getpid()}\n"


def test_a_stop_request_stops_a_trainer_in_this_process(tmp_path, tiny):
    """What the app's training worker sees: the request, not a signal."""
    seen: list = []

    def on_event(event) -> None:
        seen.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 1:
            request_stop(Path(seen[0].run_dir))

    finished = train(_config(200), on_event, runs_dir=tmp_path, dataset=tiny)
    run = Path(finished.run_dir)
    assert isinstance(seen[0], Started)
    assert finished.state == "stopped" and 1 <= finished.epochs_done < 200
    assert not stop_requested(run), "the trainer removes the request when it ends"
    assert read_state(run)["state"] == "stopped"


def test_a_paused_trainer_obeys_a_stop_request(tmp_path, tiny):
    control = TrainControl()
    started = threading.Event()
    run_dirs: list[str] = []

    def on_event(event) -> None:
        if isinstance(event, Started):
            run_dirs.append(event.run_dir)
        if isinstance(event, EpochEnd):
            control.pause()
            started.set()

    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(
            train(_config(50), on_event, control=control, runs_dir=tmp_path, dataset=tiny)
        )
    )
    worker.start()
    assert started.wait(60)
    time.sleep(0.3)
    assert control.paused and worker.is_alive()
    request_stop(run_dirs[0])
    worker.join(10)
    assert not worker.is_alive(), "a paused trainer saw the request"
    assert result[0].state == "stopped"


def test_a_stale_request_does_not_stop_a_resume(tmp_path, tiny):
    control = TrainControl()

    def stop_after_one(event) -> None:
        if isinstance(event, EpochEnd):
            control.stop()

    first = train(_config(3), stop_after_one, control=control, runs_dir=tmp_path, dataset=tiny)
    run = Path(first.run_dir)
    request_stop(run)  # came as the trainer ended, say
    again = train(_config(3), resume=run, dataset=tiny)
    assert again.state == "finished" and again.epochs_done == 3
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3]
    assert not (run / STOP_REQUEST).exists()


TRAINER = textwrap.dedent(
    """
    import sys, torch
    from cnn_tui.core.config import TrainConfig
    from cnn_tui.core.data import DataSet, Split
    from cnn_tui.core.events import EpochEnd
    from cnn_tui.core.run_lock import refuse_stop_signals
    from cnn_tui.core.train import train

    if sys.argv[2] == "refuse":
        refuse_stop_signals(True)
    g = torch.Generator().manual_seed(0)
    split = lambda n: Split(
        torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
        torch.randint(0, 2, (n,), generator=g),
    )
    data = DataSet("random", "memory", ["airplane", "bird"], split(64), split(32))

    def on_event(event):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            print("epoch", flush=True)

    config = TrainConfig(epochs=500, batch_size=8, device="cpu")
    finished = train(config, on_event, runs_dir=sys.argv[1], dataset=data)
    print("ended", finished.state, finished.run_dir, flush=True)
    """
)


def _trainer(runs: Path, mode: str) -> subprocess.Popen[str]:
    """TRAINER in another process, training into runs; mode "refuse" or "plain"."""
    return subprocess.Popen(
        [sys.executable, "-c", TRAINER, str(runs), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@posix_only
def test_stop_run_never_signals_a_process_that_refuses(tmp_path):
    """The app's case: `cnn-tui watch --stop` must stop the run and leave the app alive.

    The trainer here has no SIGTERM handler, so a signal would kill it (status -15)."""
    runs = tmp_path / "runs"
    trainer = _trainer(runs, "refuse")
    try:
        assert trainer.stdout.readline().strip() == "epoch", trainer.stderr.read()
        (run,) = list(runs.iterdir())
        assert stop_run(run) == trainer.pid
        out, err = trainer.communicate(timeout=60)
    finally:
        trainer.kill()
        trainer.wait()
    assert trainer.returncode == 0, err
    assert out.split()[:2] == ["ended", "stopped"]
    state = json.loads((run / "state.json").read_text())
    assert state["state"] == "stopped" and not (run / STOP_REQUEST).exists()


@posix_only
def test_stop_run_still_signals_a_plain_trainer(tmp_path):
    """Another process that did not refuse gets SIGTERM as before (here: it dies of it)."""
    runs = tmp_path / "runs"
    trainer = _trainer(runs, "plain")
    try:
        assert trainer.stdout.readline().strip() == "epoch", trainer.stderr.read()
        (run,) = list(runs.iterdir())
        assert stop_run(run) == trainer.pid
        assert trainer.wait(timeout=30) == -15
    finally:
        trainer.kill()
        trainer.wait()
