"""Issue 11, the command line at 80 columns: help that lists the models and presets,
tables and epoch lines that fit an 80-column terminal without wrapping, file names that
tell files apart, plurals, no `0/? bytes` while data load, and `cnn-tui predict FOLDER`.

In-process checks draw on a fixed 80-column rich console (Output(console=...)); the
subprocess ones run the console script on an 80-column pseudo-terminal or in a pipe, each
under a timeout.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import torch
from cli_support import ANSI, needs_cli, on_a_terminal, run
from cnn_tui.core.events import EpochEnd, Finished, Started
from cnn_tui.core.models import build_model
from cnn_tui.core.registry import MODELS
from cnn_tui.core.run_writer import append_metrics
from cnn_tui.core.weights import save_weights
from cnn_tui.tui.cli.names import distinct_names, relative_name
from cnn_tui.tui.cli.output import Output, plural
from cnn_tui.tui.cli.parser import parse_args
from cnn_tui.tui.cli.summary import cmd_summary
from made_images import pixels
from PIL import Image
from rich.console import Console

pytestmark = needs_cli
SHARED_TEST = Path(__file__).resolve().parents[3] / "shared" / "data" / "cifar10-jpeg" / "test"


def console_80() -> tuple[Output, io.StringIO]:
    """An Output drawing on an 80-column terminal-like console, and what it wrote."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, color_system=None, highlight=False)
    return Output(console=console), buffer


def at_80(*args: object, timeout: float = 120):
    """The console script in a pipe, with COLUMNS=80 (argparse wraps its help to it)."""
    return run(*args, env={**os.environ, "COLUMNS": "80"}, timeout=timeout)


def on_80_columns(*args: object, cwd: Path | None = None) -> tuple[int, str]:
    """The console script on an 80-column pseudo-terminal: its status and its text."""
    status, text = on_a_terminal(*args, columns=80, cwd=cwd)
    return status, ANSI.sub("", text)


# ---- help -------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", [[], ["train"]], ids=["cnn-tui", "train"])
def test_help_lists_every_model_and_preset_within_80_columns(command):
    result = at_80(*command, "--help", timeout=50)
    assert result.returncode == 0 and result.stderr == ""
    text = result.stdout
    assert max(len(line) for line in text.splitlines()) <= 80, text
    models = text[text.index("\nmodels:\n") :]
    for name in MODELS:  # each model at the start of its catalogue line, never cut
        assert re.search(rf"^  {re.escape(name)}\s", models, re.M), name
    presets = text[text.index("\npresets:\n") :]
    assert re.search(r"^  book\s+sgd, lr 0\.01, batch 64, 100 epochs", presets, re.M)
    assert re.search(r"^  fast\s+adam, lr 0\.005, batch 64, 8 epochs", presets, re.M)
    assert "net-res-\n" not in text and "fc-\n" not in text  # no name broken at a hyphen


# ---- names ------------------------------------------------------------------------------------


def test_names_are_relative_then_shortened_from_the_left_and_told_apart():
    assert relative_name("/home/me/pics/a.png", cwd="/home/me") == "pics/a.png"
    assert relative_name("/elsewhere/a.png", cwd="/home/me") == "/elsewhere/a.png"
    assert relative_name("a.png", cwd="/home/me") == "a.png"
    deep = "/data/some/very/long/folder/name/for/testing"
    shown = distinct_names([f"{deep}/one/photo.jpg", f"{deep}/two/photo.jpg"], 30, cwd="/x")
    assert shown == ["…ame/for/testing/one/photo.jpg", "…ame/for/testing/two/photo.jpg"]
    assert all(len(name) == 30 for name in shown)
    # differing only far to the left: cut in the middle, keeping the difference
    tail = "/very/long/common/folder/name/photo.jpg"
    shown = distinct_names([f"/a/one{tail}", f"/a/two{tail}", "b.png"], 30, cwd="/")
    assert all(len(name) <= 30 for name in shown) and len(set(shown)) == 3
    assert shown[0].startswith("a/o") and shown[1].startswith("a/t")
    assert shown[0].endswith("photo.jpg") and shown[2] == "b.png"


# ---- summary and train lines --------------------------------------------------------------


@pytest.mark.parametrize("model", list(MODELS))
def test_summary_table_fits_80_columns_on_a_terminal(model):
    out, buffer = console_80()
    args = parse_args(["summary", "--model", model, "--dataset", "cifar10"])
    assert cmd_summary(args, out) == 0
    lines = buffer.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    rows = lines[header + 1 : lines.index(next(x for x in lines if x.startswith("total param")))]
    assert len(rows) >= 4
    for line in lines[header:]:
        assert len(line) <= 80
    for row in rows:  # a layer per line: name, type, ..., then its mult-adds; nothing wrapped
        assert re.match(r"^\S+\s+\S+\s.*\]\s+[\d,]+\s+[\d,]+$", row), row
    assert "(all trainable)" in buffer.getvalue()


def epoch(n: int, accuracy: float) -> EpochEnd:
    return EpochEnd(n, 0.6931, 0.5123, 0.6999, accuracy, 1234.5, 123_456.0)


def started(epochs: int, start: int = 0, run_dir: str = "/runs/r") -> Started:
    return Started(run_dir, "net", "CIFAR-2", "cpu", epochs, start, 100, 20)


@pytest.mark.parametrize("epochs", [3, 30, 5000])
def test_an_epoch_line_never_wraps_at_80_columns_and_the_star_is_explained_once(epochs):
    from cnn_tui.core.train import TrainControl
    from cnn_tui.tui.cli.train_view import BEST_NOTE, TrainView

    out, buffer = console_80()
    with TrainView(out, TrainControl()) as view:
        view(started(epochs))
        for n, accuracy in enumerate([0.6, 0.55, 0.7], start=1):
            view(epoch(n, accuracy))
    lines = buffer.getvalue().splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 3 and all(len(line) <= 80 for line in epoch_lines), lines
    assert all(re.search(r"val loss 0\.6999 acc 0\.\d{4}", line) for line in epoch_lines)
    assert [line.endswith("  *") for line in epoch_lines] == [True, False, True]
    assert lines.count(BEST_NOTE) == 1
    assert lines.index(BEST_NOTE) == lines.index(epoch_lines[0]) - 1


def test_in_a_pipe_the_epoch_line_is_whole_and_unmarked(capsys):
    from cnn_tui.core.train import TrainControl
    from cnn_tui.tui.cli.train_view import TrainView

    view = TrainView(Output(), TrainControl())  # pytest's capture: not a terminal
    view(started(5000))
    view(epoch(1, 0.6))
    finished = Finished("finished", "/runs/r", "/runs/r/weights.pt", 1, 0.6, 1)
    view(finished)  # as train() ends
    assert view.report(finished) == 0
    text = capsys.readouterr().out
    assert "epoch    1/5000  train loss 0.6931 acc 0.5123  val loss 0.6999 acc 0.6000  " in text
    assert "1234.5s  123,456 img/s\n" in text and "*" not in text
    assert "finished: 1 epoch, best val accuracy 0.6000 (epoch 1)" in text
    # where the wall clock went (issue 13: the breakdown from launch), within 80 columns
    assert re.search(
        r"\ntime: [\d.]+ s in all: [\d.]+ s to load \(imports, data\), then "
        r"[\d.]+ s for 1 epoch\n",
        text,
    ), text
    from cnn_tui.tui import STARTED

    view.started_at, view.finished_at = STARTED + 3.5, STARTED + 10.6
    line = view.time_line(100, STARTED + 1010.7)
    assert line == (
        "time: 1010.7 s in all: 3.5 s to load (imports, data), then 7.1 s for 100 epochs"
    )
    assert len(line) <= 80


def test_after_a_resume_the_star_marks_only_a_best_of_the_whole_run(tmp_path):
    from cnn_tui.core.train import TrainControl
    from cnn_tui.tui.cli.train_view import TrainView

    for n, accuracy in enumerate([0.6, 0.8, 0.7], start=1):
        append_metrics(tmp_path, epoch(n, accuracy))
    out, buffer = console_80()
    with TrainView(out, TrainControl()) as view:
        view(started(6, start=3, run_dir=str(tmp_path)))
        view(epoch(4, 0.75))  # below epoch 2's 0.8: no star
        view(epoch(5, 0.85))
    lines = buffer.getvalue().splitlines()
    assert "resuming after epoch 3; epochs 4 to 6" in lines
    marks = [line.endswith("*") for line in lines if line.startswith("epoch ")]
    assert marks == [False, True]
    out, buffer = console_80()
    with TrainView(out, TrainControl()) as view:
        view(started(4, start=3, run_dir=str(tmp_path)))
    assert "resuming after epoch 3; epoch 4" in buffer.getvalue().splitlines()


def test_plural():
    assert [plural(1, "epoch"), plural(2, "epoch"), plural(0, "image")] == [
        "1 epoch",
        "2 epochs",
        "0 images",
    ]
    assert plural(1200, "class", "classes") == "1,200 classes"


def test_loading_from_disk_shows_no_byte_count():
    from cnn_tui.tui.cli.progress import loading_progress

    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=True, color_system=None)
    with loading_progress(console) as progress:
        task = progress.add_task("loading cifar2 from data", total=None)
        progress.refresh()
        loading = ANSI.sub("", buffer.getvalue())
        progress.update(task, description="downloading CIFAR-10", completed=5_000_000)
        progress.update(task, total=170_000_000)
        progress.refresh()
    assert "loading cifar2 from data" in loading
    assert "?" not in loading and "bytes" not in loading
    assert "5.0/170.0 MB" in buffer.getvalue()


# ---- predict: names at 80 columns, and folders ----------------------------------------------


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    meta = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"]}
    return save_weights(tmp_path / "net.pt", build_model("net"), meta)


def photos(folder: Path, count: int, prefix: str = "") -> list[Path]:
    """count images: CIFAR-10 test images where ../shared/data has them, else made ones."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        target = folder / f"{prefix}{index:04d}.jpg"
        real = SHARED_TEST / ("bird" if index % 2 else "airplane") / f"{index:04d}.jpg"
        if real.is_file():
            shutil.copyfile(real, target)
        else:
            Image.fromarray(pixels(32, 32, seed=index)).save(target)
        made.append(target)
    return made


@pytest.mark.timeout(150)
def test_predict_on_80_columns_tells_files_with_one_name_apart(tmp_path, weights):
    deep = tmp_path / "pictures" / "holidays" / "2026" / "a-rather-long-folder-name"
    [one] = photos(deep / "one", 1)
    [two] = photos(deep / "two", 1)
    status, text = on_80_columns("predict", "--weights", weights, one, two)
    assert status == 0, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 80, text
    rows = [line for line in lines if re.search(r"(airplane|bird)\s+\d\.\d{3}\s+\d\.\d{3}$", line)]
    assert len(rows) == 2, text
    assert "one/0000.jpg" in rows[0] and "two/0000.jpg" in rows[1]
    assert lines[-1] == "This model knows only airplane and bird: any picture gets one of the two."
    # below the current folder: relative names, whole
    status, text = on_80_columns(
        "predict", "--weights", weights, one, two, cwd=tmp_path / "pictures"
    )
    assert status == 0 and "holidays/2026/a-rather-long-folder-name/one/0000.jpg" in text


@pytest.mark.timeout(150)
def test_predict_a_folder_answers_each_image_then_counts_per_class(tmp_path, weights):
    folder = tmp_path / "shots"
    made = photos(folder, 5)
    (folder / "notes.txt").write_text("not an image suffix: skipped\n")
    (folder / ".hidden.png").write_bytes(b"skipped")
    (folder / "sub").mkdir()
    photos(folder / "sub", 1)  # subfolders are not searched
    os.mkfifo(folder / "pipe.png")  # not a regular file: never opened
    result = at_80("predict", "--weights", weights, folder, timeout=100)
    assert result.returncode == 0 and result.stderr == "", result
    lines = result.stdout.splitlines()
    rows = [line for line in lines if re.search(r"\.jpg\s+(airplane|bird)\s", line)]
    assert [row.split()[0] for row in rows] == [str(path) for path in made]
    counts = {
        name: sum(1 for row in rows if row.split()[1] == name) for name in ("airplane", "bird")
    }
    words = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    assert lines[-1] == f"5 images: {words}"

    # --json: the array predict gives for files, one object per image, sorted by path
    (folder / "broken.png").write_text("text, not pixels\n")
    result = at_80("predict", "--weights", weights, folder, "--json", timeout=100)
    assert result.returncode == 1  # one image could not be read, as for files
    data = json.loads(result.stdout)
    paths = sorted([*map(str, made), str(folder / "broken.png")])
    assert [item["path"] for item in data] == paths
    files = json.loads(at_80("predict", "--weights", weights, *paths, "--json").stdout)
    assert data == files
    [broken] = [item for item in data if "error" in item]
    assert broken["path"] == str(folder / "broken.png") and "not an image" in broken["error"]
    assert result.stderr == f"cnn-tui: error: {broken['path']}: {broken['error']}\n"


@pytest.mark.timeout(150)
def test_a_folder_without_images_is_one_line_and_status_1(tmp_path, weights):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    photos(empty / "sub", 1)
    (empty / "readme.txt").write_text("hello\n")
    words = "a folder with no image file (subfolders are not searched)"
    result = at_80("predict", "--weights", weights, empty, timeout=100)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"cnn-tui: error: {empty}: {words}\n"
    # beside files, as a bad file is: the others are answered, and it is an error object
    [good] = photos(tmp_path / "good", 1)
    result = at_80("predict", "--weights", weights, "--json", empty, good, timeout=100)
    assert result.returncode == 1
    [folder, image] = json.loads(result.stdout)
    assert folder == {"path": str(empty), "error": words}
    assert image["path"] == str(good) and image["class"] in ("airplane", "bird")


def test_a_table_title_is_one_line_not_wrapped_to_the_table():
    """eval's confusion matrix title used to wrap to its narrow table's width."""
    out, buffer = console_80()
    title = "confusion matrix, validation set (rows: true class, columns: predicted)"
    out.table([("true \\ predicted", "left"), ("bird", "right")], [["bird", "9"]], title=title)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == title and lines[1].split() == ["true", "\\", "predicted", "bird"]


def test_weights_trained_on_the_sample_are_named_so_in_one_line(capsys):
    """`predict` and `eval` say it in one line on stderr, within 80 columns."""
    from cnn_tui.tui.cli.output import warn_sample_weights

    warn_sample_weights(Output(), {"data_source": "folder"})
    warn_sample_weights(Output(), None)
    assert capsys.readouterr().err == ""
    warn_sample_weights(Output(), {"data_source": "sample", "train_images": 500})
    line = capsys.readouterr().err.rstrip("\n")
    assert (
        line == "cnn-tui: warning: weights trained on the 500-image sample, not the full data set"
    )
    assert len(line) <= 80


def test_eval_names_its_weights_and_data_within_80_columns():
    """A long data name goes on under its own column, broken between words."""
    from app_support import tiny_dataset
    from cnn_tui.core.evaluate import Evaluation
    from cnn_tui.tui.cli.evaluate import _report

    name = "CIFAR-2 (image folder /home/someone/data/cifar10-jpeg, 10000 train / 2000 val)"
    dataset = tiny_dataset(4, 4, name=name)
    scores = Evaluation(0.5, 0.75, [[2, 0], [1, 1]], torch.zeros(4), torch.zeros(4, 2))
    out, buffer = console_80()
    _report(out, dataset, "runs/a/weights.pt (net, 2 classes)", scores, scores)
    lines = buffer.getvalue().splitlines()
    assert lines[:3] == [
        "weights: runs/a/weights.pt (net, 2 classes)",
        "data:    CIFAR-2 (image folder /home/someone/data/cifar10-jpeg, 10000 train /",
        "         2000 val)",
    ]
    assert max(len(line) for line in lines) <= 80
