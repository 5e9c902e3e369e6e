"""Issue 9, item 14 (the command line's parts): what a user types or names never crashes
`cnn-tui` or buries its one error line.

- a seed beyond what torch takes is a usage error (2), not "unexpected ValueError" (1);
- a pasted 5,000-digit value is echoed shortened, so the error stays one short line;
- SIGTERM to a foreground `train` stops it as Ctrl-C does (run saved "stopped", status 130),
  and a detached trainer that gets SIGTERM ends "stopped" with its checkpoint;
- `train --detach` refuses a bad data folder before detaching (status 1, nothing started);
- Rich markup in class, file or folder names is printed as written, never parsed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_support import ANSI, error_line, needs_cli, on_a_terminal, run
from cnn_tui.core import config
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import save_weights
from cnn_tui.tui.main import main
from PIL import Image

pytestmark = needs_cli
LONG = "9" * 5000


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `cnn-tui ARGV` in this process; it must exit 2 with one line; return the line."""
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, (status, err[:2000])
    assert out == ""
    return error_line(err)


def random_png(path: Path, seed: int = 0) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


# ---- seeds and long values --------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["99999999999999999999999", str(2**64), "-1"])
def test_a_seed_torch_cannot_take_is_a_usage_error(seed, capsys):
    line = usage_error(["train", "--seed", seed], capsys)
    assert "seed" in line and "unexpected" not in line


def test_seed_bounds_are_checked_in_the_config():
    assert config.validate(config.TrainConfig(seed=2**64 - 1)).seed == 2**64 - 1
    assert config.validate(config.TrainConfig(seed=0)).seed == 0
    for bad in (2**64, -1, "x", 1.5, True):
        with pytest.raises(config.ConfigError, match="seed"):
            config.validate(config.TrainConfig(seed=bad))
    torch.manual_seed(2**64 - 1)  # the bound is what torch takes
    torch.Generator().manual_seed(2**64 - 1)


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--lr", LONG],
        ["train", "--lr", "x" + LONG],
        ["train", "--epochs", LONG],
        ["train", "--batch-size", LONG[:4000]],
        ["train", "--seed", LONG],
        ["train", "--seed", LONG[:4000]],
        ["train", "--momentum", "x" + LONG],
        ["train", "--blocks", LONG],
        ["train", "--model", "m" + LONG],
        ["train", "--optimizer", "o" + LONG],
        ["train", "--preset", "p" + LONG],
        ["train", "--" + "x" * 5000],
        ["train", "extra" + LONG],
        ["x" * 5000],
        ["predict", "a.png", "--dataset", "d" + LONG],
    ],
    ids=lambda argv: " ".join(a[:12] for a in argv),
)
def test_a_pasted_5000_character_value_gives_a_short_error(argv, capsys):
    line = usage_error(argv, capsys)
    assert len(line) < 300, f"{len(line)} characters: {line[:300]}"
    assert "…" in line


def test_config_errors_shorten_long_values():
    checks = [
        (config.check_epochs, LONG),
        (config.check_epochs, "-" + LONG[:4000]),
        (config.check_lr, "x" + LONG),
        (config.check_batch_size, LONG[:4000]),
        (config.check_batch_size, LONG),
    ]
    for check, value in checks:
        with pytest.raises(config.ConfigError) as caught:
            check(value)
        assert len(str(caught.value)) < 200 and "…" in str(caught.value), str(caught.value)[:300]
    with pytest.raises(config.ConfigError) as caught:
        config.validate(config.TrainConfig(model="m" * 5000))
    assert len(str(caught.value)) < 300


# ---- SIGTERM --------------------------------------------------------------------------------


# SIGTERM to a foreground train: tests/cli/test_cli.py::
# test_train_in_a_pipe_prints_plain_lines_and_ctrl_c_or_sigterm_stops_cleanly[sigterm]


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.timeout(90)
def test_sigterm_to_a_detached_trainer_ends_it_stopped(tmp_path, tiny_data):
    runs = tmp_path / "runs"
    started = run(
        "train", "--detach", "--json", "--epochs", "5000", "--batch-size", "8",
        "--data", tiny_data, "--runs", runs,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)
    run_dir, pid = Path(info["run_dir"]), info["pid"]
    try:
        metrics = run_dir / "metrics.jsonl"
        _wait(lambda: metrics.is_file() and metrics.read_text().count("\n") >= 1, 60, "epoch 1")
        os.kill(pid, signal.SIGTERM)  # the signal alone, no stop.request file

        def ended() -> bool:
            return json.loads((run_dir / "state.json").read_text())["state"] != "running"

        _wait(ended, 30, "the run to end")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    state = json.loads((run_dir / "state.json").read_text())
    assert state["state"] == "stopped", (state, (run_dir / "train.log").read_text())
    assert (run_dir / "last.pt").is_file() and (run_dir / "weights.pt").is_file()


# ---- train --detach checks the data folder first --------------------------------------------


def _no_test_split(root: Path) -> None:
    (root / "train" / "airplane").mkdir(parents=True)
    random_png(root / "train" / "airplane" / "0.png")


def _no_bird(root: Path) -> None:
    for split in ("train", "test"):
        (root / split / "airplane").mkdir(parents=True)
        random_png(root / split / "airplane" / "0.png")


def _no_images(root: Path) -> None:
    for split in ("train", "test"):
        for name in ("airplane", "bird"):
            (root / split / name).mkdir(parents=True)


def _a_file(root: Path) -> None:
    root.write_text("not a folder\n")


@pytest.mark.parametrize("make", [_no_test_split, _no_bird, _no_images, _a_file])
def test_detach_refuses_a_bad_data_folder_before_starting(tmp_path, make):
    data, runs = tmp_path / "data", tmp_path / "runs"
    make(data)
    result = run("train", "--detach", "--epochs", "1", "--data", data, "--runs", runs)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert str(data) in error_line(result.stderr)
    assert result.stdout == ""
    assert not runs.exists() or list(runs.iterdir()) == [], "no run folder was made"


# ---- Rich markup in names -------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_markup_in_class_file_and_folder_names_is_printed_as_written(tmp_path):
    classes = ["[/oops]", "[bold red]bird"]
    torch.manual_seed(0)
    weights = save_weights(
        tmp_path / "w.pt",
        build_model("net"),
        {"model": "net", "num_classes": 2, "classes": classes},
    )
    image = random_png(tmp_path / "[bold red]y.png")
    status, screen = on_a_terminal("predict", "--weights", weights, image)
    text = ANSI.sub("", screen)
    assert status == 0, text
    assert "MarkupError" not in text and "Traceback" not in text
    flat = " ".join(text.split())
    for name in (*classes, "[bold red]y.png"):
        assert name in flat, f"{name!r} not shown as written:\n{text}"

    # eval: class folders' names as table headers, the data folder's in the spinner (a
    # folder name cannot hold "/", so these are markup Rich would apply, not refuse)
    folders = ["[on red]plane", "[bold red]bird"]
    data = tmp_path / "[blink]d" / "data"
    for split, count in (("train", 4), ("test", 2)):
        for index, name in enumerate(folders):
            (data / split / name).mkdir(parents=True)
            for i in range(count):
                random_png(data / split / name / f"{i}.png", seed=10 * index + i)
    status, screen = on_a_terminal("eval", "--weights", weights, "--data", data)
    text = ANSI.sub("", screen)
    assert status == 0, text
    assert "MarkupError" not in text and "Traceback" not in text
    flat = " ".join(text.split())
    assert all(name in flat for name in folders), text
    assert "[blink]d" in flat, text


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["train", "summary"])
def test_a_block_count_beyond_any_loadable_model_is_a_usage_error(command, tmp_path):
    """--blocks 10000000 tried to build a net-res-deep of ten million blocks (memory, then
    a crash); more than MAX_BLOCKS could not be saved and loaded back anyway."""
    from cnn_tui.core.config import MAX_BLOCKS, ConfigError, TrainConfig, validate

    with pytest.raises(ConfigError, match="n_blocks must be from 1 to 1,000"):
        validate(TrainConfig(model="net-res-deep", n_blocks=MAX_BLOCKS + 1))
    assert validate(TrainConfig(model="net-res-deep", n_blocks=MAX_BLOCKS)).n_blocks == MAX_BLOCKS
    args = [command, "--model", "net-res-deep", "--blocks", "10000000"]
    if command == "train":
        args += ["--runs", str(tmp_path / "runs")]
    done = subprocess.run(
        [sys.executable, "-m", "cnn_tui.tui.main", *args],
        capture_output=True, text=True, timeout=50,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "n_blocks must be from 1 to 1,000" in done.stderr
