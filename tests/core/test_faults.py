"""Faults, done rather than described: kill -9 during epochs and during file writes (many
times), a torn metrics line, a full disk, a read-only runs folder, and fuzzed image and
weights files.

The trainers killed here are forked from the test process (torch is already loaded, so a
trainer starts in a few milliseconds), train on 256 random images, and are killed with
SIGKILL: no handler, no clean-up, as when the OOM killer or a power cut strikes. After each
kill every checkpoint on disk must load, and a resume must continue from the last complete
epoch and end with exactly the weights of a run that was never interrupted.
"""

from __future__ import annotations

import errno
import io
import multiprocessing
import os
import random
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
from app_support import tiny_dataset
from cnn_tui.core import atomic
from cnn_tui.core import run_writer as writer_module
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.data import DataSet
from cnn_tui.core.events import Started
from cnn_tui.core.images import ImageError, load_image_array
from cnn_tui.core.models import build_model
from cnn_tui.core.registry import MODELS
from cnn_tui.core.run_files import METRICS
from cnn_tui.core.run_lock import is_alive
from cnn_tui.core.run_records import read_metrics, read_state
from cnn_tui.core.run_writer import new_run_dir
from cnn_tui.core.runs import effective_state, run_summary
from cnn_tui.core.train import train
from cnn_tui.core.weights import WeightsError, load_model, read_state_dict
from cnn_tui.tui.main import main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

fork_only = pytest.mark.skipif(
    sys.platform == "win32", reason="kill -9 tests fork a trainer (POSIX only)"
)

# Adam and random flips: the optimizer's moments and the shuffling generator must both
# come back from last.pt for a resumed run to match an uninterrupted one exactly.
CONFIG = TrainConfig(
    epochs=1000, batch_size=32, optimizer="adam", lr=1e-3, augment=True, device="cpu"
)
SAME = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


EPOCH_SECONDS = [0.25]  # measured by the data fixture: kills are timed in epochs


@pytest.fixture(scope="module")
def data() -> DataSet:
    """256 random training images; one run in this process first, so that everything the
    loop imports lazily is loaded before a trainer is forked, and an epoch is timed."""
    dataset = tiny_dataset(256, 64)
    import tempfile

    with tempfile.TemporaryDirectory() as runs:
        finished = train(CONFIG.with_changes(epochs=2), runs_dir=runs, dataset=dataset)
        EPOCH_SECONDS[0] = read_metrics(finished.run_dir).epochs[-1].epoch_seconds
    return dataset


def _fork(target) -> multiprocessing.Process:
    process = multiprocessing.get_context("fork").Process(target=target, daemon=True)
    process.start()
    return process


def _trainer(run: Path, dataset: DataSet, before=None):
    """A trainer for run (a fresh folder the first time, a resume after), to be forked."""

    def target() -> None:
        if before is not None:
            before()
        if (run / "config.json").exists():
            train(CONFIG, resume=run, dataset=dataset)
        else:
            train(CONFIG, run_dir=run, dataset=dataset)

    return target


def _kill(process: multiprocessing.Process) -> None:
    assert process.is_alive(), f"the trainer ended before the kill (exit {process.exitcode})"
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    assert process.exitcode == -signal.SIGKILL


def _last_epoch(run: Path) -> int:
    last = run / "last.pt"
    return torch.load(last, weights_only=True)["epoch"] if last.exists() else 0


def _wait_for_epoch(run: Path, epoch: int, trainer: multiprocessing.Process) -> None:
    """Until last.pt holds `epoch` (the trainer must still be alive then, to be killed)."""
    deadline = time.monotonic() + 60
    while _last_epoch(run) < epoch:
        assert trainer.is_alive(), (
            f"the trainer ended before epoch {epoch} (exit {trainer.exitcode})"
        )
        assert time.monotonic() < deadline, f"no epoch {epoch} within 60 s"
        time.sleep(0.05)


def _check_after_a_kill(run: Path) -> int:
    """Everything on disk is whole; returns last.pt's epoch."""
    for path in run.glob("*.pt"):  # .last.pt.XXXX.tmp, a killed write's temporary, excluded
        loaded = torch.load(path, weights_only=True)
        if path.name in ("last.pt", "best.pt"):
            assert {"model", "optimizer", "generator", "epoch"} <= set(loaded), path.name
            load_model(path, model="net")
    for path in (run / "config.json", run / "state.json"):
        if path.exists():
            assert path.read_text().endswith("}\n"), f"{path.name} is whole"
    last = _last_epoch(run)
    epochs = [r.epoch for r in read_metrics(run).epochs]
    # The epoch's line is written just before last.pt: at most one line past it.
    assert epochs in (list(range(1, last + 1)), list(range(1, last + 2))), (epochs, last)
    assert not is_alive(run)
    if (run / "state.json").exists():
        assert effective_state(run) == "crashed", "a killed trainer's run reads as crashed"
    return last


def _finish_and_compare(tmp_path: Path, run: Path, dataset: DataSet, last: int) -> None:
    """Resume to two epochs past last.pt; the run must equal one never interrupted."""
    target = last + 2
    events = []
    resumed = train(CONFIG.with_changes(epochs=target), events.append, resume=run, dataset=dataset)
    assert resumed.state == "finished" and resumed.epochs_done == target
    assert [e for e in events if isinstance(e, Started)][0].start_epoch == last
    straight = train(
        CONFIG.with_changes(epochs=target), runs_dir=tmp_path / "straight", dataset=dataset
    )
    ours = read_metrics(run)
    assert ours.warnings == [], "the resume dropped every torn or extra line"
    theirs = read_metrics(straight.run_dir).epochs
    assert [{k: getattr(r, k) for k in SAME} for r in ours.epochs] == [
        {k: getattr(r, k) for k in SAME} for r in theirs
    ], "every epoch once, with the numbers of an uninterrupted run"
    a = torch.load(straight.weights, weights_only=True)
    b = torch.load(resumed.weights, weights_only=True)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert not list(run.glob(".*.tmp")), "a resume removes killed writes' temporaries"
    assert read_state(run)["state"] == "finished"


# ---------------------------------------------------------------------------------------
# kill -9


@fork_only
def test_kill_9_at_random_moments_many_times(tmp_path, data):
    run = new_run_dir(tmp_path / "runs", "net")
    rng = random.Random(20240)
    last = kills = 0
    stalled = False
    while kills < 12 or last < 3:
        trainer = _fork(_trainer(run, data))
        if stalled:
            # The kill before came before any epoch was saved: on a loaded machine start-up
            # can outlast the window measured when idle, and the run would never get as far
            # as three epochs (it failed so once, 40 kills at 1 epoch). Let this one save an
            # epoch first; the kill still comes at a random moment after it.
            _wait_for_epoch(run, last + 1, trainer)
        # anywhere from start-up to well into the second epoch (the loop saves one per epoch)
        time.sleep(rng.uniform(0.02, 0.05 + 2.5 * EPOCH_SECONDS[0]))
        _kill(trainer)
        kills += 1
        now = _check_after_a_kill(run)
        assert now >= last, "a resume never goes back before last.pt"
        stalled = now == last
        last = now
    assert kills <= 30, f"{kills} kills to reach epoch {last}"
    _finish_and_compare(tmp_path, run, data, last)


def _slow_write(marker: Path, nth: int):
    """Patch the atomic writer so its nth write stops halfway, says so, and hangs."""

    def patch() -> None:
        real = atomic.write_atomic
        calls = [0]

        def write_atomic(path, write):
            calls[0] += 1
            if calls[0] != nth:
                return real(path, write)

            def halfway(handle) -> None:
                buffer = io.BytesIO()
                write(buffer)
                data = buffer.getvalue()
                handle.write(data[: len(data) // 2])
                handle.flush()
                # the marker appears whole: write_text alone creates it empty first, and a
                # parent that reads it then globs for a file named "" (found nothing)
                part = marker.with_name(marker.name + ".part")
                part.write_text(Path(path).name)
                os.replace(part, marker)
                time.sleep(60)

            return real(path, halfway)

        atomic.write_atomic = write_atomic

    return patch


@fork_only
def test_kill_9_during_file_writes(tmp_path, data):
    """Kill a trainer in the middle of writing a checkpoint (or config, state, weights):
    the file being replaced is intact, the half-written temporary is never read."""
    run = new_run_dir(tmp_path / "runs", "net")
    rng = random.Random(7)
    hit: set[str] = set()
    last = 0
    for turn in range(14):
        marker = tmp_path / f"writing-{turn}"
        names_before = {p.name for p in run.glob("*.pt")}
        temporaries_before = set(run.glob(".*.tmp"))
        trainer = _fork(_trainer(run, data, _slow_write(marker, rng.randint(1, 7))))
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline and trainer.is_alive(), "no write reached"
            time.sleep(0.01)
        name = marker.read_text()
        assert name, "the marker names the file being written"
        _kill(trainer)
        hit.add(name)
        temporaries = list(set(run.glob(f".{name}.*.tmp")) - temporaries_before)
        assert len(temporaries) == 1, "killed mid-write: the temporary is still there"
        if name.endswith(".pt"):
            with pytest.raises(Exception):  # noqa: B017 - any error: it is half a file
                torch.load(temporaries[0], weights_only=True)
            if name in names_before:  # the file it was replacing is still whole
                torch.load(run / name, weights_only=True)
        last = _check_after_a_kill(run)
        if {"last.pt", "best.pt", "state.json"} <= hit and turn >= 8:
            break
    assert {"last.pt", "best.pt", "state.json"} <= hit, hit
    _finish_and_compare(tmp_path, run, data, last)


@fork_only
def test_kill_9_while_a_metrics_line_is_written(tmp_path, data):
    """A crash mid-line leaves a torn last line: read without it, with a warning; a resume
    removes it and trains that epoch again."""
    run = new_run_dir(tmp_path / "runs", "net")
    marker = tmp_path / "torn"

    def torn_third_line() -> None:
        real = writer_module.append_metrics

        def append(run_dir, record):
            if record["epoch"] < 3:
                return real(run_dir, record)
            import json

            with open(Path(run_dir) / METRICS, "a") as handle:
                line = json.dumps(record) + "\n"
                handle.write(line[: len(line) // 2])
                handle.flush()
                os.fsync(handle.fileno())
            marker.touch()
            time.sleep(60)

        writer_module.append_metrics = append

    trainer = _fork(_trainer(run, data, torn_third_line))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline and trainer.is_alive(), "epoch 3 never ended"
        time.sleep(0.01)
    _kill(trainer)

    metrics = read_metrics(run)
    assert [r.epoch for r in metrics.epochs] == [1, 2]
    assert len(metrics.warnings) == 1 and "torn last line" in metrics.warnings[0]
    assert run_summary(run).epochs_done == 2 and run_summary(run).state == "crashed"
    assert _check_after_a_kill(run) == 2
    _finish_and_compare(tmp_path, run, data, 2)


# ---------------------------------------------------------------------------------------
# A full disk, a read-only folder


def _failing_writer(monkeypatch, name: str, nth: int, code: int = errno.ENOSPC) -> None:
    """The nth atomic write of a file called name writes part of it, then fails as a full
    (or read-only) disk does; writes of other files go through."""
    real = atomic.write_atomic
    calls = [0]

    def write_atomic(path, write):
        if Path(path).name == name:
            calls[0] += 1
            if calls[0] >= nth:

                def partly(handle) -> None:
                    handle.write(b"PK\x03\x04 part of a file")
                    raise OSError(code, os.strerror(code))

                return real(path, partly)
        return real(path, write)

    monkeypatch.setattr(atomic, "write_atomic", write_atomic)


def test_full_disk_keeps_the_previous_checkpoint(tmp_path, data, monkeypatch):
    config = CONFIG.with_changes(epochs=5)
    _failing_writer(monkeypatch, "last.pt", nth=3)
    finished = train(config, runs_dir=tmp_path, dataset=data)
    run = Path(finished.run_dir)

    assert finished.state == "failed" and finished.epochs_done == 2
    assert finished.message == (
        f"No space left on device: {run / 'last.pt'}; the checkpoint of epoch 2 is kept"
    )
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 2
    assert not list(run.glob(".*.tmp")), "the half-written temporary is removed"
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2], "no line without its .pt"
    state = read_state(run)
    assert state["state"] == "failed" and "No space left on device" in state["message"]
    assert load_model(run / "weights.pt")[1]["epochs"] == 2, "the last good weights"

    monkeypatch.undo()  # space is freed: the run resumes where it stopped
    resumed = train(config, resume=run, dataset=data)
    assert resumed.state == "finished" and resumed.epochs_done == 5
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3, 4, 5]


def test_full_disk_during_a_metrics_line(tmp_path, data, monkeypatch):
    real = writer_module.append_metrics

    def append(run_dir, record):
        if record["epoch"] < 2:
            return real(run_dir, record)
        with open(Path(run_dir) / METRICS, "a") as handle:
            handle.write('{"epoch": 2, "train_lo')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer_module, "append_metrics", append)
    finished = train(CONFIG.with_changes(epochs=3), runs_dir=tmp_path, dataset=data)
    run = Path(finished.run_dir)
    assert finished.state == "failed" and "No space left on device" in finished.message
    assert _last_epoch(run) == 1
    metrics = read_metrics(run)
    assert [r.epoch for r in metrics.epochs] == [1] and metrics.warnings == []


def test_full_disk_says_one_line_in_the_cli(tmp_path, image_folder, monkeypatch, capsys):
    _failing_writer(monkeypatch, "last.pt", nth=2)
    runs = tmp_path / "runs"
    args = ["train", "--data", image_folder, "--epochs", "3", "--batch-size", "4", "--runs", runs]
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert status == 1
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1, captured.err
    assert errors[0].startswith("cnn-tui: error: No space left on device: ")
    assert errors[0].endswith("last.pt; the checkpoint of epoch 1 is kept")
    (run,) = runs.iterdir()
    assert f"run folder: {run}" in captured.out
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 1


def test_read_only_runs_folder_is_refused_before_any_work(
    tmp_path, image_folder, monkeypatch, capsys
):
    """A read-only file system (EROFS, which even root cannot write through) is simulated
    at the system calls that make folders and files under it."""
    runs = tmp_path / "read-only"
    runs.mkdir()
    real_mkdir, real_open = os.mkdir, os.open

    def refuse(path) -> None:
        if str(path).startswith(str(runs)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    def mkdir(path, *args, **kwargs):
        refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def open_(path, *args, **kwargs):
        refuse(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)
    args = ["train", "--data", str(image_folder), "--epochs", "1", "--runs", str(runs)]
    for detach in ([], ["--detach"]):
        assert main(args + detach) == 1
        assert capsys.readouterr().err == (
            f"cnn-tui: error: cannot write runs folder {runs}: Read-only file system\n"
        )
    assert list(runs.iterdir()) == [], "nothing written"


def test_runs_folder_turning_read_only_mid_run(tmp_path, data, monkeypatch):
    """The disk turns read-only once epoch 1 is saved: the run says so in one line and
    epoch 1's checkpoint stays. state.json cannot be updated either, so once the trainer
    is gone the run reads as crashed, and it resumes when the disk is writable again."""
    real_write, real_append = atomic.write_atomic, writer_module.append_metrics

    def read_only(run_dir: Path) -> None:
        if (run_dir / "last.pt").exists():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    def write_atomic(path, write):
        read_only(Path(path).parent)
        return real_write(path, write)

    def append(run_dir, record):
        read_only(Path(run_dir))
        return real_append(run_dir, record)

    monkeypatch.setattr(atomic, "write_atomic", write_atomic)
    monkeypatch.setattr(writer_module, "append_metrics", append)
    finished = train(CONFIG.with_changes(epochs=4), runs_dir=tmp_path, dataset=data)
    run = Path(finished.run_dir)
    assert finished.state == "failed" and finished.epochs_done == 1
    assert finished.message.startswith(f"Read-only file system: {run}")  # or best.pt in it
    assert finished.message.endswith("; the checkpoint of epoch 1 is kept")
    assert _last_epoch(run) == 1 and torch.load(run / "best.pt", weights_only=True)["epoch"] == 1
    assert [r.epoch for r in read_metrics(run).epochs] == [1]
    assert effective_state(run) == "crashed"

    monkeypatch.undo()
    resumed = train(CONFIG.with_changes(epochs=3), resume=run, dataset=data)
    assert resumed.state == "finished"
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3]


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="root writes through chmod 0555 (the EROFS tests above cover it with a simulation)",
)
def test_chmod_read_only_run_folder_refuses_a_resume(tmp_path, data):
    finished = train(CONFIG.with_changes(epochs=1), runs_dir=tmp_path, dataset=data)
    run = Path(finished.run_dir)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    run.chmod(0o555)
    try:
        from cnn_tui.core.run_files import RunError

        with pytest.raises(RunError, match="Permission denied"):
            train(CONFIG.with_changes(epochs=2), resume=run, dataset=data)
    finally:
        run.chmod(0o755)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


# ---------------------------------------------------------------------------------------
# Fuzzed files: an answer or a clean one-line error, never another exception or a hang

FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=3),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HANG_SECONDS = 20


class _Hang(Exception):
    pass


def _call(function, data: bytes, folder: Path, error: type[Exception]):
    """function(path of a file holding data), with an alarm against hangs."""
    path = folder / "fuzzed"
    path.write_bytes(data)

    def alarm(signum, frame):
        raise _Hang(f"{function.__name__} took over {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        return function(path)
    except error as caught:
        message = str(caught)
        assert message and "\n" not in message, f"not one line: {message!r}"
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _image_files() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    files = {}
    for fmt, mode in (
        ("PNG", "RGB"),
        ("PNG", "RGBA"),
        ("JPEG", "RGB"),
        ("GIF", "P"),
        ("BMP", "RGB"),
        ("TIFF", "RGB"),
        ("WEBP", "RGB"),
    ):
        buffer = io.BytesIO()
        image = Image.fromarray(pixels).convert(mode)
        image.save(buffer, fmt)
        files[f"{fmt}-{mode}"] = buffer.getvalue()
    return files


def _weights_files() -> dict[str, bytes]:
    state = build_model("net").state_dict()
    files = {}
    for name, obj, legacy in (
        ("zip", state, False),
        ("legacy", state, True),
        ("checkpoint", {"model": state, "epoch": 3, "best_val_accuracy": 0.9}, False),
    ):
        buffer = io.BytesIO()
        torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
        files[name] = buffer.getvalue()
    return files


IMAGES = _image_files()
WEIGHTS = _weights_files()


@st.composite
def mutated(draw, originals: dict[str, bytes]) -> bytes:
    """A real file with bytes flipped, cut short, or with junk spliced in."""
    data = bytearray(originals[draw(st.sampled_from(sorted(originals)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "zero-run"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            length = draw(st.integers(1, 256))
            data[at : at + length] = bytes(min(length, len(data) - at))
    return bytes(data)


def _check_image(array) -> None:
    if array is not None:
        assert array.shape == (32, 32, 3) and array.dtype == np.uint8


def _check_weights(loaded) -> None:
    if loaded is not None:
        model, meta = loaded
        assert meta["model"] in MODELS and isinstance(model, torch.nn.Module)


@pytest.mark.filterwarnings("ignore")
@FUZZ
@given(data=st.binary(max_size=2048) | st.builds(lambda b: b"\x89PNG\r\n\x1a\n" + b, st.binary()))
def test_image_loader_any_bytes(data, fuzz_dir):
    _check_image(_call(load_image_array, data, fuzz_dir, ImageError))


@pytest.mark.filterwarnings("ignore")
@settings(FUZZ, max_examples=300)
@given(data=mutated(IMAGES))
def test_image_loader_mutated_real_files(data, fuzz_dir):
    _check_image(_call(load_image_array, data, fuzz_dir, ImageError))


@pytest.mark.filterwarnings("ignore")
@FUZZ
@given(
    data=st.binary(max_size=2048)
    | st.builds(lambda b: b"PK\x03\x04" + b, st.binary())
    | st.builds(lambda b: b"\x80\x02" + b, st.binary())
)
def test_weights_loader_any_bytes(data, fuzz_dir):
    _check_weights(_call(load_model, data, fuzz_dir, WeightsError))
    state = _call(read_state_dict, data, fuzz_dir, WeightsError)
    assert state is None or all(isinstance(v, torch.Tensor) for v in state.values())


@pytest.mark.filterwarnings("ignore")
@settings(FUZZ, max_examples=300)
@given(data=mutated(WEIGHTS))
def test_weights_loader_mutated_real_files(data, fuzz_dir):
    _check_weights(_call(load_model, data, fuzz_dir, WeightsError))


def test_the_fuzzed_originals_load(fuzz_dir):
    """The unmutated files give answers, so the mutations start from real, working files."""
    for data in IMAGES.values():
        _check_image(_call(load_image_array, data, fuzz_dir, ImageError))
        assert _call(load_image_array, data, fuzz_dir, ImageError) is not None
    for data in WEIGHTS.values():
        assert _call(load_model, data, fuzz_dir, WeightsError) is not None
