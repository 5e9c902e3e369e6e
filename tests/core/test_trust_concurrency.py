"""Issue 9, item 10: a training start patches nothing process-wide.

Trainings run in threads beside the app's Predict and Explore inference (and beside each
other in one process). `torch.fx.symbolic_trace` replaced `torch.nn.Module.__call__` for the
whole process while it traced, so another thread's forward pass could fail with
`NameError: module is not installed as a submodule`. The models' pool-first forward
(core/models.py) keeps the speed-up without it; these tests check both the outcome (runs and
inference side by side succeed) and the cause (nothing replaces `Module.__call__`).
"""

from __future__ import annotations

import sys
import threading

import pytest
import torch
from app_support import tiny_dataset
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.models import CLASSES, build_model
from cnn_tui.core.train import train
from torch import nn


@pytest.fixture
def fast_switching():
    """Threads switch every few microseconds, so a short window of shared state shows up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{"epochs": 1, "batch_size": 16, "device": "cpu", **changes})


@pytest.mark.timeout(60)
def test_module_call_is_never_replaced_during_a_training_start(tmp_path, fast_switching):
    """While a run starts, another thread watches torch.nn.Module.__call__: never swapped."""
    original = nn.Module.__call__
    seen: list[object] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            current = nn.Module.__call__
            if current is not original:
                seen.append(current)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for model in ("net", "net-depth", "net-res-deep"):
            finished = train(
                _config(model=model, n_blocks=2), runs_dir=tmp_path, dataset=tiny_dataset()
            )
            assert finished.state == "finished", finished.message
    finally:
        done.set()
        watcher.join(5)
    assert not seen, f"torch.nn.Module.__call__ was replaced during a run (by {seen[0]!r})"


@pytest.mark.timeout(120)
def test_two_trainings_and_inference_at_once(tmp_path, fast_switching):
    """Two runs start in threads while a third thread predicts in a loop; all succeed."""
    predictor = build_model("net").eval()
    images = torch.randn(4, 3, 32, 32)
    errors: list[BaseException] = []
    stop = threading.Event()

    def predict_loop() -> None:
        try:
            while not stop.is_set():
                with torch.inference_mode():
                    predictor(images)
        except BaseException as error:  # the test reports whatever it was
            errors.append(error)

    def one_run(index: int, round_: int) -> None:
        try:
            config = _config(model=("net", "net-batchnorm")[index], seed=round_)
            finished = train(config, runs_dir=tmp_path / f"r{round_}", dataset=tiny_dataset())
            if finished.state != "finished":
                errors.append(RuntimeError(f"run ended {finished.state}: {finished.message}"))
        except BaseException as error:
            errors.append(error)

    inference = threading.Thread(target=predict_loop, daemon=True)
    inference.start()
    try:
        for round_ in range(4):
            runs = [threading.Thread(target=one_run, args=(i, round_)) for i in range(2)]
            for run in runs:
                run.start()
            for run in runs:
                run.join(50)
                assert not run.is_alive(), "a run hung"
            assert not errors, f"round {round_}: {errors[0]!r}"
    finally:
        stop.set()
        inference.join(5)
    assert not errors, repr(errors[0])


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_pool_first_forward_equals_the_books(name):
    """Same parameters, same state_dict keys, same outputs (to 1e-6), both ways."""
    torch.manual_seed(0)
    book = build_model(name, 3, n_blocks=2)
    fast = build_model(name, 3, n_blocks=2, pool_first=True)
    assert list(fast.state_dict()) == list(book.state_dict())
    assert [n for n, _ in fast.named_parameters()] == [n for n, _ in book.named_parameters()]
    fast.load_state_dict(book.state_dict())
    images = torch.randn(8, 3, 32, 32) * 2
    for mode in ("eval", "train"):
        getattr(book, mode)()
        getattr(fast, mode)()
        torch.manual_seed(1)  # the same dropout draws on both sides
        expected = book(images)
        torch.manual_seed(1)
        got = fast(images)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    # and back: the fast model's weights load into the book's
    book.load_state_dict(fast.state_dict())


def test_training_uses_the_pool_first_forward(tmp_path, monkeypatch):
    """The speed-up is kept: the run's model pools before its activations."""
    import cnn_tui.core.models as models

    built: list[nn.Module] = []
    real = models.build_model

    def spy(*args, **kwargs):
        model = real(*args, **kwargs)
        built.append(model)
        return model

    monkeypatch.setattr(models, "build_model", spy)
    train(_config(), runs_dir=tmp_path, dataset=tiny_dataset())
    assert built and built[0].pool_first


@pytest.mark.timeout(60)
def test_loading_files_in_a_thread_leaves_the_warning_filters_alone(tmp_path):
    """warnings.catch_warnings() in a loader saved the process's filter list and put it back:
    a filter another thread added meanwhile was lost (or the loader's "ignore" leaked)."""
    import time
    import warnings

    import numpy as np
    from cnn_tui.core.images import open_image
    from cnn_tui.core.paths import default_weights
    from cnn_tui.core.predict import describe_image
    from cnn_tui.core.weights import read_state_dict
    from PIL import Image

    picture = tmp_path / "plane.png"
    Image.fromarray(np.zeros((40, 30, 3), dtype=np.uint8)).save(picture)
    weights = default_weights()
    stop = threading.Event()
    loads = 0

    def load_in_a_loop() -> None:
        nonlocal loads
        while not stop.is_set():
            open_image(picture)
            describe_image(picture)
            read_state_dict(weights)
            loads += 1

    markers = [f"cnn-tui test marker {i}" for i in range(150)]
    worker = threading.Thread(target=load_in_a_loop, daemon=True)
    worker.start()
    try:
        for marker in markers:
            warnings.filterwarnings("ignore", message=marker)
            time.sleep(0.002)
    finally:
        stop.set()
        worker.join(timeout=30)
    try:
        kept = {f[1].pattern for f in warnings.filters if f[1] is not None}
        lost = [m for m in markers if m not in kept]
        assert loads > 5, "the loader thread hardly ran; the test proves nothing"
        assert lost == [], f"{len(lost)} of {len(markers)} filters lost while files loaded"
    finally:
        warnings.filters[:] = [
            f for f in warnings.filters if f[1] is None or f[1].pattern not in markers
        ]
