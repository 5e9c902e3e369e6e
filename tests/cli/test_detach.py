"""Runs that last: one writer per run folder, detached training that survives a terminal
hang-up, `cnn-tui watch` (follow, leave, --stop), and the run listing, export and delete.

Background trainers are real processes (each pays torch's import, 2-5 s here), trained on
a tiny image folder; the checks that need no trainer use hand-made run folders.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
import torch
from app_support import tiny_dataset
from cli_support import CLI, needs_cli
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.data import DataSet
from cnn_tui.core.detach import start_detached
from cnn_tui.core.run_files import LOCK, RunError
from cnn_tui.core.run_lock import RunLock, is_alive
from cnn_tui.core.run_records import read_metrics, read_state
from cnn_tui.core.run_writer import append_metrics, new_run_dir, write_state
from cnn_tui.core.runs import (
    delete_run,
    effective_state,
    export_metrics_csv,
    find_run,
    list_runs,
    run_summary,
    stop_run,
)
from cnn_tui.core.train import train

posix_only = pytest.mark.skipif(os.name != "posix", reason="detached runs need POSIX")


@pytest.fixture
def tiny() -> DataSet:
    return tiny_dataset()


def _lock_holder(run: Path) -> subprocess.Popen[str]:
    """Another process that holds the run's lock for a minute, once it has printed "held"."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from cnn_tui.core.run_lock import RunLock; "
            "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)",
            str(run),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def data(make_image_folder, tmp_path: Path) -> Path:
    """An image folder of 64 train and 16 test images: an epoch takes a fraction of a second."""
    return make_image_folder(tmp_path / "images", train=32, test=8)


def _epoch(n: int, val: float = 0.5) -> dict:
    return {
        "epoch": n,
        "train_loss": 0.7,
        "train_accuracy": 0.5,
        "val_loss": 0.69,
        "val_accuracy": val,
        "epoch_seconds": 2.0,
        "images_per_second": 100.0,
    }


def _fake_run(runs: Path, name: str, state: str | None, epochs: int, started: float, **extra):
    """A run folder as a trainer leaves it, without training."""
    run = runs / name
    run.mkdir(parents=True)
    config = {"model": "net", "preset": "book", "epochs": 10, "dataset": "cifar2"}
    (run / "config.json").write_text(json.dumps({**config, **extra}))
    for n in range(1, epochs + 1):
        append_metrics(run, _epoch(n, 0.5 + n / 100 if n != 2 else 0.9))
    if state is not None:
        write_state(run, state=state, pid=999_999, started=started, ended=started + 60)
    return run


def _wait(predicate, timeout: float, what: str, poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _log(run: Path) -> str:
    try:
        return (run / "train.log").read_text()
    except OSError:
        return "(no train.log)"


def _wait_for_end(run: Path, timeout: float = 120) -> str:
    try:
        _wait(lambda: not is_alive(run), timeout, "the background trainer to end", poll=0.2)
    except AssertionError:
        with _suppress_lookup():
            os.kill(read_state(run)["pid"], signal.SIGKILL)
        raise AssertionError(f"the trainer did not end; its log:\n{_log(run)}") from None
    return effective_state(run)


class _suppress_lookup:
    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        return kind is not None and issubclass(kind, (ProcessLookupError, KeyError, TypeError))


# ---------------------------------------------------------------------------------------
# One writer per run folder


def test_a_run_folder_has_one_writer(tmp_path):
    run = new_run_dir(tmp_path, "net")
    write_state(run, state="running", pid=os.getpid())
    first = RunLock(run).acquire()
    assert is_alive(run) and (run / LOCK).read_text() == f"{os.getpid()}\n"
    with pytest.raises(RunError) as caught:
        RunLock(run).acquire(wait=0.1)
    message = str(caught.value)
    assert "being trained by another process" in message and f"pid {os.getpid()}" in message
    assert "\n" not in message
    first.release()
    assert not is_alive(run) and not (run / LOCK).exists(), "released and removed"
    with RunLock(run) as second:
        assert second.held and is_alive(run)
    assert not is_alive(run)


def test_the_lock_holds_across_processes_and_dies_with_its_holder(tmp_path):
    run = new_run_dir(tmp_path, "net")
    holder = _lock_holder(run)
    try:
        assert holder.stdout.readline().strip() == "held"
        write_state(run, state="running", pid=holder.pid)
        assert is_alive(run) and effective_state(run) == "running"
        with pytest.raises(RunError, match=f"another process \\(pid {holder.pid}\\)"):
            RunLock(run).acquire(wait=0.2)
        # A resumed run names its new pid in state.json only once its data are loaded;
        # the lock file names it at once, and stop_run signals that one.
        write_state(run, pid=999_999_999)
        assert run_summary(run).pid == holder.pid
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
        holder.wait()
    assert not is_alive(run)
    assert effective_state(run) == "crashed", "running on disk, nobody holds the lock"
    assert (run / LOCK).exists(), "a killed holder leaves its lock file, unlocked"
    RunLock(run).acquire().release()


def test_a_probe_never_makes_a_trainer_fail(tmp_path):
    """is_alive takes the lock for an instant; a trainer starting then retries, not fails."""
    run = new_run_dir(tmp_path, "net")
    (run / LOCK).touch()
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            is_alive(run)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        for _ in range(50):
            RunLock(run).acquire().release()
            (run / LOCK).touch()
    finally:
        stop.set()
        prober.join()


def test_resume_of_a_live_run_is_refused_and_changes_nothing(tmp_path, tiny):
    first = train(TrainConfig(epochs=2, batch_size=16), runs_dir=tmp_path, dataset=tiny)
    run = Path(first.run_dir)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with RunLock(run), pytest.raises(RunError, match="being trained by another process"):
        train(TrainConfig(epochs=3, batch_size=16), resume=run, dataset=tiny)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_two_runs_at_once_get_their_own_folders(tmp_path, tiny):
    names = {new_run_dir(tmp_path / "many", "net").name for _ in range(300)}
    assert len(names) == 300, "same model, same second: still one folder each"

    results = []

    def one(epochs: int) -> None:
        config = TrainConfig(epochs=epochs, batch_size=16)
        results.append(train(config, runs_dir=tmp_path / "runs", dataset=tiny))

    threads = [threading.Thread(target=one, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.run_dir for r in results}) == 2
    for result in results:
        assert result.state == "finished"
        epochs = [r.epoch for r in read_metrics(result.run_dir).epochs]
        assert epochs == list(range(1, result.epochs_done + 1))
    assert sorted(r.epochs_done for r in results) == [2, 3]


def test_train_into_a_premade_folder(tmp_path, tiny):
    run = new_run_dir(tmp_path, "net")
    finished = train(TrainConfig(epochs=1, batch_size=16), run_dir=run, dataset=tiny)
    assert finished.run_dir == str(run) and finished.state == "finished"
    assert sorted(p.name for p in tmp_path.iterdir()) == [run.name], "no second folder"
    assert read_state(run)["epochs"] == 1 and not (run / LOCK).exists()
    with pytest.raises(ValueError):
        train(TrainConfig(epochs=1), run_dir=run, resume=run, dataset=tiny)


# ---------------------------------------------------------------------------------------
# The listing, export and delete


def test_list_runs_summarises_each_run_newest_first(tmp_path):
    runs = tmp_path / "runs"
    old = _fake_run(runs, "a-old", "finished", 10, started=1000.0, dataset_name="CIFAR-2")
    live = _fake_run(runs, "b-live", "running", 3, started=3000.0)
    dead = _fake_run(runs, "c-dead", "running", 4, started=2000.0)
    stopped = _fake_run(runs, "d-stopped", "stopped", 1, started=1500.0)
    (runs / "not-a-run").mkdir()
    (runs / "stray-file").write_text("x")
    with open(dead / "metrics.jsonl", "a") as handle:
        handle.write('{"epoch": 5, "train_lo')  # killed mid-line
    with RunLock(live):
        summaries = list_runs(runs)
        assert [s.name for s in summaries] == ["b-live", "c-dead", "d-stopped", "a-old"]
        by_name = {s.name: s for s in summaries}
        assert by_name["b-live"].state == "running" and by_name["b-live"].alive
        assert by_name["b-live"].ended is None
    assert by_name["c-dead"].state == "crashed" and not by_name["c-dead"].alive
    assert by_name["c-dead"].epochs_done == 4, "the torn fifth line is not an epoch"
    assert any("torn last line" in w for w in by_name["c-dead"].warnings)
    assert by_name["d-stopped"].state == "stopped"
    first = by_name["a-old"]
    assert (first.model, first.preset, first.dataset) == ("net", "book", "CIFAR-2")
    assert (first.epochs_done, first.epochs_planned) == (10, 10)
    assert (first.best_val_accuracy, first.best_epoch) == (0.9, 2)
    assert first.state == "finished" and first.started == 1000.0 and first.ended == 1060.0
    assert first.duration_seconds == pytest.approx(20.0), "the sum of the epochs' seconds"
    assert json.loads(json.dumps(first.to_dict()))["name"] == "a-old"
    assert run_summary(old) == first
    assert list_runs(tmp_path / "nowhere") == []

    assert find_run(runs) == live.resolve(), "the newest"
    assert find_run(runs, "a-old") == old.resolve()
    assert find_run(runs, str(stopped)) == stopped.resolve()
    with pytest.raises(RunError, match="no run nothing-here"):
        find_run(runs, "nothing-here")
    with pytest.raises(RunError, match="is not a run folder"):
        find_run(runs, str(runs / "not-a-run"))
    with pytest.raises(RunError, match="no runs in"):
        find_run(tmp_path / "empty")


def test_state_without_a_state_file_or_a_process(tmp_path):
    run = _fake_run(tmp_path, "r", None, 0, started=0.0)
    assert effective_state(run) == "crashed", "killed before it wrote state.json"
    write_state(run, state="failed", message="the loss became nan")
    assert effective_state(run) == "failed"
    assert run_summary(run).message == "the loss became nan"


def test_export_metrics_csv(tmp_path):
    run = _fake_run(tmp_path, "r", "finished", 3, started=0.0)
    out = export_metrics_csv(run, tmp_path / "metrics.csv")
    rows = list(csv.DictReader(out.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert list(rows[0]) == [
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "epoch_seconds",
        "images_per_second",
    ]
    assert float(rows[1]["val_accuracy"]) == 0.9
    with pytest.raises(RunError, match="cannot write"):
        export_metrics_csv(run, tmp_path / "no-such-folder" / "m.csv")


def test_delete_run(tmp_path):
    run = _fake_run(tmp_path, "r", "finished", 2, started=0.0)
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "thesis.tex").write_text("years of work")
    with pytest.raises(RunError, match="not a run folder; not deleting it"):
        delete_run(keep)
    assert (keep / "thesis.tex").exists()
    with RunLock(run), pytest.raises(RunError, match="is running; stop it before deleting"):
        delete_run(run)
    assert run.exists()
    delete_run(run)
    assert not run.exists()


def test_stop_run_signals_the_process_holding_the_lock(tmp_path):
    run = new_run_dir(tmp_path, "net")
    write_state(run, state="running", pid=999_999_999)  # stale: an earlier trainer's
    holder = _lock_holder(run)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert stop_run(run) == holder.pid
        assert holder.wait(timeout=10) == -signal.SIGTERM
    finally:
        holder.kill()
        holder.wait()


def test_stop_run_refuses_what_it_cannot_stop(tmp_path):
    run = _fake_run(tmp_path, "r", "finished", 2, started=0.0)
    with pytest.raises(RunError, match=r"is not running \(finished\)"):
        stop_run(run)
    write_state(run, state="running", pid=os.getpid())
    with RunLock(run), pytest.raises(RunError, match="trained by this process"):
        stop_run(run)


# ---------------------------------------------------------------------------------------
# Detached training, as a user starts and follows it


def _detach_config(data: Path, epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=8, data_dir=str(data), device="cpu")


def _as_typed_in_a_terminal() -> None:
    """In a child before it starts: SIGHUP and SIGINT as a shell typed into gives them.

    A test run started with nohup, or as a background job of a script (`... &`), ignores
    both, and a child inherits an ignored signal: the hung-up shell then lived on and the
    watcher did not leave on Ctrl-C, which made these tests fail in such a run (they passed
    in a terminal and in CI)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@posix_only
@needs_cli
def test_detached_run_survives_its_terminal_hanging_up(tmp_path, data):
    """`cnn-tui train --detach` typed in a shell on a terminal, then the terminal goes away
    (an SSH drop): the shell and its process group get SIGHUP, the run trains on."""
    runs = tmp_path / "runs"
    master, slave = os.openpty()

    def own_terminal() -> None:  # the shell leads a session whose terminal is the pty
        _as_typed_in_a_terminal()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    command = f"{CLI} train --detach --json --data {data} --epochs 40 --batch-size 8 --runs {runs}"
    shell = subprocess.Popen(
        ["bash", "-c", f"{command} > {tmp_path / 'out.json'}; sleep 120"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=own_terminal,
    )
    os.close(slave)
    run = None
    try:
        out = tmp_path / "out.json"
        started = _wait(lambda: out.exists() and out.read_text().strip(), 60, "the launcher")
        answer = json.loads(started)
        run, pid = Path(answer["run_dir"]), answer["pid"]
        assert set(answer) == {"run_dir", "pid"} and run.parent == runs
        assert read_state(run)["pid"] == pid and is_alive(run)
        assert os.getsid(pid) == pid != os.getsid(shell.pid), "the trainer leads its own session"
        _wait(lambda: read_metrics(run).epochs, 90, "the first epoch")
        # The terminal hangs up: the kernel signals the session's leader, then the group.
        os.close(master)
        master = None
        with _suppress_lookup():
            os.killpg(shell.pid, signal.SIGHUP)
        # (bash ends once its foreground child has gone: allow for a loaded machine)
        assert shell.wait(timeout=60) != 0, "the shell died of the hang-up"
        os.kill(pid, signal.SIGHUP)  # and a hang-up sent to the trainer itself
        assert is_alive(run), "the run goes on"
        assert _wait_for_end(run) == "finished", _log(run)
    finally:
        if master is not None:
            os.close(master)
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
    epochs = [r.epoch for r in read_metrics(run).epochs]
    assert epochs == list(range(1, 41))
    state = read_state(run)
    assert state["state"] == "finished" and state["epochs_done"] == 40 and state["detached"]
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 40
    log = _log(run)
    assert "epoch 40/40" in log and "finished: 40 epochs" in log
    names = {p.name for p in run.iterdir()}
    assert {"weights.pt", "weights.json", "train.log"} <= names
    assert not names & {LOCK, "progress.json"} and not [n for n in names if n.endswith(".tmp")]

    # watching a finished run prints its epochs and how it ended, and leaves
    watched = subprocess.run(
        [str(CLI), "watch", "--runs", str(runs)], capture_output=True, text=True, timeout=60
    )
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    assert lines[0] == f"run folder: {run}"
    assert sum(line.startswith("epoch ") for line in lines) == 40
    assert "finished: 40 of 40 epochs, best val accuracy" in watched.stdout


@posix_only
@needs_cli
def test_watch_follows_a_live_run_and_leaving_does_not_stop_it(tmp_path, data):
    # A run that cannot end by itself during the test: the watcher (a fresh process, slow
    # to start on a loaded machine) once saw a 30-epoch run and once a 300-epoch run end
    # before it was told to leave, and exited 0, not 130. It ends when asked (--stop).
    epochs = 100_000
    run, pid = start_detached(_detach_config(data, epochs), tmp_path / "runs")
    assert run_summary(run).state in ("starting", "running")
    try:
        watcher = subprocess.Popen(
            [str(CLI), "watch", str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_as_typed_in_a_terminal,
        )
        seen = []
        while len(seen) < 2:  # follow until two epoch lines have come through
            line = watcher.stdout.readline()
            assert line, f"watch ended early: {watcher.stderr.read()}\n{_log(run)}"
            if line.startswith("epoch "):
                seen.append(line)
        watcher.send_signal(signal.SIGINT)  # Ctrl-C: leave watching
        _, err = watcher.communicate(timeout=30)
        assert watcher.returncode == 130
        assert "left watching; the run goes on" in err and "--stop" in err
        assert is_alive(run), "leaving never stops the run"

        follower = subprocess.Popen(
            [str(CLI), "watch", "--json", str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert follower.stdout is not None
        first = follower.stdout.readline()  # following: the epochs so far have come through
        assert first, follower.stderr.read() if follower.stderr else ""
        stop = subprocess.run(
            [str(CLI), "watch", "--stop", str(run)], capture_output=True, text=True, timeout=60
        )
        assert stop.returncode == 0, stop.stderr
        # (read through the same buffered stream as readline: communicate() would read the
        # pipe beneath it and miss the lines readline had already buffered)
        rest = follower.stdout.read()  # to the end: the run has stopped, watch leaves
        follower.wait(timeout=60)
        err = follower.stderr.read() if follower.stderr else ""
        assert follower.returncode == 0, err
        records = [json.loads(line) for line in (first + rest).splitlines()]
        done = len(records) - 1
        assert [r["epoch"] for r in records[:-1]] == list(range(1, done + 1)), "each once"
        assert records[-1]["state"] == "stopped" and records[-1]["epochs_done"] == done
        assert records[-1]["run_dir"] == str(run)
    finally:
        if is_alive(run):
            os.kill(pid, signal.SIGKILL)


@posix_only
@needs_cli
def test_watch_stop_stops_on_purpose_and_the_run_resumes(tmp_path, data):
    runs = tmp_path / "runs"
    run, pid = start_detached(_detach_config(data, 500), runs)
    try:
        _wait(lambda: read_metrics(run).epochs, 90, f"the first epoch\n{_log(run)}")
        stopped = subprocess.run(
            [str(CLI), "watch", "--stop", "--runs", str(runs), run.name],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        if _wait_for_end(run, 60) not in ("stopped",):
            pytest.fail(f"not stopped: {read_state(run)}\n{_log(run)}")
    assert stopped.returncode == 0, stopped.stderr
    assert f"asked run {run.name} (pid {pid}) to stop" in stopped.stdout
    assert "stopped:" in stopped.stdout and "resume with: cnn-tui train --resume" in stopped.stdout
    state = read_state(run)
    done = state["epochs_done"]
    assert state["state"] == "stopped" and 1 <= done < 500
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == done
    with pytest.raises(RunError, match="is not running"):
        stop_run(run)

    # the stopped run resumes in the background too, and finishes
    run_again, _ = start_detached(_detach_config(data, done + 2), resume=run)
    assert run_again == run
    assert _wait_for_end(run) == "finished", _log(run)
    assert [r.epoch for r in read_metrics(run).epochs] == list(range(1, done + 3))
    assert "resuming after epoch" in _log(run)


@posix_only
def test_detach_refuses_at_once(tmp_path, data):
    from cnn_tui.core.data import DataError

    bad = tmp_path / "no-layout"
    bad.mkdir()
    (bad / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="neither CIFAR-10's files nor an image folder"):
        start_detached(_detach_config(bad, 1), tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())

    run = _fake_run(tmp_path / "runs", "r", "stopped", 1, started=0.0)
    with RunLock(run), pytest.raises(RunError, match="being trained by another process"):
        start_detached(_detach_config(data, 3), resume=run)
    with pytest.raises(RunError, match="is not a run folder"):
        start_detached(_detach_config(data, 3), resume=tmp_path / "images")


def test_watch_a_crashed_or_missing_run(tmp_path, capsys):
    from cnn_tui.tui.main import main

    runs = tmp_path / "runs"
    crashed = _fake_run(runs, "crashed", "running", 3, started=0.0)
    assert main(["watch", "--runs", str(runs), "crashed"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == f"run folder: {crashed.resolve()}"
    assert sum(line.startswith("epoch ") for line in out.splitlines()) == 3
    assert "crashed: 3 of 10 epochs, best val accuracy 0.9000 (epoch 2)" in out
    assert err.startswith("cnn-tui: error: the trainer ended without saying so")
    assert err.rstrip().endswith(f"resume with: cnn-tui train --resume {crashed.resolve()}")

    assert main(["watch", "--json", str(crashed)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["epoch"] for r in lines[:-1]] == [1, 2, 3] and lines[-1]["state"] == "crashed"

    finished = _fake_run(runs, "done", "finished", 2, started=1.0)
    assert main(["watch", "--stop", str(finished)]) == 1
    assert capsys.readouterr().err == (
        f"cnn-tui: error: run {finished.resolve()} is not running (finished)\n"
    )
    assert main(["watch", "--runs", str(runs), "nothing"]) == 1
    assert (
        capsys.readouterr().err
        == f"cnn-tui: error: no run nothing (neither a folder nor a run in {runs})\n"
    )
    assert main(["watch", "--runs", str(tmp_path / "empty")]) == 1
    assert "no runs in" in capsys.readouterr().err
