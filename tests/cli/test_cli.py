"""The `cnn-tui` console script, run as a user runs it: exit statuses, one-line errors,
the stable JSON of issue 2, plain lines in a pipe, rich output on a terminal, Ctrl-C.

Each run pays torch's import (2-3 s), so checks are grouped and the many bad weights files
run side by side.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import types
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_support import ANSI, CLI, error_line, needs_cli, on_a_terminal, run
from cnn_tui.core import config
from cnn_tui.core.architecture import Architecture
from cnn_tui.core.models import build_model
from cnn_tui.core.summary import summarize
from cnn_tui.core.weights import save_weights
from cnn_tui.tui.cli.parser import parse_args
from cnn_tui.tui.main import main
from PIL import Image
from runs_support import EPOCH_KEYS, INSIDE_KEYS

pytestmark = needs_cli


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def config_words(check, value) -> str:
    """What core/config.py says about a bad value (the CLI must say the same)."""
    with pytest.raises(config.ConfigError) as caught:
        check(value)
    return str(caught.value)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels but holds none: only a guard on the header
    can say "too large"; decoding it would say "truncated"."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def random_png(path: Path, seed: int = 0, size: tuple[int, int] = (32, 32)) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


class _RunsCode:
    """Unpickling this (without weights_only) would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# ---- usage errors: exit 2, one line, the config's own words, nothing written --------------


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--epochs", "0"], config_words(config.check_epochs, "0")),
        (["train", "--epochs", "-3"], config_words(config.check_epochs, "-3")),
        (["train", "--lr", "-0.1"], config_words(config.check_lr, "-0.1")),
        (["train", "--lr=-1"], config_words(config.check_lr, "-1")),
        (["train", "--lr", "nan"], config_words(config.check_lr, "nan")),
        (["train", "--lr", "abc"], config_words(config.check_lr, "abc")),
        (["train", "--batch-size", "0"], config_words(config.check_batch_size, "0")),
        (["train", "--model", "resnet50"], "unknown model 'resnet50'"),
        (["train", "--preset", "slow"], "unknown preset 'slow'"),
        (["--epochs", "0"], config_words(config.check_epochs, "0")),  # the app's options too
        (["--lr", "nan", "train"], config_words(config.check_lr, "nan")),
        (["summary", "--model", "nope"], "unknown model 'nope'"),
        (["eval", "--dataset", "cifar3"], "unknown data set 'cifar3'"),
        (["predict"], "required: IMAGE"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, words, tmp_path):
    env = {**os.environ, "CNN_TUI_RUNS": str(tmp_path / "runs")}
    result = run(*args, env=env)
    assert result.returncode == 2, result
    line = error_line(result.stderr)
    assert words in line
    assert "usage:" not in result.stdout + result.stderr
    assert not (tmp_path / "runs").exists()  # refused before anything was made


def test_options_mean_the_same_before_or_after_the_subcommand():
    before = parse_args(["--epochs", "3", "--lr", "0.5", "--model", "net-width", "train"])
    after = parse_args(["train", "--epochs", "3", "--lr", "0.5", "--model", "net-width"])
    for args in (before, after):
        assert (args.command, args.epochs, args.lr, args.model) == ("train", 3, 0.5, "net-width")
    app = parse_args(["--preset", "fast", "--data", "/d", "--weights", "w.pt", "--runs", "/r"])
    assert app.command is None and app.preset == "fast" and app.weights == "w.pt"
    assert (app.data, app.runs, app.epochs) == ("/d", "/r", None)
    assert parse_args(["train", "--name", " my run "]).name == "my run"  # as stored
    assert parse_args(["train"]).name is None


# ---- the app and the headless commands -------------------------------------------------------


def test_no_subcommand_opens_the_app_with_its_options(monkeypatch):
    seen = []
    fake = types.ModuleType("cnn_tui.tui.app")
    fake.run_app = lambda args: seen.append(args) or 0
    monkeypatch.setitem(sys.modules, "cnn_tui.tui.app", fake)
    assert main(["--model", "net-depth", "--epochs", "7", "--batch-size", "32"]) == 0
    [args] = seen
    assert (args.command, args.model, args.epochs, args.batch_size) == (None, "net-depth", 7, 32)


def test_no_subcommand_without_the_app_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cnn_tui.tui.app", None)  # import raises ImportError
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnn-tui: error: ")


def test_headless_commands_never_import_textual_and_parse_before_torch():
    script = (
        "import sys\n"
        "from cnn_tui.tui.main import main\n"
        "assert 'torch' not in sys.modules, 'torch loaded before a command was chosen'\n"
        "rc = main(['summary'])\n"
        "assert 'textual' not in sys.modules, 'a headless command imported textual'\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # Not a terminal: plain aligned lines, no escape codes, the book's numbers.
    assert not ANSI.search(result.stdout)
    assert "total parameters: 18,090" in result.stdout
    assert "[432, 16, 1152, 8, 16384, 32, 64, 2]" in result.stdout
    assert re.search(r"^conv1\s+Conv2d\s+3x3\s+\[1, 16, 32, 32\]\s+448\s", result.stdout, re.M)


def test_the_console_script_freezes_the_heap_before_exit_and_still_runs_atexit():
    """script() (the installed cnn-tui) returns main's status after gc.freeze(), so that
    Python's exit does not walk torch's millions of objects; atexit handlers still run."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count()))\n"
        "from cnn_tui.tui.main import script\n"
        "sys.argv = ['cnn-tui', 'summary', '--json']\n"
        "sys.exit(script())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    summary, frozen = result.stdout.rsplit("\n", 2)[-3:-1]
    assert json.loads(summary)["total_params"] == 18_090
    assert int(frozen.removeprefix("frozen at exit: ")) > 100_000  # torch's objects, frozen
    assert CLI.read_text().count("import script") == 1, "the installed cnn-tui calls script()"


def test_summary_json_is_the_stable_object():
    result = run("summary", "--json", "--model", "net")
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data == summarize("net")
    assert data["total_params"] == 18_090
    assert data["param_list"] == [432, 16, 1152, 8, 16384, 32, 64, 2]


def test_summary_of_the_exercises_architectures(capsys):
    """Issue 12's figures, run in this process (torch is loaded already): the total and the
    difference from the book's Net; a bad kernel size or a width for a model that has its
    own is a usage error in one line."""
    assert main(["summary", "--model", "net", "--kernel-size", "5"]) == 0
    out = capsys.readouterr().out
    assert "architecture: 5x5 kernels, 16 and 8 channels, tanh" in out
    assert "total parameters: 20,906" in out and "the book's Net:   18,090 (+2,816 here)" in out
    for option, value, total in (("--kernel-size", "1,3", 17_034), ("--channels", "32,16", 38_386)):
        assert main(["summary", "--json", option, value]) == 0
        assert json.loads(capsys.readouterr().out)["total_params"] == total
    assert main(["summary", "--kernel-size", "4"]) == 2
    line = error_line(capsys.readouterr().err)
    assert (
        line
        == "cnn-tui: error: argument --kernel-size: kernel size must be odd, from 1 to 15, not 4"
    )
    assert main(["train", "--model", "net-depth", "--channels", "32,16"]) == 2
    assert "net model only, not 'net-depth'" in error_line(capsys.readouterr().err)


# ---- predict ---------------------------------------------------------------------------------


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    meta = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"]}
    return save_weights(tmp_path / "net.pt", build_model("net"), meta)


def test_predict_one_bad_one_good(tmp_path, weights):
    good = random_png(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_text("I am a text file\n")
    result = run("predict", bad, good, "--weights", weights)
    assert result.returncode == 1
    assert str(bad) in error_line(result.stderr) and "not an image" in result.stderr
    [answer] = [line for line in result.stdout.splitlines() if str(good) in line]
    assert re.search(r"(airplane|bird)\s+\d\.\d{3}\s+\d\.\d{3}$", answer)
    assert bad.read_text() == "I am a text file\n"


def test_predict_json_answers_every_good_file_in_order(tmp_path, weights):
    good = random_png(tmp_path / "good.png")
    photo = tmp_path / "photo.jpg"
    random_png(tmp_path / "p.png", seed=1, size=(300, 200))
    Image.open(tmp_path / "p.png").save(photo, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header(20000, 20000))
    text = tmp_path / "notes.png"
    text.write_text("hello\n")
    order = [good, cut, huge, photo, text]
    before = {p: digest(p) for p in order}
    result = run("predict", *order, "--weights", weights, "--json")
    assert result.returncode == 1  # some failed
    data = json.loads(result.stdout)
    assert [item["path"] for item in data] == [str(p) for p in order]
    for item in (data[0], data[3]):
        assert set(item) == {"path", "class", "probabilities"}
        assert item["class"] in ("airplane", "bird")
        assert list(item["probabilities"]) == ["airplane", "bird"]
        assert sum(item["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    for item in (data[1], data[2], data[4]):
        assert set(item) == {"path", "error"}
    assert "truncated" in data[1]["error"]
    assert "too large" in data[2]["error"]  # refused from the header, before decoding
    assert "not an image" in data[4]["error"]
    # A line per failed file on stderr, and nothing else.
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 3
    assert [line.split(": ")[2] for line in lines] == [str(cut), str(huge), str(text)]
    assert {p: digest(p) for p in order} == before


# ---- bad weights files: exit 1, one line, never run, never overwritten --------------------


@pytest.fixture(scope="module")
def bad_weights(tmp_path_factory):
    """Every kind of bad weights file, each run through the CLI (side by side)."""
    root = tmp_path_factory.mktemp("bad-weights")
    env = {
        **os.environ,
        "CNN_TUI_DATA": str(root / "home-data"),
        "CNN_TUI_RUNS": str(root / "home-runs"),
        "CNN_TUI_CACHE": str(root / "home-cache"),
    }
    image = random_png(root / "image.png")
    torch.manual_seed(0)
    net = build_model("net")
    torch.save(net.state_dict(), root / "zip.pt")
    torch.save(net.state_dict(), root / "legacy.pt", _use_new_zipfile_serialization=False)
    files = {
        "empty": b"",
        "truncated-zip": (root / "zip.pt").read_bytes()[:20_000],
        "truncated-legacy": (root / "legacy.pt").read_bytes()[:20_000],
        "corrupt": np.random.default_rng(1).bytes(5000),
        "text": b"these are not weights\n" * 20,
    }
    for name, data in files.items():
        (root / f"{name}.pt").write_bytes(data)
    # Another model's tensors under a sidecar that says "net".
    save_weights(root / "other-model.pt", build_model("net-width"), {"model": "net"})
    save_weights(root / "ten-classes.pt", build_model("net", 10), {"model": "net"})
    marker = root / "code-ran"
    with open(root / "pickle-4.pt", "wb") as handle:
        pickle.dump({"conv1.weight": _RunsCode(marker)}, handle, protocol=4)
    torch.save({"conv1.weight": _RunsCode(marker)}, root / "torch-code.pt")
    data = root / "images"
    for cls in ("airplane", "bird"):
        for split in ("train", "test"):
            (data / split / cls).mkdir(parents=True)
            random_png(data / split / cls / "0.png")

    cases = {
        "missing": (["predict", image, "--weights", root / "missing.pt"], "no such file"),
        "empty": (["predict", image, "--weights", root / "empty.pt"], "empty"),
        "truncated-zip": (["predict", image, "--weights", root / "truncated-zip.pt"], "truncated"),
        "truncated-legacy": (
            ["eval", "--weights", root / "truncated-legacy.pt", "--data", data],
            "truncated",
        ),
        "corrupt": (["predict", image, "--weights", root / "corrupt.pt"], "not a PyTorch"),
        "text": (["eval", "--weights", root / "text.pt", "--data", data], "not a PyTorch"),
        "folder": (["predict", image, "--weights", root], "folder"),
        "other-model": (
            ["predict", image, "--weights", root / "other-model.pt"],
            "conv1.weight (32, 3, 3, 3) vs (16, 3, 3, 3)",
        ),
        "other-model-named": (
            ["predict", image, "--weights", root / "zip.pt", "--model", "net-depth"],
            "does not fit net-depth",
        ),
        "ten-classes": (
            ["eval", "--weights", root / "ten-classes.pt", "--data", data, "--dataset", "cifar2"],
            "fc2.weight (10, 32) vs (2, 32)",
        ),
        "pickle-4": (["predict", image, "--weights", root / "pickle-4.pt"], "refused"),
        "torch-code": (["eval", "--weights", root / "torch-code.pt", "--data", data], "refused"),
    }
    before = {p: digest(p) for p in root.rglob("*") if p.is_file()}
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(run, *args, env=env) for name, (args, _) in cases.items()}
        results = {name: future.result() for name, future in futures.items()}
    after = {p: digest(p) for p in root.rglob("*") if p.is_file()}
    return {
        "results": results,
        "words": {name: words for name, (_, words) in cases.items()},
        "marker": marker,
        "unchanged": before == after,
        "runs": root / "home-runs",
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "truncated-zip",
        "truncated-legacy",
        "corrupt",
        "text",
        "folder",
        "other-model",
        "other-model-named",
        "ten-classes",
        "pickle-4",
        "torch-code",
    ],
)
def test_bad_weights_file(bad_weights, case):
    result = bad_weights["results"][case]
    assert result.returncode == 1, result
    line = error_line(result.stderr)
    assert bad_weights["words"][case] in line
    assert result.stdout == ""
    if case in ("pickle-4", "torch-code"):
        assert "could run code" in line
    assert not bad_weights["marker"].exists(), "loading a weights file ran its code"
    assert bad_weights["unchanged"], "a bad-input run changed or added a file"


# ---- training ----------------------------------------------------------------------------------


def test_train_json_lines_metrics_resume_and_eval(tmp_path, tiny_data, capsys):
    """Of a 5x5 net (issue 12): the run's files carry the architecture, so the resume, eval
    and a predict given only the weights file (and its sidecar) rebuild the 5x5 model."""
    runs = tmp_path / "runs"
    first = run("train", "--epochs", "2", "--batch-size", "8", "--data", tiny_data,
                "--runs", runs, "--json", "--name", "first try", "--kernel-size", "5")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(lines) == 3
    for number, record in enumerate(lines[:2], 1):
        assert set(record) == EPOCH_KEYS
        assert record["epoch"] == number and isinstance(record["epoch"], int)
        for key in EPOCH_KEYS - {"epoch"}:
            assert isinstance(record[key], float), key
        assert 0 <= record["train_accuracy"] <= 1 and 0 <= record["val_accuracy"] <= 1
        assert record["epoch_seconds"] > 0 and record["images_per_second"] > 0
    assert set(lines[2]) == {"run_dir", "weights"}
    run_dir = Path(lines[2]["run_dir"])
    assert run_dir.parent == runs and Path(lines[2]["weights"]).is_file()
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert all(set(m) == EPOCH_KEYS | INSIDE_KEYS for m in metrics)  # --json keeps its keys
    metrics = [{key: m[key] for key in EPOCH_KEYS} for m in metrics]
    assert metrics == lines[:2]
    assert json.loads((run_dir / "config.json").read_text())["name"] == "first try"

    again = run("train", "--resume", run_dir, "--epochs", "3", "--json")
    assert again.returncode == 0, again.stderr
    resumed = [json.loads(line) for line in again.stdout.splitlines()]
    assert [r["epoch"] for r in resumed[:-1]] == [3]
    assert resumed[-1]["run_dir"] == str(run_dir)
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    metrics = [{key: m[key] for key in EPOCH_KEYS} for m in metrics]
    assert [m["epoch"] for m in metrics] == [1, 2, 3] and metrics[:2] == lines[:2]
    assert metrics[2] == resumed[0]

    done = run("train", "--resume", run_dir)  # its 2 planned epochs are long done
    assert done.returncode == 2 and "already trained 3 epochs" in error_line(done.stderr)

    evaluated = run("eval", "--weights", resumed[-1]["weights"], "--data", tiny_data, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert set(report) == {"classes", "train_accuracy", "val_accuracy", "confusion_matrix"}
    assert report["classes"] == ["airplane", "bird"]
    matrix = report["confusion_matrix"]
    assert len(matrix) == 2 and all(len(row) == 2 for row in matrix)
    assert [sum(row) for row in matrix] == [10, 10]  # rows are the true classes
    assert report["val_accuracy"] == pytest.approx((matrix[0][0] + matrix[1][1]) / 20)
    assert 0 <= report["train_accuracy"] <= 1

    alone = tmp_path / "alone"  # no run folder beside it: the sidecar says the architecture
    alone.mkdir()
    for name in ("weights.pt", "weights.json"):
        (alone / name).write_bytes((run_dir / name).read_bytes())
    assert json.loads((run_dir / "config.json").read_text())["architecture"]["kernel_size"] == [
        5,
        5,
    ]
    image = tiny_data / "test" / "bird" / "0000.png"
    assert main(["predict", str(image), "--weights", str(alone / "weights.pt"), "--json"]) == 0
    [answer] = json.loads(capsys.readouterr().out)
    model = build_model("net", architecture=Architecture((5, 5)))
    model.load_state_dict(torch.load(alone / "weights.pt", weights_only=True))
    assert answer["probabilities"]["bird"] == pytest.approx(_bird_probability(model, image))


def _bird_probability(model: torch.nn.Module, image: Path) -> float:
    """What the model says of one image, computed here as the book does (normalised)."""
    from cnn_tui.core.data import MEAN, STD

    pixels = np.asarray(Image.open(image).convert("RGB"), dtype=np.float32) / 255
    batch = torch.from_numpy(pixels).permute(2, 0, 1)[None]
    mean, std = torch.tensor(MEAN)[:, None, None], torch.tensor(STD)[:, None, None]
    with torch.no_grad():
        return float(model.eval()((batch - mean) / std).softmax(1)[0, 1])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_train_in_a_pipe_prints_plain_lines_and_ctrl_c_or_sigterm_stops_cleanly(
    tmp_path, tiny_data, stop
):
    """SIGTERM (kill, a service manager) stops a foreground train as Ctrl-C does: before,
    it exited 0 and the run read as crashed (issue 9)."""
    runs = tmp_path / "runs"
    process = subprocess.Popen(
        [
            str(CLI),
            "train",
            "--epochs",
            "5000",
            "--batch-size",
            "8",
            "--data",
            str(tiny_data),
            "--runs",
            str(runs),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if line.startswith("epoch"):
                break
        process.send_signal(stop)
        rest, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    out = "".join(seen) + rest
    assert process.returncode == 130, out + err
    assert "Traceback" not in err and not ANSI.search(out)
    assert re.search(r"^epoch +1/5000  train loss \d\.\d{4} acc \d\.\d{4}  val loss ", out, re.M)
    [run_dir] = runs.iterdir()
    assert f"run folder: {run_dir}" in out and f"cnn-tui train --resume {run_dir}" in out
    state = json.loads((run_dir / "state.json").read_text())
    assert state["state"] == "stopped"
    done = len((run_dir / "metrics.jsonl").read_text().splitlines())
    assert 1 <= done < 5000 and state["epochs_done"] == done
    assert (run_dir / "last.pt").is_file() and (run_dir / "weights.pt").is_file()


def test_train_on_a_terminal_draws_with_rich(tmp_path, tiny_data):
    status, screen = on_a_terminal(
        "train", "--epochs", "2", "--data", tiny_data, "--runs", tmp_path, rows=30, columns=120
    )
    assert status == 0, screen
    assert ANSI.search(screen), "no terminal drawing"
    text = ANSI.sub("", screen)
    assert "run folder:" in text and "weights:" in text
    assert re.search(r"epoch 1/2 +train loss", text) and re.search(r"epoch 2/2 +train loss", text)
    assert "Traceback" not in text


def test_unwritable_runs_folder(tmp_path, tiny_data):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me\n")
    result = run("train", "--epochs", "1", "--data", tiny_data, "--runs", blocker / "runs")
    assert result.returncode == 1
    assert f"cannot write runs folder {blocker / 'runs'}" in error_line(result.stderr)
    assert blocker.read_text() == "keep me\n"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write to a read-only folder"
)
def test_read_only_runs_folder(tmp_path, tiny_data):
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o500)
    try:
        result = run("train", "--epochs", "1", "--data", tiny_data, "--runs", runs)
    finally:
        runs.chmod(0o700)
    assert result.returncode == 1 and "cannot write runs folder" in error_line(result.stderr)
    assert list(runs.iterdir()) == []


def _no_layout(root: Path) -> str:
    root.mkdir()
    (root / "notes.txt").write_text("hello\n")
    return "holds neither"


def _no_test_split(root: Path) -> str:
    (root / "train" / "airplane").mkdir(parents=True)
    random_png(root / "train" / "airplane" / "0.png")
    return "no test/ or val/"


def _no_bird(root: Path) -> str:
    for split in ("train", "test"):
        (root / split / "cat").mkdir(parents=True)
        random_png(root / split / "cat" / "0.png")
    return "no airplane or bird class"


@pytest.mark.parametrize("make", [_no_layout, _no_test_split, _no_bird])
def test_data_folder_without_the_expected_layout(tmp_path, make):
    data = tmp_path / "data"
    words = make(data)
    before = {p: digest(p) for p in data.rglob("*")}
    result = run("train", "--epochs", "1", "--data", data, "--runs", tmp_path / "runs")
    assert result.returncode == 1
    assert words in error_line(result.stderr)
    assert {p: digest(p) for p in data.rglob("*")} == before


def test_a_failed_run_ends_with_one_error_line_and_status_1(capsys):
    from cnn_tui.core.events import Finished, Log
    from cnn_tui.core.train import TrainControl
    from cnn_tui.tui.cli.output import Output
    from cnn_tui.tui.cli.train_view import TrainView

    view = TrainView(Output(json_mode=True), TrainControl())
    message = "the loss became nan in epoch 3; try a smaller learning rate"
    view(Log(message, "error"))  # shown once, by report(), not twice
    finished = Finished("failed", "/runs/r", "/runs/r/weights.pt", 2, 0.7, 2, message)
    view(finished)
    assert view.report(finished) == 1
    out, err = capsys.readouterr()
    assert json.loads(out) == {"run_dir": "/runs/r", "weights": "/runs/r/weights.pt"}
    assert err == f"cnn-tui: error: {message}\n"
