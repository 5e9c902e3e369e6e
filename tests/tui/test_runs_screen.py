"""The Runs screen driven as a user would: the list, a run's charts (live too), comparing
runs, resuming here and in the background, using a run's weights, deleting with a
question, exporting CSV, and stopping a run safely whoever trains it.

Listings use run folders written with core's writers and fixed numbers (runs_support.py);
actions that need checkpoints use real runs of core.train.train on made-up data, trained
once per module and copied. Two tests start real background trainers (each pays torch's
import in its own process).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from app_support import burst, options, ready, tiny_dataset, wait_for
from cnn_tui.core.events import EpochEnd
from cnn_tui.core.run_lock import RunLock, is_alive
from cnn_tui.core.run_records import epoch_from_dict, read_metrics, read_state
from cnn_tui.core.run_writer import append_metrics, write_state
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.runs_cache import RunsCache, short_dataset
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.runs import (
    CompareScreen,
    ResumeScreen,
    RunScreen,
    RunsScreen,
    compare_labels,
)
from cnn_tui.tui.screens.runs.compare import settings_words
from cnn_tui.tui.widgets.charts import MetricChart
from cnn_tui.tui.widgets.compare_charts import ValCurvesChart, bar_floor
from cnn_tui.tui.widgets.run_columns import columns_for, differing, shared_settings
from cnn_tui.tui.widgets.run_table import RunTable
from rich.text import Text
from runs_support import CIFAR2, CURVES, SAMPLE, T0, epoch_record, train_run, write_run
from textual.pilot import Pilot
from textual.widgets import Input

CLI = Path(sys.executable).with_name("cnn-tui")
posix_only = pytest.mark.skipif(os.name != "posix", reason="detached runs need POSIX")


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    """Start times are shown in local time: pin it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Real runs, trained once: a finished one (2 epochs) and one stopped after 1 of 3."""
    runs = tmp_path_factory.mktemp("trained-runs")
    stopped = train_run(runs, 3, stop_after=1)
    finished = train_run(runs, 2)
    return {"finished": finished, "stopped": stopped}


def copy_runs(trained: dict[str, Path], runs: Path, *names: str) -> dict[str, Path]:
    runs.mkdir(parents=True, exist_ok=True)
    return {name: Path(shutil.copytree(trained[name], runs / trained[name].name)) for name in names}


async def show_runs(pilot: Pilot) -> RunsScreen:
    await ready(pilot)
    await pilot.press("5")
    screen = pilot.app.screen
    assert isinstance(screen, RunsScreen)
    await pilot.pause()
    return screen


def table_rows(screen: RunsScreen) -> list[dict[str, str]]:
    """Each row's cells by column key (model, lr, data, epochs, best, state, started...)."""
    table = screen.query_one(RunTable)
    keys = [str(column.key.value) for column in table.ordered_columns]
    return [
        {key: str(cell).strip() for key, cell in zip(keys, table.get_row_at(i), strict=True)}
        for i in range(table.row_count)
    ]


def cells(row: dict[str, str], *keys: str) -> list[str]:
    return [row[key] for key in keys]


async def select(pilot: Pilot, screen: RunsScreen, run: Path) -> None:
    table = screen.query_one(RunTable)
    table.move_cursor(row=table.paths.index(str(run)))
    await pilot.pause()


def notices(app: CnnTuiApp) -> str:
    return " | ".join(str(n.message) for n in app._notifications)


# -- pure helpers -----------------------------------------------------------------------


def test_epoch_records_skip_what_is_not_an_epoch() -> None:
    good = epoch_record(1, CURVES["net"][0])
    records = [good, {"epoch": 2}, {**good, "epoch": 3, "val_accuracy": "x"}, {"note": 1}]
    assert [e.epoch for e in map(epoch_from_dict, records) if e] == [1]
    assert epoch_from_dict(good) == EpochEnd(**good)


def test_short_names_for_the_table_and_the_comparison(tmp_path) -> None:
    assert short_dataset("CIFAR-2 (image folder /d, 10000 train / 2000 val)") == "CIFAR-2"
    assert short_dataset("CIFAR-2 bundled sample (400 train / 100 val images, ...)") == "sample"
    assert short_dataset(None) == "-"
    runs = tmp_path / "runs"
    a = write_run(runs, "20251124-160000-net-aaaa")
    b = write_run(runs, "20251124-170000-net-bbbb", started=T0 + 3600)
    c = write_run(runs, "20251124-180000-net-width-cccc", model="net-width", started=T0 + 7200)
    cache = RunsCache(runs)
    cache.refresh()
    by_name = {r.name: r for r in cache.runs}
    summaries = [by_name[p.name] for p in (a, b, c)]
    assert compare_labels(summaries) == ["net aaaa", "net bbbb", "net-width cccc"]
    assert compare_labels(summaries[1:]) == ["net", "net-width"]
    named = [replace(summaries[0], title="baseline"), summaries[1]]
    assert compare_labels(named) == ["baseline", "net"], "a run's name where it has one"
    # The data set: no column while every run is on the same full data (said above the
    # table), a column whenever a run is on the sample, even when every run is.
    assert "data" not in [column.key for column in columns_for(summaries, wide=False)]
    assert shared_settings(summaries).endswith("· data CIFAR-2")
    on_sample = [replace(run, dataset=SAMPLE) for run in summaries]
    assert "data" in [column.key for column in columns_for(on_sample, wide=False)]
    assert "data" not in shared_settings(on_sample)
    # A net's shape (the Lab, --kernel-size) is a column where two nets differ in it, and
    # the compare view's settings say it; other models have none and add no column.
    assert [run.architecture for run in summaries] == ["3x3 16,8 tanh", "3x3 16,8 tanh", None]
    assert "arch" not in [column.key for column in differing(summaries)]
    wide = [replace(summaries[0], architecture="5x5 16,8 tanh"), *summaries[1:]]
    assert "arch" in [column.key for column in differing(wide)]
    assert settings_words(wide[0], wide) == "net 5x5 16,8 tanh"
    assert "net" not in shared_settings(summaries).split(" · ")[-1]
    assert bar_floor([0.85, 0.91, 0.74]) == pytest.approx(0.6)
    assert bar_floor([0.3, 0.9]) == pytest.approx(0.2)
    assert bar_floor([0.05]) == 0.0


def test_the_cache_rereads_only_what_changed(tmp_path, monkeypatch) -> None:
    import cnn_tui.tui.runs_cache as runs_cache

    runs = tmp_path / "runs"
    write_run(runs, "20251124-160000-net-aaaa")
    live = write_run(runs, "20251124-170000-net-bbbb", state="running", done=2, started=T0 + 1)
    cache = RunsCache(runs)
    assert cache.refresh() and len(cache.runs) == 2
    calls: list[Path] = []
    real = runs_cache.run_summary
    monkeypatch.setattr(runs_cache, "run_summary", lambda p: calls.append(p) or real(p))
    assert not cache.refresh() and calls == [], "nothing changed, nothing read"
    with RunLock(live):
        write_state(live, state="running")
        assert cache.refresh() and calls == [live]
        assert cache.get(live).state == "running" and cache.get(live).alive
        calls.clear()
        cache.refresh()
        assert calls == [live], "a live run is probed each time (it may die silently)"
    cache.refresh()
    assert cache.get(live).state == "crashed"


# -- the list -----------------------------------------------------------------------------


async def test_the_list_shows_every_run_newest_first(tmp_path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "20251124-160000-net-aaaa")
    write_run(runs, "20251124-170000-net-width-bbbb", model="net-width", preset="fast",
              state="stopped", done=4, planned=8, started=T0 + 3600)  # fmt: skip
    write_run(runs, "20251124-180000-net-res-cccc", model="net-res", state="running", done=3,
              planned=10, started=T0 + 7200)  # fmt: skip
    write_run(runs, "20251124-190000-net-dddd", state="failed", done=2, started=T0 + 10800,
              message="the loss became nan in epoch 3; try a smaller learning rate")  # fmt: skip
    (runs / "not-a-run").mkdir()
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_runs(pilot)
        rows = [list(row.values()) for row in table_rows(screen)]
        assert rows == [  # the same settings and data: no columns for them (see below)
            ["net", "2/6", "0.770", "failed", "11-24 19:00", "1:00"],
            ["net-res", "3/10", "0.850", "crashed", "11-24 18:00", "1:30"],
            ["net-width", "4/8", "0.840", "stopped", "11-24 17:00", "2:00"],
            ["net", "6/6", "0.820", "finished", "11-24 16:00", "3:00"],
        ]
        head = str(screen.query_one("#runs-head").render())
        assert head == f"4 runs in {runs} · 0 marked: space marks runs to compare"
        shared = str(screen.query_one("#runs-shared").render())
        assert shared == (
            "every run: lr 0.01 · batch 64 · opt sgd · aug no · sched none · data CIFAR-2"
        )
        detail = str(screen.query_one("#runs-detail").render())
        assert "the loss became nan" in detail and "keys: r resume" in detail
        await pilot.press("down")
        detail = str(screen.query_one("#runs-detail").render())
        assert detail.startswith("crashed · CIFAR-2 · ") and "keys: r resume" in detail
        # a run that appears while the screen is up is listed at its next look
        write_run(runs, "20251124-200000-net-eeee", started=T0 + 14400)
        await wait_for(pilot, lambda: len(table_rows(screen)) == 5, timeout=30)
        assert table_rows(screen)[0]["started"] == "11-24 20:00"
        assert screen.query_one(RunTable).cursor_row == 2, "the cursor stays on its run"


async def test_settings_that_differ_are_columns_to_sort_filter_and_name_runs_by(tmp_path) -> None:
    """Issue 11's Runs table: a column per setting that differs (the data set whenever a
    run used the sample), sorting by key and by header, a filter, naming with n (kept in
    config.json with the rest of it), and d on a live run saying why it will not."""
    runs = tmp_path / "runs"
    base = write_run(runs, "20251124-160000-net-aaaa")
    write_run(runs, "20251124-170000-net-width-bbbb", model="net-width", started=T0 + 1,
              lr=5e-3, optimizer="adam", title="wide adam")  # fmt: skip
    write_run(runs, "20251124-180000-net-cccc", started=T0 + 2, done=2, dataset_name=SAMPLE)
    live = write_run(runs, "20251124-190000-net-dddd", state="running", done=1, started=T0 + 3)
    with RunLock(live):
        app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await show_runs(pilot)
            table = screen.query_one(RunTable)
            rows = table_rows(screen)
            assert list(rows[0]) == ["model", "title", "lr", "optimizer", "data", "epochs",
                                     "best", "state", "started", "time", "name"]  # fmt: skip
            assert [cells(r, "title", "lr", "optimizer", "data") for r in rows] == [
                ["", "0.01", "sgd", "CIFAR-2"],
                ["", "0.01", "sgd", "sample"],
                ["wide adam", "0.005", "adam", "CIFAR-2"],
                ["", "0.01", "sgd", "CIFAR-2"],
            ]
            shared = str(screen.query_one("#runs-shared").render())
            assert shared == "every run: batch 64 · aug no · sched none"
            assert str(table.ordered_columns[8].label) == " started▼"
            await pilot.press("s")  # the next column: the time, shortest first
            assert str(table.ordered_columns[9].label) == " time▲"
            assert [r["time"] for r in table_rows(screen)] == ["0:30", "1:00", "3:00", "3:00"]
            await pilot.press("S")
            assert [r["time"] for r in table_rows(screen)][:2] == ["3:00", "3:00"]
            x = sum(column.get_render_width(table) for column in table.ordered_columns[:2])
            await pilot.click(table, offset=(x + 1, 0))  # the lr column's header
            assert [r["lr"] for r in table_rows(screen)] == ["0.005", "0.01", "0.01", "0.01"]
            await pilot.press("slash", *"ADAM")
            assert [r["title"] for r in table_rows(screen)] == ["wide adam"]
            assert "1 shown (/: ADAM)" in str(screen.query_one("#runs-head").render())
            await pilot.press("escape")
            assert len(table_rows(screen)) == 4 and app.focused is table
            # typed in one burst (one read over SSH): the letters after / reach the filter,
            # not the table they were queued for (`s` would sort, `a` mark all)
            await burst(pilot, "/sample")
            await wait_for(pilot, lambda: len(table_rows(screen)) == 1)
            assert screen.query_one("#runs-filter", Input).value == "sample"
            await pilot.press("slash")  # in the filter, / is a character
            assert screen.query_one("#runs-filter", Input).value == "sample/"
            await pilot.press("escape")
            assert len(table_rows(screen)) == 4 and app.focused is table
            await select(pilot, screen, base)
            await pilot.press("n")
            await pilot.press(*"baseline", "enter")
            await wait_for(pilot, lambda: table_rows(screen)[-1]["title"] == "baseline")
            config = json.loads((base / "config.json").read_text())
            assert config["name"] == "baseline" and config["dataset_name"] == CIFAR2
            assert config["classes"] == ["airplane", "bird"] and config["lr"] == 0.01
            await select(pilot, screen, live)
            # n and a name in one burst: the name reaches the dialog's field, which has no
            # focus yet when the keys arrive (escape then cancels, as ever)
            await burst(pilot, "nquick")
            await wait_for(pilot, lambda: app.screen is not screen)
            field = app.screen.query_one("#rename-input", Input)
            await wait_for(pilot, lambda: field.value == "quick")
            await pilot.press("escape")
            assert app.screen is screen and table_rows(screen)[0]["title"] != "quick"
            await burst(pilot, "nquick\r")  # with its enter in the burst too: saved
            await wait_for(
                pilot, lambda: json.loads((live / "config.json").read_text()).get("name") == "quick"
            )
            assert app.screen is screen
            await pilot.press("d")
            assert app.screen is screen and live.is_dir()
            assert "a live run is never deleted: stop it (x)" in notices(app)


async def test_a_wide_terminal_gets_the_wide_table_at_once(tmp_path) -> None:
    """The width class comes with a resize that may follow on_mount; the table must not
    wait for the next look at the folder (a second later) to widen."""
    runs = tmp_path / "runs"
    write_run(runs, "20251124-160000-net-aaaa")
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_runs(pilot)
        await pilot.pause(0.1)  # far less than REFRESH_SECONDS
        assert screen.has_class("-wide")
        table = screen.query_one(RunTable)
        assert table.wide
        assert table_rows(screen)[0]["started"] == "2025-11-24 16:00"
        assert table_rows(screen)[0]["name"] == "20251124-160000-net-aaaa"
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        assert not table.wide and table_rows(screen)[0]["started"] == "11-24 16:00"


async def test_an_empty_runs_folder_says_how_to_make_a_run(tmp_path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_runs(pilot)
        assert table_rows(screen) == []
        detail = str(screen.query_one("#runs-detail").render())
        assert detail.startswith("No runs in") and "cnn-tui train --detach" in detail
        await pilot.press("enter", "c", "r", "d", "x", "e")  # nothing to act on: no error
        assert app.screen is screen


# -- one run --------------------------------------------------------------------------------


async def test_opening_a_run_shows_its_charts_as_the_train_screen_does(tmp_path) -> None:
    runs = tmp_path / "runs"
    run = write_run(runs, "20251124-160000-net-width-aaaa", model="net-width")
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await show_runs(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.run_path == str(run)
        await pilot.pause()
        accuracy = screen.query_one("#run-accuracy-chart", MetricChart)
        loss = screen.query_one("#run-loss-chart", MetricChart)
        curve = CURVES["net-width"]
        assert accuracy.x == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        assert accuracy.series["val"] == [v[3] for v in curve]
        assert loss.series["train"] == [v[0] for v in curve]
        assert accuracy.best_x == 5.0  # val 0.85 at epoch 5
        status = str(screen.query_one("#run-status").render())
        assert status == "finished · 6 of 6 epochs · best val 0.850 (epoch 5) · time 3:00"
        assert loss.display is False, "80x24 shows one chart at a time; c switches"
        await pilot.press("c")
        assert loss.display is True and accuracy.display is False
        await pilot.press("m")  # the Train screen's chart keys work here too
        assert accuracy.view.smooth and accuracy.series["val"] != [v[3] for v in curve]
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_a_runs_layers_view_reads_its_figures_or_says_it_has_none(tmp_path) -> None:
    from cnn_tui.core.run_writer import append_histograms
    from cnn_tui.tui.widgets.layers_view import LayersView
    from layer_records import MODULES, layer_epoch

    runs = tmp_path / "runs"
    old = write_run(runs, "20251124-160000-net-aaaa", started=T0)
    new = write_run(runs, "20251124-170000-net-bbbb", done=0, planned=3, started=T0 + 3600)
    for epoch in (1, 2, 3):
        record = layer_epoch(epoch)
        append_metrics(new, record)
        append_histograms(new, epoch, record.histograms or {})
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_runs(pilot)
        for run, expected in ((new, "act1 SATURATED"), (old, "recorded no layer figures")):
            await select(pilot, screen, run)
            await pilot.press("enter", "i")
            layers = app.screen.query_one(LayersView)
            await wait_for(pilot, lambda: expected in layers.text)  # noqa: B023 (awaited here)
            assert not app.screen.query_one("#run-charts").display
            shown = layers.text
            await pilot.press("escape")
        assert shown == (  # one line, not an empty box
            "This run recorded no layer figures: runs trained before cnn-tui measured layers "
            "have none (a resumed run's new epochs will)."
        )
        await select(pilot, screen, new)
        await pilot.press("enter", "i")
        layers = app.screen.query_one(LayersView)
        await wait_for(pilot, lambda: "▀" in layers.text)  # the histograms, read in a worker
        lines = layers.text.splitlines()
        assert [line.split()[0] for line in lines if line.split()[0] in MODULES] == list(MODULES)
        assert "▲ VANISHING GRADIENT" in layers.text and "process  cpu  153%" in layers.text
        assert sum("▀" in line for line in lines) == 4 * 3  # each weighted layer's strip
        assert any(line.strip().startswith("+0.3") for line in lines)  # the common range's top


async def test_a_live_run_is_followed_as_its_files_grow(tmp_path) -> None:
    """What a detached trainer does to its folder, done by hand: the open run follows."""
    runs = tmp_path / "runs"
    run = write_run(runs, "20251124-160000-net-aaaa", state="running", done=1, planned=4)
    lock = RunLock(run).acquire()  # a live trainer holds the lock (this process, here)
    try:
        app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await show_runs(pilot)
            assert cells(table_rows(screen)[0], "epochs", "best", "state") == [
                "1/4",
                "0.700",
                "running",
            ]
            await pilot.press("enter")
            run_screen = app.screen
            chart = run_screen.query_one("#run-accuracy-chart", MetricChart)
            assert chart.x == [1.0]
            status = run_screen.query_one("#run-status")
            assert str(status.render()).startswith("running in this app · epoch 2 of 4")
            (run / "progress.json").write_text('{"epoch": 2, "batch": 5, "batches": 10}')
            append_metrics(run, epoch_record(2, CURVES["net"][1]))
            await wait_for(pilot, lambda: chart.x == [1.0, 2.0], timeout=30)
            assert chart.series["val"] == [0.70, 0.77]
            append_metrics(run, epoch_record(3, CURVES["net"][2]))
            await wait_for(pilot, lambda: len(chart.x) == 3, timeout=30)
            write_state(run, state="stopped", ended=T0 + 90, message="stopped by the user")
            lock.release()
            await wait_for(pilot, lambda: str(status.render()).startswith("stopped"), timeout=30)
            assert "3 of 4 epochs" in str(status.render())
            assert run_screen.query_one("#run-progress-row").display is False
            await pilot.press("escape")
            await wait_for(
                pilot,
                lambda: (
                    cells(table_rows(screen)[0], "epochs", "best", "state")
                    == ["3/4", "0.790", "stopped"]
                ),
            )
    finally:
        lock.release()


# -- comparing --------------------------------------------------------------------------


async def test_compare_overlays_val_curves_and_groups_train_and_val_bars(tmp_path) -> None:
    """Val accuracy and loss curves, each named in the chart, the bars, and a warning when
    the runs trained on different data (here: one on the bundled sample)."""
    runs = tmp_path / "runs"
    write_run(runs, "20251124-160000-net-aaaa", dataset_name=SAMPLE)
    write_run(runs, "20251124-170000-net-width-bbbb", model="net-width", started=T0 + 1)
    write_run(runs, "20251124-180000-net-res-cccc", model="net-res", planned=3, started=T0 + 2)
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_runs(pilot)
        await pilot.press("c")
        assert app.screen is screen, "nothing marked: nothing to compare"
        head = screen.query_one("#runs-head")
        assert "0 marked: space marks runs to compare" in str(head.render())
        await pilot.press("space", "space", "space")
        assert len(screen.marked) == 3
        assert table_rows(screen)[0]["model"] == "● net-res"
        assert "3 marked: c compares them" in str(head.render())
        await pilot.press("c")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await pilot.pause()
        curves = compare.query_one("#compare-accuracy", ValCurvesChart)
        losses = compare.query_one("#compare-loss", ValCurvesChart)
        bars = compare.query_one("#compare-bars")
        by_label = {run.label: run for run in curves.runs}
        assert set(by_label) == {"net", "net-width", "net-res"}
        assert by_label["net-res"].val_accuracy == (0.75, 0.82, 0.85)
        assert by_label["net-width"].epochs == (1, 2, 3, 4, 5, 6)
        assert (by_label["net"].final_train, by_label["net"].final_val) == (0.85, 0.82)
        assert by_label["net-res"].val_loss == (0.50, 0.41, 0.37)
        assert bars.runs == curves.runs == losses.runs
        for chart in (curves, losses):  # each curve named at its end, not by colour alone
            drawn = chart.render()
            assert isinstance(drawn, Text)
            assert all(label in drawn.plain for label in by_label), drawn.plain
        warning = compare.query_one("#compare-warning")
        assert warning.display and "different data sets (CIFAR-2, sample)" in str(warning.render())
        table = compare.query_one("#compare-table")
        assert table.row_count == 3
        # train - val of the final epoch: "does it overfit more?" answered side by side
        gaps = [str(table.get_row(key)[5]) for key in table.rows]
        assert "+0.030" in gaps, gaps  # net: 0.85 - 0.82
        assert "gap = train - val (overfitting)" in str(compare.query_one("#compare-head").render())
        await pilot.press("escape")
        await pilot.press("space")  # unmark one: two are still enough
        await pilot.press("c")
        assert isinstance(app.screen, CompareScreen) and len(app.screen.files) == 2
        await pilot.pause()
        assert not app.screen.query_one("#compare-warning").display, "both on CIFAR-2"


# -- actions ------------------------------------------------------------------------------


async def test_resume_here_continues_a_stopped_run_in_the_app(tmp_path, trained) -> None:
    run = copy_runs(trained, tmp_path / "runs", "stopped")["stopped"]
    assert read_state(run)["state"] == "stopped"
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_runs(pilot)
        row = table_rows(screen)[0]
        assert (row["epochs"], row["state"]) == ("1/3", "stopped")
        await pilot.press("r")
        assert isinstance(app.screen, ResumeScreen)
        await pilot.press("h")
        await wait_for(pilot, lambda: app.session.train.phase == "finished", timeout=60)
        assert [r.epoch for r in read_metrics(run).epochs] == [1, 2, 3]
        assert [r.epoch for r in app.session.train.history] == [1, 2, 3], (
            "earlier epochs charted too"
        )
        assert app.session.train.finished.run_dir == str(run)
        await wait_for(pilot, lambda: table_rows(screen)[0]["state"] == "finished", timeout=30)
        assert table_rows(screen)[0]["epochs"] == "3/3"


async def test_resume_is_offered_only_for_what_can_resume(tmp_path, trained) -> None:
    runs = tmp_path / "runs"
    copy_runs(trained, runs, "finished")
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_runs(pilot)
        assert screen.check_action("resume", ()) is None  # finished: shown but off
        await pilot.press("r")
        assert app.screen is screen
        titles = [command.title for command in app.get_system_commands(screen)]
        assert "Run: resume" not in titles and "Run: use its best weights" in titles
        assert "Runs: compare" not in titles  # nothing marked


async def test_use_a_runs_final_or_best_weights_as_the_current_model(tmp_path, trained) -> None:
    run = copy_runs(trained, tmp_path / "runs", "finished")["finished"]
    app = CnnTuiApp(options(tmp_path, weights=str(tmp_path / "none.pt")), dataset=tiny_dataset())
    heard = []
    async with app.run_test(size=(80, 24)) as pilot:
        await show_runs(pilot)
        app.session.current_model_changed.subscribe(app.screen, heard.append)
        await pilot.press("w")
        await wait_for(pilot, lambda: app.session.current_model is not None, timeout=30)
        current = app.session.current_model
        assert current.path == run / "weights.pt" and current.origin == "run"
        assert current.meta["model"] == "net" and current.meta["num_classes"] == 2
        assert "sample" not in notices(app)
        # Weights trained on the bundled sample say so as they become the current model
        # (best.pt takes its data from the run's config.json).
        config = json.loads((run / "config.json").read_text())
        (run / "config.json").write_text(json.dumps({**config, "data_source": "sample"}))
        await pilot.press("b")
        await wait_for(pilot, lambda: app.session.current_model.path == run / "best.pt", timeout=30)
        assert [m.path.name for m in heard] == ["weights.pt", "best.pt"]
        assert "best weights of" in notices(app)
        assert "(best.pt), trained on the bundled sample, is now" in notices(app)


async def test_delete_asks_first(tmp_path) -> None:
    runs = tmp_path / "runs"
    keep = write_run(runs, "20251124-160000-net-aaaa")
    gone = write_run(runs, "20251124-170000-net-bbbb", started=T0 + 1)
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_runs(pilot)
        await select(pilot, screen, gone)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert gone.name in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        assert app.screen is screen and gone.is_dir()
        await pilot.press("d", "y")
        await pilot.pause()
        assert not gone.exists() and keep.is_dir()
        assert [row["started"] for row in table_rows(screen)] == ["11-24 16:00"]
        assert "Deleted" in notices(app)


async def test_export_writes_csv_beside_the_run_and_says_where(tmp_path) -> None:
    runs = tmp_path / "runs"
    run = write_run(runs, "20251124-160000-net-aaaa", done=4, planned=6, state="stopped")
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await show_runs(pilot)
        await pilot.press("e")
        path = run / "metrics.csv"
        assert path.is_file()
        rows = list(csv.DictReader(path.open()))
        assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
        assert float(rows[3]["val_accuracy"]) == CURVES["net"][3][3]
        assert str(path) in notices(app)


async def test_stopping_the_apps_own_run_from_the_runs_screen(tmp_path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=500), dataset=tiny_dataset(256, 32))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.session.train.history) >= 1, timeout=60)
        screen = await show_runs(pilot)
        await wait_for(pilot, lambda: table_rows(screen)[0]["state"] == "running", timeout=30)
        await pilot.press("enter")

        def run_status() -> str:  # the run's screen may still be on its way
            found = app.screen.query("#run-status")
            return str(found.first().render()) if found else ""

        await wait_for(pilot, lambda: run_status().startswith("running in this app"), timeout=30)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=30)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.session.train.phase == "stopped", timeout=30)


@posix_only
async def test_watch_stop_on_a_run_trained_in_the_app_stops_the_run_not_the_app(tmp_path) -> None:
    """The gap this fixed: `cnn-tui watch --stop` signalled the lock holder, here the app."""
    if not CLI.exists():
        pytest.skip(f"the console script is not installed at {CLI}")
    app = CnnTuiApp(options(tmp_path, epochs=500), dataset=tiny_dataset(256, 32))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.session.train.history) >= 1, timeout=60)
        run = Path(app.session.train.started.run_dir)
        watch = await asyncio.create_subprocess_exec(
            str(CLI), "watch", "--stop", str(run),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await wait_for(pilot, lambda: app.session.train.phase == "stopped", timeout=60)
        out, err = await asyncio.wait_for(watch.communicate(), 60)
        assert watch.returncode == 0, err.decode()
        assert f"(pid {os.getpid()}) to stop" in out.decode()
        assert app.is_running, "the app lives on"
        assert read_state(run)["state"] == "stopped"
        assert not (run / "stop.request").exists()


# -- detached runs --------------------------------------------------------------------------


@posix_only
async def test_background_key_trains_detached_and_the_runs_screen_follows_stops_resumes(
    tmp_path, make_image_folder
) -> None:
    """b on the Train screen starts a detached trainer; its run opens and follows its files;
    x stops it (SIGTERM to that process), r then b resumes it in the background."""
    data = make_image_folder(tmp_path / "images", train=32, test=8)
    app = CnnTuiApp(options(tmp_path, data=str(data), epochs=400, batch_size=8))
    run = pid = None
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            app.screen.set_focus(None)
            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), timeout=30)
            screen = app.screen
            run = Path(screen.run_path)
            assert run.parent == tmp_path / "runs" and read_state(run)["detached"]
            pid = read_state(run)["pid"]
            assert pid != os.getpid() and "Training in the background" in notices(app)
            chart = screen.query_one("#run-accuracy-chart", MetricChart)
            await wait_for(pilot, lambda: len(chart.x) >= 2, timeout=90)
            assert str(screen.query_one("#run-status").render()).startswith(f"running pid {pid}")
            assert screen.query_one("#run-progress-row").display
            status = screen.query_one("#run-status")
            await pilot.press("x", "y")
            await wait_for(pilot, lambda: str(status.render()).startswith("stopped"), timeout=60)
            done = read_state(run)["epochs_done"]
            assert len(chart.x) == done and f"{done} of 400 epochs" in str(status.render())
            await pilot.press("r")
            assert isinstance(app.screen, ResumeScreen)
            await pilot.press("b")
            await wait_for(pilot, lambda: len(chart.x) > done, timeout=90)
            assert read_state(run)["state"] == "running" and is_alive(run)
            await pilot.press("x", "y")
            await wait_for(pilot, lambda: read_state(run)["state"] == "stopped", timeout=60)
        epochs = [r.epoch for r in read_metrics(run).epochs]
        assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) > done
    finally:
        if run is not None and is_alive(run):
            from cnn_tui.core.run_lock import lock_holder

            os.kill(lock_holder(run) or pid, signal.SIGKILL)
