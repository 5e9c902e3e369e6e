"""The run folder's files: metrics survive a torn last line, state merges, errors are clear."""

from __future__ import annotations

import json

import pytest
from cnn_tui.core.events import EpochEnd
from cnn_tui.core.run_files import METRICS, RunError
from cnn_tui.core.run_records import read_config, read_metrics, read_state
from cnn_tui.core.run_writer import append_metrics, new_run_dir, truncate_metrics, write_state


def _epoch(n: int) -> dict:
    return {
        "epoch": n,
        "train_loss": 0.5 / n,
        "train_accuracy": 0.5,
        "val_loss": 0.5,
        "val_accuracy": 0.5 + n / 100,
        "epoch_seconds": 1.0,
        "images_per_second": 100.0,
    }


def test_new_run_dir_is_unique_and_named_after_the_model(tmp_path):
    first = new_run_dir(tmp_path / "runs", "net")
    second = new_run_dir(tmp_path / "runs", "net")
    assert first != second
    assert first.is_dir() and second.is_dir()
    assert "-net-" in first.name
    assert list(first.iterdir()) == [], "the write probe is removed"


def test_unwritable_runs_folder_raises_run_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(RunError, match="cannot write runs folder"):
        new_run_dir(blocker / "runs", "net")


def test_metrics_round_trip(tmp_path):
    for n in (1, 2, 3):
        append_metrics(tmp_path, _epoch(n))
    log = read_metrics(tmp_path)
    assert log.epochs == [EpochEnd(**_epoch(n)) for n in (1, 2, 3)]
    assert log.warnings == []


def test_missing_metrics_is_empty(tmp_path):
    log = read_metrics(tmp_path)
    assert log.epochs == [] and log.warnings == []


def test_torn_last_line_is_skipped_with_a_warning(tmp_path):
    append_metrics(tmp_path, _epoch(1))
    append_metrics(tmp_path, _epoch(2))
    with open(tmp_path / METRICS, "a") as handle:
        handle.write(json.dumps(_epoch(3))[:17])  # a crash mid-write
    log = read_metrics(tmp_path)
    assert [r.epoch for r in log.epochs] == [1, 2]
    assert len(log.warnings) == 1 and "torn last line" in log.warnings[0]


def test_bad_middle_line_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / METRICS
    path.write_text(
        json.dumps(_epoch(1)) + "\n" + "garbage\n" + "[1, 2]\n" + json.dumps(_epoch(2)) + "\n"
    )
    log = read_metrics(tmp_path)
    assert [r.epoch for r in log.epochs] == [1, 2]
    assert len(log.warnings) == 2 and "bad line 2" in log.warnings[0]


def test_truncate_metrics_keeps_the_first_epochs(tmp_path):
    for n in (1, 2, 3, 4):
        append_metrics(tmp_path, _epoch(n))
    truncate_metrics(tmp_path, 2)
    assert [r.epoch for r in read_metrics(tmp_path).epochs] == [1, 2]
    assert (tmp_path / METRICS).read_text().endswith("\n")


def test_write_state_merges(tmp_path):
    write_state(tmp_path, state="running", pid=123, started=1.0)
    write_state(tmp_path, state="finished", ended=2.0)
    assert read_state(tmp_path) == {"state": "finished", "pid": 123, "started": 1.0, "ended": 2.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"], "no temp files left"


def test_damaged_state_reads_as_empty_and_is_replaced(tmp_path):
    (tmp_path / "state.json").write_text("{torn")
    assert read_state(tmp_path) == {}
    write_state(tmp_path, state="stopped")
    assert read_state(tmp_path) == {"state": "stopped"}


def test_read_config_errors(tmp_path):
    with pytest.raises(RunError, match="is not a run folder"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_text("{bad")
    with pytest.raises(RunError, match="cannot read"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(RunError, match="not a JSON object"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_text('{"model": "net"}')
    assert read_config(tmp_path) == {"model": "net"}


def test_rename_keeps_the_rest_of_config_json_and_refuses_what_it_must(tmp_path):
    from cnn_tui.core.config import MAX_NAME, ConfigError
    from cnn_tui.core.run_lock import RunLock
    from cnn_tui.core.runs import rename_run, run_summary

    config = {"model": "net", "lr": 0.01, "dataset_name": "CIFAR-2 (...)", "classes": ["a"]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert rename_run(tmp_path, "  first try ") == "first try"
    assert read_config(tmp_path) == {**config, "name": "first try"}
    assert run_summary(tmp_path).title == "first try" and run_summary(tmp_path).lr == 0.01
    assert rename_run(tmp_path, "") == "" and run_summary(tmp_path).title == ""
    for bad in ("two\nlines", "x" * (MAX_NAME + 1)):
        with pytest.raises(ConfigError):
            rename_run(tmp_path, bad)
    with RunLock(tmp_path):
        write_state(tmp_path, state="starting")  # its trainer will write config.json
        with pytest.raises(RunError, match="is starting"):
            rename_run(tmp_path, "too soon")
        write_state(tmp_path, state="running")
        assert rename_run(tmp_path, "live") == "live"
    (tmp_path / "config.json").write_text("{torn")
    with pytest.raises(RunError, match="cannot read"):
        rename_run(tmp_path, "never over a damaged file")
    assert (tmp_path / "config.json").read_text() == "{torn"
