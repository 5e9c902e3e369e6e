"""Hostile and odd weights files (issue 9, items 4, 7, 9 and part of 14): each is refused
with one line, without hanging, without using much memory, by the CLI and by the app; a save
never replaces a file cnn-tui did not write without asking; no --json output is invalid JSON.

Every test that opens a special file or a hostile archive runs under a short timeout, so a
hang fails the test instead of hanging CI.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import torch
from cli_support import CLI, needs_cli
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import (
    MAX_PICKLE_BYTES,
    MAX_WEIGHTS_BYTES,
    WeightsError,
    load_model,
    read_sidecar,
    save_weights,
)
from cnn_tui.core.weights_files import WeightsExist, save_current_weights
from cnn_tui.tui.cli import output
from cnn_tui.tui.main import main
from PIL import Image


def _error(path: Path, **kw) -> str:
    with pytest.raises(WeightsError) as caught:
        load_model(path, **kw)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def _net_weights(path: Path, seed: int = 0, **meta) -> Path:
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"], **meta}
    return save_weights(path, build_model("net"), info)


def _image(folder: Path) -> Path:
    path = folder / "x.png"
    Image.new("RGB", (32, 32), (120, 30, 200)).save(path)
    return path


def _strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which JSON does not have."""

    def refuse(constant: str):
        raise AssertionError(f"invalid JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# ---- item 4: NaN and infinite weights -----------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_weights_are_refused_on_load(tmp_path, bad):
    state = {k: v.clone() for k, v in build_model("net").state_dict().items()}
    state["conv2.weight"][0, 0, 0, 0] = bad
    path = tmp_path / "diverged.pt"
    torch.save(state, path)
    message = _error(path)
    assert "conv2.weight" in message and ("NaN" in message or "infinite" in message)


def test_non_finite_weights_in_a_checkpoint_are_refused(tmp_path):
    model = build_model("net")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["fc2.bias"][:] = math.nan
    path = tmp_path / "last.pt"
    torch.save({"model": state, "epoch": 3}, path)
    assert "fc2.bias" in _error(path)


def test_predict_json_with_nan_weights_prints_no_json_and_one_line(tmp_path, capsys):
    state = {k: v.clone() for k, v in build_model("net").state_dict().items()}
    state["fc1.weight"][:] = math.nan
    weights = tmp_path / "nan.pt"
    torch.save(state, weights)
    status = main(["predict", "--json", "--weights", str(weights), str(_image(tmp_path))])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "fc1.weight" in err and "NaN" in err


def test_every_json_output_is_strict_json(capsys):
    """Non-finite numbers (a diverged run's loss, a model that overflows) become null: the
    output stays valid JSON for any reader."""
    output.Output(json_mode=True).emit_json(
        {"loss": math.nan, "values": [math.inf, -math.inf, 1.5], "nested": {"p": math.nan}},
        indent=2,
    )
    data = _strict_json(capsys.readouterr().out)
    assert data == {"loss": None, "values": [None, None, 1.5], "nested": {"p": None}}


async def test_probability_bars_and_verdict_draw_nan_without_crashing():
    from cnn_tui.tui.widgets.picture import ProbabilityBars, to_picture, verdict
    from textual.app import App

    class Bars(App):
        def compose(self):
            yield ProbabilityBars(id="bars")

    app = Bars()
    async with app.run_test(size=(60, 10)) as pilot:
        bars = app.query_one(ProbabilityBars)
        bars.show({"airplane": math.nan, "bird": math.inf, "cat": -math.inf})
        await pilot.pause()
        text = str(bars.render())
        assert "airplane" in text and "?" in text
        bars.show({"airplane": math.nan, "bird": 0.25}, true="bird")
        await pilot.pause()
        assert app.is_running
    assert "bird" in str(verdict({"airplane": math.nan, "bird": 0.25}, "bird"))
    assert str(verdict({"airplane": math.nan}, None)) != ""
    import numpy as np

    pixels = np.full((32, 32, 3), np.nan, dtype=np.float32)
    assert to_picture(pixels).size == (256, 256)


# ---- item 14 (parts): zero classes, special files ------------------------------------------


def test_zero_class_weights_get_one_clear_line(tmp_path, capsys):
    state = build_model("net").state_dict()
    state["fc2.weight"] = torch.zeros(0, 32)
    state["fc2.bias"] = torch.zeros(0)
    path = tmp_path / "zero.pt"
    torch.save(state, path)
    assert "no class" in _error(path)
    status = main(["predict", "--weights", str(path), str(_image(tmp_path))])
    err = capsys.readouterr().err
    assert status == 1 and "no class" in err and "unexpected" not in err
    assert err.count("\n") == 1, err


def _special(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "fifo":
        path = tmp_path / "fifo.pt"
        os.mkfifo(path)
        return path, "not a regular file (a named pipe)"
    if kind == "dev-zero":
        return Path("/dev/zero"), "not a regular file (a character device)"
    if kind == "loop":
        a, b = tmp_path / "a.pt", tmp_path / "b.pt"
        a.symlink_to(b)
        b.symlink_to(a)
        return a, "symbolic link loop"
    if kind == "folder":
        return tmp_path, "folder"
    raise ValueError(kind)


SPECIAL = ["fifo", "dev-zero", "loop", "folder"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", SPECIAL)
def test_special_files_as_weights_are_named_for_what_they_are(tmp_path, kind):
    path, expected = _special(tmp_path, kind)
    message = _error(path)
    assert expected in message and "empty" not in message


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", SPECIAL)
def test_cli_predict_and_eval_refuse_special_weights_in_one_line(tmp_path, kind, capsys):
    path, expected = _special(tmp_path, kind)
    image = _image(tmp_path)
    for argv in (
        ["predict", "--weights", str(path), str(image)],
        ["predict", "--json", "--weights", str(path), str(image)],
        ["eval", "--weights", str(path), "--data", str(tmp_path / "no-data")],
    ):
        status = main(argv)
        out, err = capsys.readouterr()
        assert status == 1 and out == "", argv
        assert err.count("\n") == 1 and expected in err, (argv, err)


@pytest.mark.timeout(30)
@needs_cli
def test_the_console_script_refuses_a_fifo_as_weights_without_hanging(tmp_path):
    fifo = tmp_path / "w.pt"
    os.mkfifo(fifo)
    result = subprocess.run(
        [str(CLI), "predict", "--weights", str(fifo), str(_image(tmp_path))],
        capture_output=True,
        text=True,
        timeout=25,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("not a regular file (a named pipe)")


@pytest.mark.timeout(20)
def test_a_fifo_sidecar_or_run_config_is_ignored_without_hanging(tmp_path):
    weights = tmp_path / "w.pt"
    torch.save(build_model("net").state_dict(), weights)
    os.mkfifo(tmp_path / "w.json")
    os.mkfifo(tmp_path / "config.json")
    assert read_sidecar(weights) == {}
    _, meta = load_model(weights)
    assert meta["model"] == "net"


@pytest.mark.timeout(20)
def test_a_fifo_for_a_runs_weights_json_does_not_hang_the_comparison(tmp_path):
    from cnn_tui.core.inspection import find_trained_weights

    run = tmp_path / "runs" / "run-1"
    run.mkdir(parents=True)
    torch.save(build_model("net").state_dict(), run / "weights.pt")
    os.mkfifo(run / "weights.json")
    assert find_trained_weights(tmp_path / "runs", tmp_path / "no-shipped") == []


# ---- item 9: archives that declare more than any model of this app -----------------------

_MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys
    import torch
    from pathlib import Path
    from cnn_tui.core.weights import WeightsError, load_model
    from cnn_tui.core.resume import load_checkpoint
    from cnn_tui.core.models import build_model
    build_model("net")  # everything a load touches is imported before the baseline
    load = load_checkpoint if sys.argv[2] == "checkpoint" else load_model
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        load(Path(sys.argv[1]))
        print("loaded")
    except WeightsError as error:
        print("refused:", error)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"grown_kb={grown}")
    """
)


def _load_in_a_subprocess(path: Path, how: str = "weights") -> tuple[str, int]:
    """What load_model (or, how="checkpoint", a resume's load_checkpoint) says of path, and
    by how much the peak memory grew (KB)."""
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path), how],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    return lines[0], int(lines[-1].split("=")[1])


def _torch_like_zip(path: Path, pickle_chunks, extra: int = 0) -> Path:
    """A zip laid out as torch.save lays it out, its data.pkl deflated from pickle_chunks."""
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("archive/data.pkl")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as handle:
            for chunk in pickle_chunks:
                handle.write(chunk)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
        for index in range(extra):
            archive.writestr(f"archive/data/{index}", b"")
    return path


def _huge_string_pickle(size: int):
    """A protocol-2 pickle of one str of `size` characters, made piece by piece."""
    yield b"\x80\x02X" + struct.pack("<I", size)
    piece = b"a" * (1 << 20)
    for _ in range(size // len(piece)):
        yield piece
    yield b"a" * (size % len(piece)) + b"."


@pytest.mark.timeout(90)
def test_a_small_zip_holding_a_huge_pickled_string_is_refused_in_little_memory(tmp_path):
    size = 200 << 20  # a 200 MB string: before the fix, loading it grew memory by ~1 GB
    path = _torch_like_zip(tmp_path / "bomb.pt", _huge_string_pickle(size))
    assert path.stat().st_size < 1 << 20, "the hostile file itself is small"
    said, grown_kb = _load_in_a_subprocess(path)
    assert said.startswith("refused:") and "data.pkl" in said, said
    assert grown_kb < 50 * 1024, f"peak memory grew by {grown_kb} KB"


@pytest.mark.timeout(90)
def test_a_runs_last_pt_holding_a_huge_pickled_string_is_refused_in_little_memory(tmp_path):
    """A resume reads last.pt with its own bound (1 GB): the zip's directory is checked too."""
    run = tmp_path / "run"
    run.mkdir()
    path = _torch_like_zip(run / "last.pt", _huge_string_pickle(200 << 20))
    said, grown_kb = _load_in_a_subprocess(path, "checkpoint")
    assert said.startswith("refused:") and "data.pkl" in said, said
    assert grown_kb < 50 * 1024, f"peak memory grew by {grown_kb} KB"


@pytest.mark.timeout(60)
def test_a_zip_whose_header_lies_about_its_size_is_refused_in_little_memory(tmp_path):
    """data.pkl is a few bytes, deflated, but its headers declare 3 GB: refused from the
    central directory, nothing inflated."""
    real = pickle.dumps({"w": 1}, protocol=2)
    path = _torch_like_zip(tmp_path / "liar.pt", [real])
    data = bytearray(path.read_bytes())
    name = b"archive/data.pkl"
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    assert data[central + 46 : central + 46 + len(name)] == name
    struct.pack_into("<I", data, local + 22, 3 << 30)  # uncompressed size: 3 GB
    struct.pack_into("<I", data, central + 24, 3 << 30)
    path.write_bytes(bytes(data))
    said, grown_kb = _load_in_a_subprocess(path)
    assert said.startswith("refused:") and "data.pkl" in said, said
    assert grown_kb < 50 * 1024, f"peak memory grew by {grown_kb} KB"


@pytest.mark.timeout(60)
def test_an_archive_with_too_many_entries_is_refused(tmp_path):
    path = _torch_like_zip(tmp_path / "many.pt", [pickle.dumps({}, protocol=2)], extra=40_000)
    assert "entries" in _error(path)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_a_weights_file_larger_than_any_model_is_refused_unread(tmp_path, zip_format):
    path = tmp_path / "big.pt"
    torch.save(build_model("net").state_dict(), path, _use_new_zipfile_serialization=zip_format)
    with open(path, "r+b") as handle:
        handle.truncate(MAX_WEIGHTS_BYTES + 1)  # sparse: takes no disk
    assert "too large" in _error(path)


def test_the_bounds_hold_every_model_this_app_trains():
    """The limits leave room: net-res-deep with 100 blocks, as a checkpoint with Adam's
    moments, is far below them."""
    import io

    model = build_model("net-res-deep", 10, 100)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    pickled = next(i.file_size for i in archive.infolist() if i.filename.endswith("data.pkl"))
    assert 4 * len(buffer.getvalue()) < MAX_WEIGHTS_BYTES
    assert 10 * pickled < MAX_PICKLE_BYTES


def test_a_view_declaring_far_more_elements_than_its_storage_is_refused(tmp_path):
    """A tensor may be a stride-0 view of one number declaring billions of elements: cheap to
    load, ruinous to check or copy. Refused by its element count."""
    state = dict(build_model("net").state_dict())
    state["fc1.weight"] = torch.zeros(1).as_strided((1 << 20, 1 << 12), (0, 0))
    path = tmp_path / "view.pt"
    torch.save(state, path)
    assert "too large" in _error(path)


# ---- item 7: saving never replaces a file cnn-tui did not write without asking ---------------


def test_saving_beside_an_unrelated_json_asks_first_and_keeps_it(tmp_path):
    source = _net_weights(tmp_path / "src" / "w.pt")
    target = tmp_path / "notes.pt"
    foreign = tmp_path / "notes.json"
    foreign.write_text('{"my": "own notes"}\n')
    with pytest.raises(WeightsExist) as asked:
        save_current_weights(source, target)
    assert "notes.json" in str(asked.value) and "not written by cnn-tui" in str(asked.value)
    assert foreign.read_text() == '{"my": "own notes"}\n' and not target.exists()
    save_current_weights(source, target, overwrite=True)  # the user said yes
    assert json.loads(foreign.read_text())["model"] == "net"


@pytest.mark.parametrize("which", ["weights", "sidecar"])
def test_an_existing_file_of_ours_still_asks_and_the_question_says_whose(tmp_path, which):
    source = _net_weights(tmp_path / "src" / "w.pt")
    target = tmp_path / "saved.pt"
    save_current_weights(source, target)
    meta = json.loads(target.with_suffix(".json").read_text())
    assert meta.get("written_by") == "cnn-tui", "our sidecars say who wrote them"
    if which == "sidecar":  # the weights went, our sidecar stayed: replaced without a word
        target.unlink()
        save_current_weights(source, target)
        assert target.exists()
        return
    with pytest.raises(WeightsExist) as asked:
        save_current_weights(source, target)
    assert "not written by cnn-tui" not in str(asked.value)


def test_weights_without_our_sidecar_are_not_ours(tmp_path):
    source = _net_weights(tmp_path / "src" / "w.pt")
    target = tmp_path / "theirs.pt"
    torch.save(build_model("net").state_dict(), target)
    with pytest.raises(WeightsExist) as asked:
        save_current_weights(source, target)
    assert "theirs.pt" in str(asked.value) and "not written by cnn-tui" in str(asked.value)


def test_a_folder_where_the_sidecar_goes_is_refused_before_anything_is_written(tmp_path):
    source = _net_weights(tmp_path / "src" / "w.pt")
    (tmp_path / "x.json").mkdir()
    with pytest.raises(WeightsError) as refused:
        save_current_weights(source, tmp_path / "x.pt", overwrite=True)
    assert "x.json" in str(refused.value)
    assert not (tmp_path / "x.pt").exists()


async def test_model_screen_save_asks_before_replacing_an_unrelated_json(tmp_path, monkeypatch):
    from app_support import static_text, wait_for
    from cnn_tui.tui.screens.confirm import ConfirmScreen
    from cnn_tui.tui.screens.model import ModelScreen
    from screen_support import make_model_app as make_app
    from screen_support import open_model_screen, type_path

    monkeypatch.chdir(tmp_path)
    target = tmp_path / "out.pt"
    foreign = tmp_path / "out.json"
    foreign.write_text("my own file\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_model_screen(pilot)
        await pilot.press("s")
        await type_path(pilot, target)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "out.json" in str(app.screen.question)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        assert foreign.read_text() == "my own file\n" and not target.exists()
        assert "not saved" in static_text(pilot, "#model-message")


# ---- the app: bad weights never end it ---------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "nan"])
async def test_the_model_screen_refuses_bad_weights_in_one_line_and_goes_on(tmp_path, kind):
    from app_support import static_text, wait_for
    from screen_support import make_model_app as make_app
    from screen_support import open_model_screen, type_path

    if kind == "fifo":
        bad = tmp_path / "bad.pt"
        os.mkfifo(bad)
        expected = "named pipe"
    else:
        state = {k: v.clone() for k, v in build_model("net").state_dict().items()}
        state["conv1.bias"][0] = math.nan
        bad = tmp_path / "bad.pt"
        torch.save(state, bad)
        expected = "NaN"
    os.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_model_screen(pilot)
        before = app.session.current_model
        await pilot.press("l")
        await type_path(pilot, bad)
        if kind == "fifo":  # the file dialog itself names it (core/safe_files.regular_stat)
            assert expected in static_text(pilot, "#picker-error")
            await pilot.press("escape")
            # and the loader refuses it too, should it get such a path another way
            app.screen._load(bad)
        await wait_for(pilot, lambda: getattr(app.screen, "busy", "x") == "")
        message = static_text(pilot, "#model-message")
        assert expected in message and "unchanged" in message
        assert app.session.current_model is before and app.is_running


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "nan"])
async def test_the_app_started_with_bad_weights_says_so_and_goes_on(tmp_path, kind):
    from app_support import log_text, options, ready, tiny_dataset, wait_for
    from cnn_tui.tui.app import CnnTuiApp

    bad = tmp_path / "bad.pt"
    if kind == "fifo":
        os.mkfifo(bad)
        expected = "named pipe"
    else:
        state = {k: v.clone() for k, v in build_model("net").state_dict().items()}
        state["fc2.weight"][:] = math.inf
        torch.save(state, bad)
        expected = "infinite"
    app = CnnTuiApp(options(tmp_path, weights=str(bad)), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: expected in log_text(pilot))
        assert app.session.current_model is None or app.session.current_model.path != bad
        for key in ("2", "3", "4", "5", "1"):  # every screen opens with no weights
            await pilot.press(key)
            await pilot.pause(0.1)
        assert app.is_running
