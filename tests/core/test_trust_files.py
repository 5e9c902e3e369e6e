"""Hostile files (issue 9, items 8, 11 and parts of 14): only regular files are opened,
every read of a user's file is bounded, a damaged decode cache is rebuilt, and odd image
folders and file names get one clear line.

The corpus: a FIFO, /dev/zero, a symlink loop, a broken symlink and a folder, each named
like an image. Every test here runs under a short timeout, so a hang fails it instead of
hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_support import CLI, needs_cli
from cnn_tui.core import data
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.data import DataError, load_dataset
from cnn_tui.core.images import ImageError, load_image_array
from log_recorder import LogRecorder
from PIL import Image

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")


def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, the words its refusal must hold), every path named like an image."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "fifo.png")
    os.symlink("/dev/zero", folder / "zero.png")
    os.symlink("loop-b.png", folder / "loop-a.png")
    os.symlink("loop-a.png", folder / "loop-b.png")
    os.symlink("nowhere.png", folder / "broken.png")
    (folder / "dir.png").mkdir()
    return {
        "fifo": (folder / "fifo.png", "not a regular file (a named pipe)"),
        "/dev/zero": (folder / "zero.png", "not a regular file (a character device)"),
        "symlink loop": (folder / "loop-a.png", "symbolic link loop"),
        "broken symlink": (folder / "broken.png", "broken symbolic link"),
        "folder": (folder / "dir.png", "a folder"),
    }


def _save(path: Path, pixels: np.ndarray, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGB").save(path, **options)
    return path


# ---- the helper ---------------------------------------------------------------------------


@posix_only
@pytest.mark.timeout(20)
def test_open_regular_refuses_every_special_file_with_one_line(tmp_path):
    from cnn_tui.core.safe_files import FileRefused, open_regular

    for name, (path, words) in hostile_files(tmp_path).items():
        with pytest.raises(FileRefused) as caught:
            open_regular(path, 1024)
        assert words in str(caught.value), name
        assert "\n" not in str(caught.value)
    with pytest.raises(FileRefused, match="no such file"):
        open_regular(tmp_path / "missing.png", 1024)


@pytest.mark.timeout(20)
def test_open_regular_bounds_the_read(tmp_path):
    from cnn_tui.core.safe_files import FileRefused, open_regular, read_regular

    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 100)
    assert read_regular(small, 100) == b"x" * 100
    with pytest.raises(FileRefused, match=r"too large \(100 bytes; at most 99 bytes\)"):
        read_regular(small, 99)
    # a file that grows after it was opened is read no further than the bound
    with open_regular(small, 150) as handle:
        with open(small, "ab") as grow:
            grow.write(b"y" * 1000)
        assert len(handle.read()) == 150
        handle.seek(140)
        assert handle.read() == b"y" * 10


# ---- images: predict and the Predict screen ------------------------------------------------


@posix_only
@pytest.mark.timeout(20)
def test_images_refuse_special_files_at_once(tmp_path):
    for name, (path, words) in hostile_files(tmp_path).items():
        with pytest.raises(ImageError) as caught:
            load_image_array(path)
        assert words in str(caught.value), name


@pytest.mark.timeout(20)
def test_an_image_file_over_the_size_bound_is_refused_unread(tmp_path):
    from cnn_tui.core.images import MAX_FILE_BYTES

    big = tmp_path / "big.png"
    with open(big, "wb") as handle:  # sparse: no disk used, nothing to decode
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ImageError, match="too large"):
        load_image_array(big)


@posix_only
@needs_cli
@pytest.mark.timeout(60)
def test_cli_predict_answers_the_good_image_beside_a_fifo(tmp_path):
    good = _save(tmp_path / "good.png", np.full((32, 32, 3), 90, np.uint8))
    corpus = hostile_files(tmp_path / "bad")
    args = [str(CLI), "predict", "--json", str(corpus["fifo"][0]), str(good)]
    args += [str(path) for path, _ in corpus.values() if path != corpus["fifo"][0]]
    done = subprocess.run(args, capture_output=True, timeout=50)
    results = json.loads(done.stdout.decode("utf-8"))
    assert results[1]["path"] == str(good) and results[1]["class"] in ("airplane", "bird")
    by_path = {r["path"]: r for r in results}
    for name, (path, words) in corpus.items():
        assert words in by_path[str(path)]["error"], name
    assert done.returncode == 1  # README: any image predict could not read -> 1
    errors = done.stderr.decode().splitlines()
    assert len(errors) == len(corpus) and all(
        line.startswith("cnn-tui: error: ") for line in errors
    )


# ---- image-folder data and training ---------------------------------------------------------


@posix_only
@pytest.mark.timeout(30)
def test_special_files_in_a_class_folder_are_skipped_and_counted(image_folder):
    hostile_files(image_folder / "train" / "bird")  # six entries: the loop is two links
    log = LogRecorder()
    dataset = load_dataset("cifar2", image_folder, on_log=log)
    assert len(dataset.train) == 8
    assert any("skipped 6 unreadable image file(s)" in m for m in log.warnings()), log.lines
    # the first reason is named, so the user knows what to look at
    assert any("not a regular file" in m or "symbolic link" in m for m in log.warnings())


@posix_only
@needs_cli
@pytest.mark.timeout(90)
def test_cli_train_with_a_fifo_in_a_class_folder_trains_and_warns(tmp_path, make_image_folder):
    images = make_image_folder(tmp_path / "images")
    os.mkfifo(images / "train" / "bird" / "fifo.png")
    done = subprocess.run(
        [str(CLI), "train", "--epochs", "1", "--batch-size", "4", "--data", str(images)]
        + ["--runs", str(tmp_path / "runs"), "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert done.returncode == 0, done.stderr
    assert "skipped 1 unreadable image file(s)" in done.stderr


@posix_only
@pytest.mark.timeout(120)
def test_detached_run_with_a_fifo_in_its_data_does_not_sit_in_starting(tmp_path, make_image_folder):
    from cnn_tui.core.detach import start_detached
    from cnn_tui.core.run_records import read_state
    from cnn_tui.core.runs import run_summary

    images = make_image_folder(tmp_path / "images")
    os.mkfifo(images / "train" / "airplane" / "fifo.jpg")
    config = TrainConfig(epochs=1, batch_size=4, data_dir=str(images), device="cpu")
    run, pid = start_detached(config, tmp_path / "runs")
    deadline = time.monotonic() + 100
    while run_summary(run).state in ("starting", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
    state = read_state(run)
    if state.get("state") in ("starting", "running"):
        os.kill(pid, 9)
    assert state["state"] == "finished", (state, (run / "train.log").read_text())


# ---- the decode cache -----------------------------------------------------------------------


def _caches() -> list[Path]:
    return sorted(data.cache_dir().glob("folder-*.npz"))


def _damage(how: str, cache: Path) -> None:
    whole = cache.read_bytes()
    if how == "truncated":
        cache.write_bytes(whole[: len(whole) // 2])
    elif how == "altered":  # a byte changed in the middle: the zip's CRC no longer matches
        middle = len(whole) // 2
        cache.write_bytes(whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1 :])
    elif how == "empty":
        cache.write_bytes(b"")
    elif how == "wrong shapes":
        np.savez(cache, images=np.zeros((3, 32, 32), np.uint8), labels=np.zeros(3, np.int64))
    elif how == "wrong dtype":
        with np.load(cache) as stored:
            images, labels = stored["images"], stored["labels"]
        np.savez(cache, images=images.astype(np.float32), labels=labels)
    elif how == "labels out of range":
        with np.load(cache) as stored:
            images, labels = stored["images"], stored["labels"]
        np.savez(cache, images=images, labels=labels + 7)
    elif how == "missing key":
        np.savez(cache, pictures=np.zeros(1))
    elif how == "pickle":
        np.savez(cache, images=np.array([{"a": 1}], dtype=object), labels=np.zeros(1))
    elif how == "fifo":
        cache.unlink()
        os.mkfifo(cache)
    else:
        raise AssertionError(how)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "how",
    [
        "truncated",
        "altered",
        "empty",
        "wrong shapes",
        "wrong dtype",
        "labels out of range",
        "missing key",
        "pickle",
        pytest.param("fifo", marks=posix_only),
    ],
)
def test_a_damaged_cache_is_discarded_named_and_rebuilt(image_folder, how):
    first = load_dataset("cifar2", image_folder)
    caches = _caches()
    assert len(caches) == 2
    for cache in caches:
        _damage(how, cache)
    log = LogRecorder()
    again = load_dataset("cifar2", image_folder, on_log=log)
    assert torch.equal(first.train.images, again.train.images)
    assert torch.equal(first.val.labels, again.val.labels)
    warned = " ".join(log.warnings())
    for cache in caches:
        assert str(cache) in warned, (how, log.lines)
    # rebuilt whole, under the same name, and read without a word the next time
    assert _caches() == caches and all(c.is_file() for c in caches)
    quiet = LogRecorder()
    load_dataset("cifar2", image_folder, on_log=quiet)
    assert quiet.warnings() == []
    assert not list(data.cache_dir().glob(".*.tmp")), "no temporary file left behind"


# ---- EXIF orientation -----------------------------------------------------------------------


def _oriented_png(path: Path) -> Path:
    """A 32x32 PNG, top half red and bottom half blue, tagged 'rotate 90 clockwise to show'."""
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[:16] = (255, 0, 0)
    pixels[16:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90 clockwise
    return _save(path, pixels, exif=exif)


@pytest.mark.timeout(20)
def test_exif_orientation_is_applied_when_loading_an_image(tmp_path):
    shown = load_image_array(_oriented_png(tmp_path / "turned.png"))
    # shown upright the red top half is on the right and the blue on the left
    assert tuple(shown[28, 28]) == (255, 0, 0)
    assert tuple(shown[4, 3]) == (0, 0, 255)


@pytest.mark.timeout(30)
def test_exif_orientation_is_applied_in_image_folder_data(image_folder):
    for split in ("train", "test"):
        for name in ("airplane", "bird"):
            for old in (image_folder / split / name).iterdir():
                old.unlink()
            _oriented_png(image_folder / split / name / "turned.png")
    dataset = load_dataset("cifar2", image_folder)
    picture = dataset.train.images[0].permute(1, 2, 0).numpy()
    assert tuple(picture[28, 28]) == (255, 0, 0) and tuple(picture[4, 3]) == (0, 0, 255)


# ---- classes without images -------------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("split", ["train", "test"])
def test_a_class_folder_without_images_is_refused_naming_it(image_folder, split):
    for old in (image_folder / split / "bird").iterdir():
        old.unlink()
    with pytest.raises(DataError) as caught:
        load_dataset("cifar2", image_folder)
    message = str(caught.value)
    assert str(image_folder / split / "bird") in message and "no images" in message
    assert "\n" not in message


@pytest.mark.timeout(20)
def test_a_class_folder_of_only_unreadable_files_is_refused(image_folder):
    for old in (image_folder / "test" / "bird").iterdir():
        old.write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"no readable images.*test/bird"):
        load_dataset("cifar2", image_folder)


@pytest.mark.timeout(20)
def test_cifar10_class_missing_from_the_validation_folder_is_refused(tmp_path, make_image_folder):
    root = make_image_folder(tmp_path / "images", classes=("cat", "dog", "emu"))
    for old in (root / "test" / "emu").iterdir():
        old.unlink()
    (root / "test" / "emu").rmdir()
    with pytest.raises(DataError, match=r"test/emu"):
        load_dataset("cifar10", root)


# ---- file names that are not UTF-8 ------------------------------------------------------------


@needs_cli
@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_predict_json_prints_non_utf8_names_as_valid_utf8(tmp_path):
    folder = os.fsencode(tmp_path)
    good = folder + b"/caf\xe9.png"
    with open(good, "wb") as handle:
        Image.fromarray(np.full((32, 32, 3), 40, np.uint8)).save(handle, "PNG")
    missing = folder + b"/\xff\xfe.png"
    done = subprocess.run(
        [os.fsencode(CLI), b"predict", b"--json", good, missing], capture_output=True, timeout=50
    )
    text = done.stdout.decode("utf-8")  # strict: lone surrogates would fail here
    results = json.loads(text)
    assert results[0]["path"] == os.fsdecode(folder) + "/caf\\xe9.png"
    assert results[0]["class"] in ("airplane", "bird")
    assert results[1]["path"] == os.fsdecode(folder) + "/\\xff\\xfe.png"
    assert "no such file" in results[1]["error"]
    assert done.returncode == 1
    done.stderr.decode("utf-8")
    # the plain table too
    plain = subprocess.run([os.fsencode(CLI), b"predict", good], capture_output=True, timeout=50)
    assert plain.returncode == 0, plain.stderr
    assert "caf\\xe9.png" in plain.stdout.decode("utf-8")


# ---- the app: a typed path in Predict, the file dialog ------------------------------------


@posix_only
@pytest.mark.timeout(60)
async def test_special_files_typed_in_predict_get_one_line_and_the_app_quits(tmp_path, monkeypatch):
    from screen_support import make_predict_app as make_app
    from screen_support import open_predict, panel_text
    from textual.widgets import Input

    monkeypatch.setenv("CNN_TUI_GRAPHICS", "halfcell")
    corpus = hostile_files(tmp_path / "bad")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_predict(pilot)
        await pilot.press("f")
        box = screen.query_one("#file-path", Input)
        for name, (path, words) in corpus.items():
            if name == "folder":
                continue  # a typed folder is browsed, not classified
            box.focus()
            box.value = str(path)
            await pilot.press("enter")
            for _ in range(100):
                if words in panel_text(screen):
                    break
                await pilot.pause(0.05)
            assert words in panel_text(screen), name
        assert app.is_running
    # leaving run_test quits the app: no worker is left blocked on a pipe


@posix_only
@pytest.mark.timeout(60)
async def test_the_file_dialog_refuses_a_named_pipe_and_hides_special_files(tmp_path):
    from cnn_tui.tui.widgets.file_picker import FilteredTree
    from screen_support import make_model_app as make_app
    from screen_support import open_model_screen, type_path

    folder = tmp_path / "weights-here"
    folder.mkdir()
    os.mkfifo(folder / "pipe.pt")
    os.symlink("nowhere.pt", folder / "broken.pt")
    (folder / "real.pt").write_bytes(b"x")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_model_screen(pilot)
        await pilot.press("l")
        dialog = app.screen
        await type_path(pilot, folder / "pipe.pt")
        error = str(dialog.query_one("#picker-error").render())
        assert "not a regular file (a named pipe)" in error
        assert app.screen is dialog, "the dialog stays open"
        tree = dialog.query_one("#picker-tree", FilteredTree)
        shown = [p.name for p in tree.filter_paths(folder.iterdir())]
        assert shown == ["real.pt"]
        await pilot.press("escape")


# ---- JSON and text files the program reads: run folders, the settings file ----------------


def _run_folder(runs: Path, name: str) -> Path:
    from cnn_tui.core.run_writer import append_metrics, write_state

    run = runs / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": "net", "epochs": 3}))
    numbers = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "epoch_seconds")
    append_metrics(run, {"epoch": 1, **dict.fromkeys(numbers, 0.5), "images_per_second": 9.0})
    write_state(run, state="finished", pid=999_999, started=0.0, ended=60.0)
    return run


@posix_only
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "name", ["metrics.jsonl", "state.json", "config.json", "progress.json", "train.lock"]
)
def test_a_named_pipe_in_a_run_folder_never_blocks_the_listing(tmp_path, name):
    from cnn_tui.core.run_lock import is_alive
    from cnn_tui.core.run_records import read_metrics, read_progress, read_state
    from cnn_tui.core.runs import list_runs

    runs = tmp_path / "runs"
    good = _run_folder(runs, "20260101-000000-net-good")
    odd = _run_folder(runs, "20260101-000001-net-pipe")
    (odd / name).unlink(missing_ok=True)
    os.mkfifo(odd / name)
    listed = {summary.name: summary for summary in list_runs(runs)}
    assert good.name in listed, "one odd run never hides the others"
    assert listed[good.name].state == "finished"
    read_state(odd), read_progress(odd), is_alive(odd)  # each answers at once
    metrics = read_metrics(odd)
    if name == "metrics.jsonl":
        assert metrics.epochs == [] and "not a regular file (a named pipe)" in metrics.warnings[0]


@posix_only
@pytest.mark.timeout(20)
def test_a_named_pipe_as_the_settings_file_is_ignored(tmp_path):
    from cnn_tui.tui.terminal_theme import saved_theme

    os.mkfifo(tmp_path / "settings.json")
    assert saved_theme(tmp_path / "settings.json") is None


# ---- CIFAR-10's own files: the torchvision batches and the downloaded archive -------------


@posix_only
@pytest.mark.timeout(30)
def test_a_named_pipe_among_cifar10s_batch_files_is_refused_in_one_line(tmp_path):
    batches = tmp_path / "data" / data.CIFAR10_FOLDER
    batches.mkdir(parents=True)
    os.mkfifo(batches / "data_batch_1")
    with pytest.raises(DataError) as caught:
        load_dataset("cifar2", tmp_path / "data")
    assert "data_batch_1" in str(caught.value)
    assert "not a regular file (a named pipe)" in str(caught.value)


@posix_only
@pytest.mark.timeout(30)
def test_a_named_pipe_as_the_cifar10_archive_falls_back_to_the_sample(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is off in tests")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    root = tmp_path / "data"
    root.mkdir()
    os.mkfifo(root / data.CIFAR10_ARCHIVE)
    log = LogRecorder()
    dataset = load_dataset("cifar2", root, on_log=log)
    assert dataset.is_sample
    assert any("not a regular file (a named pipe)" in m for m in log.warnings()), log.lines


@posix_only
@pytest.mark.timeout(30)
def test_the_predict_screens_folder_tab_passes_over_special_files(tmp_path):
    from cnn_tui.core.models import build_model
    from cnn_tui.core.predict import Predictor

    hostile_files(tmp_path / "shots")
    _save(tmp_path / "shots" / "good.png", np.full((32, 32, 3), 200, np.uint8))
    predictor = Predictor(build_model("net"), ["airplane", "bird"], torch.device("cpu"), {})
    answers = list(predictor.classify_folder(tmp_path / "shots"))
    assert [Path(a.path).name for a in answers] == ["good.png"]
    assert answers[0].label in ("airplane", "bird")
