"""Shared test set-up: keep every test away from the user's folders and the network.

- `_isolated_folders` (autouse) points CNN_TUI_DATA, CNN_TUI_RUNS, CNN_TUI_CACHE,
  CNN_TUI_STATE (the error log) and XDG_CONFIG_HOME (the saved theme) at a test's own
  tmp folders, so nothing reads or
  writes the user's real folders, and the empty data folder means "download", which
  fails fast here (see test_data.py).
- `image_folder` makes a tiny train/<class>/, test/<class>/ tree of random PNG and JPEG
  images (airplane and bird); `make_image_folder(root, classes, train, test)` makes others.
- `SHARED_DATA` is ../shared/data beside the checkout (the full CIFAR-10 as JPEGs and the
  book's checkpoint); the `shared_data` fixture returns it or skips the test, saying why,
  where it is absent (`needs_shared_data` is the same as a marker); `shared_cifar2` is
  its CIFAR-2 as a DataSet, decoded once per session.
- OMP_NUM_THREADS=1 (unless set): see below.
- `_idle_means_the_event_loop_is_idle` (autouse): Pilot's idle wait looks at the event
  loop's thread only, so a training thread does not make every key press wait 2 s.
- `_notices_stay_to_be_read` (autouse): a notification without its own timeout stays 10
  minutes, not Textual's 5 s, so a test on a loaded machine reads it when it gets there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

# Tiny models on tiny batches gain nothing from several threads, and on a shared 2-core
# machine OpenMP threads spinning against other processes made a step 30x slower. Set
# before torch is first imported (conftest does not import torch, so tests can check that
# the app starts without it); child processes (CLI tests) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_JPEG = SHARED_DATA / "cifar10-jpeg"
BOOK_CHECKPOINT = SHARED_DATA / "reference" / "book_birds_vs_airplanes.pt"

needs_shared_data = pytest.mark.skipif(
    not (SHARED_JPEG / "train").is_dir(),
    reason=f"shared test data not present at {SHARED_DATA} (only developers and CI have it)",
)


@pytest.fixture(autouse=True, scope="session")
def _idle_means_the_event_loop_is_idle():
    """Pilot's press and pause wait until the app is idle: Textual takes a 20 ms sleep
    that used under 1 ms of the process's CPU time as idle, else waits up to 1 s (twice
    per key). A run training in a worker thread keeps the process busy, so every key
    pressed during a run cost 2 s (a third of the suite's time on a 2-core machine).
    The app's keys, messages and redraws all run on the event loop's thread, and that
    thread's CPU time is what tells whether they are done: measured so, a key press
    during a run takes as long as one between runs."""
    from textual import _wait

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_wait, "process_time", time.thread_time, raising=False)
        yield


@pytest.fixture(autouse=True, scope="session")
def _notices_stay_to_be_read():
    """A test reads the app's notices after what it waits for: on a loaded CI machine that
    took over 5 s once (the background run's notice had expired when its run screen
    opened, test_background_key_trains_detached...). A notice given its own timeout (the
    sample's, 20 s) keeps it."""
    from textual.app import App

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(App, "NOTIFICATION_TIMEOUT", 600.0)
        yield


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own empty data, runs and cache folders."""
    base = tmp_path_factory.mktemp("cnn-tui-home")
    for name, sub in (
        ("CNN_TUI_DATA", "data"),
        ("CNN_TUI_RUNS", "runs"),
        ("CNN_TUI_CACHE", "cache"),
        ("CNN_TUI_STATE", "state"),  # the app's error log
    ):
        monkeypatch.setenv(name, str(base / sub))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))  # the saved theme pick
    monkeypatch.delenv("CNN_TUI_THEME", raising=False)
    return base


def write_random_images(folder: Path, count: int, seed: int, size: int = 32) -> list[Path]:
    """count random RGB images in folder, alternating PNG and JPEG."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        path = folder / (f"{i:04d}.png" if i % 2 == 0 else f"{i:04d}.jpg")
        Image.fromarray(pixels, "RGB").save(path)
        paths.append(path)
    return paths


def make_image_folder(
    root: Path, classes: tuple[str, ...] = ("airplane", "bird"), train: int = 4, test: int = 2
) -> Path:
    """root/train/<class>/* and root/test/<class>/* with a few random images each."""
    for offset, (split, count) in enumerate((("train", train), ("test", test))):
        for index, name in enumerate(classes):
            write_random_images(root / split / name, count, seed=100 * offset + index)
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A tiny CIFAR-2 image-folder tree: 4 train and 2 test images per class."""
    return make_image_folder(tmp_path / "images")


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """20 train and 10 test images of random pixels per class (airplane, bird), for the
    command line's training runs."""
    return make_image_folder(tmp_path / "data", train=20, test=10)


@pytest.fixture(name="make_image_folder")
def _make_image_folder_fixture():
    """make_image_folder itself, for trees with other classes or sizes."""
    return make_image_folder


@pytest.fixture(scope="session")
def shared_cifar2(tmp_path_factory: pytest.TempPathFactory):
    """CIFAR-2 from ../shared/data/cifar10-jpeg, decoded once per test session (~6 s).

    Uses its own session-wide cache folder; skips where the shared data are absent.
    """
    if not (SHARED_JPEG / "train").is_dir():
        pytest.skip(f"shared test data not present at {SHARED_DATA}")
    from cnn_tui.core.data import load_dataset

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNN_TUI_CACHE", str(tmp_path_factory.mktemp("shared-cache")))
        return load_dataset("cifar2", SHARED_JPEG)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the checkout; skips the test, saying why, where it is absent."""
    if not (SHARED_JPEG / "train").is_dir():
        pytest.skip(f"shared test data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def svg_snapshot(snapshot):
    """pytest-textual-snapshot's SVG comparison, its files kept in
    tests/tui/snapshots/<test file>/ (the snapshot tests' `assert svg == svg_snapshot`)."""
    from pytest_textual_snapshot import SVGImageExtension

    class TestsSnapshotsFolder(SVGImageExtension):
        @classmethod
        def dirname(cls, *, test_location) -> str:
            folder = Path(test_location.filepath).parent / "snapshots"
            return str(folder / test_location.basename)

    return snapshot.use_extension(TestsSnapshotsFolder)
