"""Run folders that lie, and resumes that must not lose history (issue 9, items 5, 6, 12, 13).

Odd metrics lines, state, config and progress files with wrong types; a run without
last.pt or with a damaged one; a resume on other data than the run's; a disk that fills up
mid-run and stays full. Each file a test writes is a hostile one of the issue's corpus.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch
from app_support import tiny_dataset
from cnn_tui.core import atomic
from cnn_tui.core import data as data_module
from cnn_tui.core import run_writer as writer_module
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.events import EpochEnd, Log, Progress
from cnn_tui.core.resume import Resume, ResumeRefused
from cnn_tui.core.run_files import RunError
from cnn_tui.core.run_records import read_config, read_metrics, read_progress, read_state
from cnn_tui.core.run_writer import append_metrics, write_state
from cnn_tui.core.runs import effective_state, list_runs, run_summary
from cnn_tui.core.train import train
from cnn_tui.tui.main import main
from cnn_tui.tui.runs_cache import RunFiles, RunsCache
from runs_support import epoch_record, write_run

GOOD = [epoch_record(1, (0.6, 0.6, 0.6, 0.6)), epoch_record(2, (0.5, 0.7, 0.5, 0.7))]
BAD_LINES = [
    '{"epoch": "x", "train_loss": 1, "train_accuracy": 1, "val_loss": 1, "val_accuracy": 1, '
    '"epoch_seconds": 1, "images_per_second": 1}',
    '{"epoch": 3, "train_loss": NaN, "train_accuracy": 0.5, "val_loss": 0.5, '
    '"val_accuracy": 0.5, "epoch_seconds": 1, "images_per_second": 1}',
    '{"epoch": 3, "train_loss": 0.5, "train_accuracy": 0.5, "val_loss": Infinity, '
    '"val_accuracy": 0.5, "epoch_seconds": 1, "images_per_second": 1}',
    '{"epoch": true, "train_loss": 0.5, "train_accuracy": 0.5, "val_loss": 0.5, '
    '"val_accuracy": 0.5, "epoch_seconds": 1, "images_per_second": 1}',
    '{"epoch": 3, "val_accuracy": "high"}',
    '{"epoch": 3}',
    "[1, 2, 3]",
    '"epoch"',
    '{"epoch": -1, "train_loss": 0.5, "train_accuracy": 0.5, "val_loss": 0.5, '
    '"val_accuracy": 0.5, "epoch_seconds": 1, "images_per_second": 1}',
    '{"epoch": 1e999, "train_loss": 0.5, "train_accuracy": 0.5, "val_loss": 0.5, '
    '"val_accuracy": 0.5, "epoch_seconds": 1, "images_per_second": 1}',
]


def _hostile_metrics(run: Path) -> None:
    """Epoch 1, every bad line of the corpus, epoch 2."""
    lines = [json.dumps(GOOD[0]), *BAD_LINES, json.dumps(GOOD[1])]
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------
# Item 5: one validated reader of a run's files


def test_bad_metrics_lines_are_skipped_with_a_warning_each(tmp_path):
    _hostile_metrics(tmp_path)
    log = read_metrics(tmp_path)
    assert log.epochs == [EpochEnd(**GOOD[0]), EpochEnd(**GOOD[1])], "typed records"
    assert len(log.warnings) == len(BAD_LINES)
    assert all("skipped a bad line" in w for w in log.warnings), log.warnings


@pytest.mark.timeout(20)
def test_a_fifo_or_a_folder_as_metrics_never_hangs(tmp_path):
    os.mkfifo(tmp_path / "metrics.jsonl")
    log = read_metrics(tmp_path)
    assert log.epochs == [] and "not a regular file" in log.warnings[0]
    os.unlink(tmp_path / "metrics.jsonl")
    (tmp_path / "metrics.jsonl").mkdir()
    assert read_metrics(tmp_path).epochs == []


def _hostile_run(runs: Path) -> Path:
    """A run whose every file holds wrong types: metrics, state, config, progress."""
    run = write_run(runs, "20250101-000000-net-bad0", started=1.0)
    _hostile_metrics(run)
    (run / "state.json").write_text(
        json.dumps({"state": 5, "pid": "x", "epochs": "many", "started": [1], "message": {}})
    )
    (run / "config.json").write_text(
        json.dumps({"model": ["net"], "preset": 3, "epochs": "x", "dataset_name": {"a": 1}})
    )
    (run / "progress.json").write_text(
        json.dumps({"epoch": "x", "batch": 1e999, "batches": None, "eta_seconds": "soon"})
    )
    return run


@pytest.mark.timeout(20)
def test_one_bad_run_never_breaks_the_listing_of_others(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "20250101-000000-net-good")
    bad = _hostile_run(runs)
    listed = {run.name: run for run in list_runs(runs)}
    assert set(listed) == {"20250101-000000-net-good", bad.name}
    summary = listed[bad.name]
    assert summary.epochs_done == 2 and summary.best_epoch == 2
    assert summary.model is None and summary.preset is None and summary.dataset is None
    assert summary.epochs_planned is None and summary.pid is None and summary.message == ""
    assert summary.state == "unreadable"
    assert any("state.json" in w for w in summary.warnings), summary.warnings
    cache = RunsCache(runs)
    assert cache.refresh() and len(cache.runs) == 2
    files = RunFiles(bad)
    files.refresh()
    assert [e.epoch for e in files.epochs] == [1, 2]
    assert read_progress(bad) is None


@pytest.mark.timeout(20)
def test_a_state_file_that_is_not_an_object_reads_as_unreadable(tmp_path):
    run = write_run(tmp_path, "20250101-000000-net-a1b2", state="finished")
    (run / "state.json").write_text("[1, 2]\n")
    summary = run_summary(run)
    assert summary.state == "unreadable" and summary.warnings
    assert "state.json" in summary.warnings[0] and "not a JSON object" in summary.warnings[0]
    (run / "state.json").unlink()
    assert run_summary(run).state == "crashed", "no state.json at all: as before"


def test_progress_is_read_as_a_typed_record(tmp_path):
    fields = {
        "epoch": 2,
        "epochs": 5,
        "batch": 3,
        "batches": 10,
        "images_per_second": 100.0,
        "eta_seconds": 1.5,
        "elapsed_seconds": 9.0,
    }
    (tmp_path / "progress.json").write_text(json.dumps({**fields, "time": 1.0}))
    assert read_progress(tmp_path) == Progress(**fields)
    for bad in ({**fields, "batch": "x"}, {**fields, "eta_seconds": float("inf")}, [1]):
        (tmp_path / "progress.json").write_text(json.dumps(bad))
        assert read_progress(tmp_path) is None


@pytest.mark.timeout(60)
def test_watch_skips_bad_lines_and_reports_the_run(tmp_path, capsys):
    runs = tmp_path / "runs"
    bad = _hostile_run(runs)
    write_state(bad, state="finished", ended=2.0, pid=1)  # state.json whole again
    status = main(["watch", str(bad), "--json"])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["epoch"] for line in lines[:-1]] == [1, 2]
    assert lines[-1]["state"] == "finished" and status == 0


# ---------------------------------------------------------------------------------------
# Item 6: a resume never cuts history that no checkpoint replaces

CONFIG = TrainConfig(epochs=3, batch_size=16, device="cpu", preset="book")


@pytest.fixture(scope="module")
def dataset():
    return tiny_dataset()


def _trained(runs: Path, dataset, epochs: int = 3) -> Path:
    finished = train(CONFIG.with_changes(epochs=epochs), runs_dir=runs, dataset=dataset)
    return Path(finished.run_dir)


def _files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}


def test_resume_without_last_pt_is_refused_and_keeps_everything(tmp_path, dataset):
    run = _trained(tmp_path, dataset)
    (run / "last.pt").unlink()
    before = _files(run)
    with pytest.raises(RunError) as refused:
        train(CONFIG.with_changes(epochs=5), resume=run, dataset=dataset)
    message = str(refused.value)
    assert "no last.pt" in message and "best.pt" in message and "\n" not in message
    assert _files(run) == before, "nothing written, nothing cut"


def test_resume_from_a_damaged_last_pt_is_refused_and_keeps_everything(tmp_path, dataset):
    run = _trained(tmp_path, dataset)
    whole = (run / "last.pt").read_bytes()
    for junk in (b"PK\x03\x04 not a checkpoint", b"", whole[: len(whole) // 2]):
        (run / "last.pt").write_bytes(junk)
        before = _files(run)
        with pytest.raises(ResumeRefused) as refused:
            train(CONFIG.with_changes(epochs=5), resume=run, dataset=dataset)
        assert "last.pt is damaged" in str(refused.value) and refused.value.fix == "from_best"
        assert _files(run) == before
    torch.save({"model": "nothing", "epoch": "x"}, run / "last.pt")  # loads, but is no checkpoint
    before = _files(run)
    with pytest.raises(Exception) as refused:
        train(CONFIG.with_changes(epochs=5), resume=run, dataset=dataset)
    assert "last.pt" in str(refused.value) and _files(run) == before


def test_resume_from_best_cuts_only_past_best_and_says_so(tmp_path, dataset):
    run = _trained(tmp_path, dataset, epochs=4)
    best_epoch = torch.load(run / "best.pt", weights_only=True)["epoch"]
    (run / "last.pt").unlink()
    logs = []
    finished = train(CONFIG, logs.append, resume=Resume(run, 5, from_best=True), dataset=dataset)
    assert finished.state == "finished"
    said = " ".join(getattr(e, "message", "") for e in logs)
    if best_epoch < 4:
        assert f"from best.pt (epoch {best_epoch})" in said and "drops epoch" in said
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3, 4, 5]


def test_resume_from_best_when_best_is_the_last_epoch_cuts_nothing(tmp_path, dataset):
    run = _trained(tmp_path, dataset, epochs=1)  # best.pt holds epoch 1, the last one
    (run / "last.pt").unlink()
    logs = []
    finished = train(CONFIG, logs.append, resume=Resume(run, 2, from_best=True), dataset=dataset)
    assert finished.state == "finished"
    said = [e.message for e in logs if isinstance(e, Log)]
    assert "resuming from best.pt (epoch 1)" in said, "and no epoch dropped"
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2]


def test_cli_resume_without_last_pt_refuses_then_from_best_continues(
    tmp_path, image_folder, capsys
):
    runs = tmp_path / "runs"
    args = ["train", "--data", str(image_folder), "--epochs", "3", "--batch-size", "4"]
    assert main([*args, "--runs", str(runs)]) == 0
    (run,) = runs.iterdir()
    (run / "last.pt").unlink()
    before = _files(run)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "4"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no last.pt" in err[0] and "--from-best" in err[0], err
    assert _files(run) == before
    assert main(["train", "--resume", str(run), "--epochs", "4", "--detach"]) == 1
    assert "no last.pt" in capsys.readouterr().err
    assert _files(run) == before, "refused before a background trainer starts"
    assert main(["train", "--resume", str(run), "--epochs", "4", "--from-best"]) == 0
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3, 4]


# ---------------------------------------------------------------------------------------
# Item 12: a resume runs on the run's own data


@pytest.fixture
def no_download(monkeypatch):
    def refuse(root, on_download=None):
        raise OSError(errno.ENETUNREACH, "no network in tests")

    monkeypatch.setattr(data_module, "download_cifar10", refuse)


def test_the_resolved_data_folder_is_recorded_and_resumed_on(
    tmp_path, image_folder, monkeypatch, capsys, no_download
):
    monkeypatch.setenv("CNN_TUI_DATA", str(image_folder))
    runs = tmp_path / "runs"
    assert main(["train", "--epochs", "1", "--batch-size", "4", "--runs", str(runs)]) == 0
    (run,) = runs.iterdir()
    config = read_config(run)
    assert config["data_dir"] == str(image_folder.resolve())
    assert config["data_source"] == "folder"
    monkeypatch.setenv("CNN_TUI_DATA", str(tmp_path / "empty"))  # the sample, were it used
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert "bundled sample" not in capsys.readouterr().out
    assert read_config(run)["data_source"] == "folder"


def test_a_resume_on_other_data_is_refused_unless_asked(
    tmp_path, image_folder, make_image_folder, capsys, no_download
):
    runs = tmp_path / "runs"
    args = ["train", "--data", str(image_folder), "--epochs", "1", "--batch-size", "4"]
    assert main([*args, "--runs", str(runs)]) == 0
    (run,) = runs.iterdir()
    moved = image_folder.rename(tmp_path / "moved")  # the run's folder is gone: the sample
    before = _files(run)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--other-data" in err[0] and str(image_folder) in err[0], err
    assert _files(run) == before
    other = make_image_folder(tmp_path / "other")
    assert main(["train", "--resume", str(run), "--epochs", "2", "--data", str(other)]) == 0
    assert "other data" in capsys.readouterr().err
    assert read_config(run)["data_dir"] == str(other.resolve())
    assert main(["train", "--resume", str(run), "--epochs", "3", "--data", str(moved)]) == 0


def test_a_legacy_run_without_a_recorded_folder_is_checked_by_its_data_name(
    tmp_path, image_folder, make_image_folder, monkeypatch, capsys, no_download
):
    runs = tmp_path / "runs"
    args = ["train", "--data", str(image_folder), "--epochs", "1", "--batch-size", "4"]
    assert main([*args, "--runs", str(runs)]) == 0
    (run,) = runs.iterdir()
    config = read_config(run)
    config.pop("data_source")
    config["data_dir"] = None  # as runs started with CNN_TUI_DATA were recorded
    (run / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("CNN_TUI_DATA", str(make_image_folder(tmp_path / "other")))
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 1
    assert "--other-data" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--epochs", "2", "--other-data"]) == 0


# ---------------------------------------------------------------------------------------
# Item 13: a disk that fills up mid-run and stays full


def _full_disk_from_epoch(monkeypatch, epoch: int) -> list[str]:
    """From the last.pt write of `epoch` on, every new file and every append fails with
    ENOSPC, as on a full disk; returns the names refused."""
    real_write, real_append = atomic.write_atomic, writer_module._append_line
    refused: list[str] = []
    full = [False]

    def write_atomic(path, write):
        path = Path(path)
        if path.name == "last.pt" and torch_epoch[0] >= epoch:
            full[0] = True
        if full[0]:
            refused.append(path.name)

            def partly(handle) -> None:
                handle.write(b"part of a file")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            return real_write(path, partly)
        return real_write(path, write)

    def append(path, line):
        if full[0]:
            refused.append(Path(path).name)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_append(path, line)

    torch_epoch = [0]
    real_record = writer_module.append_metrics

    def append_metrics(run_dir, record):
        torch_epoch[0] = record["epoch"]
        return real_record(run_dir, record)

    monkeypatch.setattr(atomic, "write_atomic", write_atomic)
    monkeypatch.setattr(writer_module, "_append_line", append)
    monkeypatch.setattr(writer_module, "append_metrics", append_metrics)
    return refused


def test_a_disk_that_stays_full_ends_the_run_failed_and_consistent(tmp_path, dataset, monkeypatch):
    refused = _full_disk_from_epoch(monkeypatch, 2)
    finished = train(CONFIG.with_changes(epochs=4), runs_dir=tmp_path, dataset=dataset)
    run = Path(finished.run_dir)
    assert "last.pt" in refused and "weights.pt" in refused and "state.json" in refused
    assert finished.state == "failed" and finished.epochs_done == 1
    assert finished.message == (
        f"No space left on device: {run / 'last.pt'}; the checkpoint of epoch 1 is kept"
    )
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 1
    assert [r.epoch for r in read_metrics(run).epochs] == [1], "no line past last.pt"
    assert read_metrics(run).warnings == []
    assert not list(run.glob(".*.tmp"))
    assert not (run / "weights.pt").exists(), "no room for the final weights"
    state = read_state(run)
    assert state["state"] == "failed" and state["message"] == finished.message
    assert run_summary(run).state == "failed"

    monkeypatch.undo()  # room again: the run resumes from epoch 1
    resumed = train(CONFIG.with_changes(epochs=3), resume=run, dataset=dataset)
    assert resumed.state == "finished"
    assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3]


def test_when_state_json_cannot_be_written_at_all_the_run_reads_as_crashed(
    tmp_path, dataset, monkeypatch
):
    _full_disk_from_epoch(monkeypatch, 2)
    real_write_state = writer_module.write_state

    def write_state(run_dir, **fields):
        if fields.get("state") == "failed":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write_state(run_dir, **fields)

    monkeypatch.setattr(writer_module, "write_state", write_state)
    finished = train(CONFIG.with_changes(epochs=4), runs_dir=tmp_path, dataset=dataset)
    run = Path(finished.run_dir)
    assert finished.state == "failed"
    assert read_state(run)["state"] == "running"
    assert effective_state(run) == "crashed", "its process let go of the run's lock"
    assert [r.epoch for r in read_metrics(run).epochs] == [1]


def test_state_json_is_written_in_place_when_no_new_file_fits(tmp_path, monkeypatch):
    write_state(tmp_path, state="running", pid=1, started=1.0)

    def full(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "write_atomic", full)
    write_state(tmp_path, state="failed", message="No space left on device: x")
    assert read_state(tmp_path) == {
        "state": "failed",
        "pid": 1,
        "started": 1.0,
        "message": "No space left on device: x",
    }


def test_append_metrics_rejects_what_read_metrics_would_skip(tmp_path):
    with pytest.raises(ValueError):
        append_metrics(tmp_path, {**GOOD[0], "val_loss": float("nan")})
    assert not (tmp_path / "metrics.jsonl").exists()


# ---------------------------------------------------------------------------------------
# Item 6 in the app: the resume dialog offers best.pt as its own, explicit choice


async def test_app_resume_without_last_pt_offers_best_pt_and_says_what_is_cut(tmp_path):
    from app_support import options, ready, wait_for
    from cnn_tui.tui.app import CnnTuiApp
    from cnn_tui.tui.screens.runs import ResumeScreen, RunsScreen
    from runs_support import train_run
    from textual.widgets import Button, Static

    runs = tmp_path / "runs"
    run = train_run(runs, epochs=5, stop_after=4)
    best = torch.load(run / "best.pt", weights_only=True)["epoch"]
    (run / "last.pt").unlink()
    gone = train_run(runs, epochs=3, stop_after=2)
    (gone / "last.pt").unlink()
    (gone / "best.pt").unlink()
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("5")
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await pilot.pause()
        await pilot.press("r")  # the newest: no last.pt, no best.pt
        await pilot.pause()
        assert app.screen is screen, "nothing to resume from: no dialog"
        assert "no usable best.pt either" in " ".join(str(n.message) for n in app._notifications)
        await pilot.press("down")
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ResumeScreen)
        question = str(dialog.query_one("#confirm-question", Static).render())
        assert "last.pt is missing" in question and f"best.pt (epoch {best})" in question
        assert "after epoch 4" not in question
        if best < 4:
            assert f"drops epoch{'s' if best < 3 else ''} {best + 1}" in question
        assert "from best.pt" in str(dialog.query_one("#here", Button).label)
        before = _files(run)
        await pilot.press("escape")
        assert _files(run) == before, "cancelled: nothing changed"
        await pilot.press("r")
        await pilot.press("h")
        await wait_for(pilot, lambda: app.session.train.phase == "finished", timeout=60)
        assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3, 4, 5]
        assert app.session.train.finished.run_dir == str(run)


@pytest.mark.timeout(20)
def test_fifos_in_place_of_a_runs_files_never_hang_the_listing(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "20250101-000000-net-good")
    for name in ("train.lock", "state.json", "config.json", "progress.json"):
        run = write_run(runs, f"20250101-000000-net-{name.split('.')[0][:4]}")
        (run / name).unlink(missing_ok=True)
        os.mkfifo(run / name)
    listed = list_runs(runs)
    assert len(listed) == 5
    assert all(read_progress(run.path) is None for run in listed)


async def test_app_resume_on_other_data_asks_first(tmp_path, image_folder, no_download):
    from app_support import options, ready
    from cnn_tui.tui.app import CnnTuiApp
    from cnn_tui.tui.screens.runs import ResumeScreen, RunsScreen
    from textual.widgets import Button, Static

    runs = tmp_path / "runs"
    args = ["train", "--data", str(image_folder), "--epochs", "2", "--batch-size", "4"]
    assert main([*args, "--runs", str(runs)]) == 0
    (run,) = runs.iterdir()
    write_state(run, state="stopped")
    image_folder.rename(tmp_path / "moved")
    before = _files(run)
    app = CnnTuiApp(options(tmp_path, epochs=3))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("5")
        assert isinstance(app.screen, RunsScreen)
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ResumeScreen)
        question = str(dialog.query_one("#confirm-question", Static).render())
        assert f"Other data: run {run.name} was trained on the image folder" in question
        assert "on other data" in str(dialog.query_one("#here", Button).label)
        await pilot.press("escape")
    assert _files(run) == before


@pytest.mark.timeout(60)
def test_watch_names_an_unreadable_state_in_one_line(tmp_path, capsys):
    run = write_run(tmp_path, "20250101-000000-net-a1b2", state="finished")
    (run / "state.json").write_text('{"state": "fin')
    assert main(["watch", str(run)]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    errors = [line for line in err if line.startswith("cnn-tui: error:")]
    assert len(errors) == 1 and "state.json" in errors[0] and "resume with" in errors[0], err
    assert any("warning" in line and "not JSON" in line for line in err), err
    assert "unreadable: 6 of 6 epochs" in captured.out
