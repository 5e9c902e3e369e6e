"""The Train screen driven as a user would: the form, start, pause, resume, stop, charts, log."""

from __future__ import annotations

import math
import sys
import textwrap
import time
from pathlib import Path

import pytest
from app_support import log_text, options, ready, static_text, tiny_dataset, wait_for
from cnn_tui.core.config import PRESETS
from cnn_tui.core.events import EpochEnd, Finished, Log, Progress, Started
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.batch_series import BatchSeries, halve, thin
from cnn_tui.tui.screens.train import TrainScreen
from cnn_tui.tui.session.messages import TrainEvent
from cnn_tui.tui.session.service import TRAIN_SWITCH_SECONDS, with_held_batches
from cnn_tui.tui.widgets.charts import MetricChart, ema, integer_ticks
from cnn_tui.tui.widgets.train_form import TrainForm
from cnn_tui.tui.widgets.train_log import TrainLog
from cnn_tui.tui.widgets.train_text import (
    FittedText,
    fit_with_path,
    fit_words,
    pack_segments,
    shorten_path,
)
from screen_support import epoch_record as _record
from textual.color import Color
from textual.widgets import Checkbox, Input, ProgressBar, Select

# -- pure helpers -----------------------------------------------------------------------


def test_ema_is_tensorboards_debiased_moving_average() -> None:
    assert ema([]) == []
    assert ema([3.0, 3.0, 3.0]) == pytest.approx([3.0, 3.0, 3.0])  # a constant stays itself
    values = [1.0, 0.0, 0.0]
    last, expected = 0.0, []
    for i, value in enumerate(values, 1):
        last = 0.6 * last + 0.4 * value
        expected.append(last / (1 - 0.6**i))
    assert ema(values) == expected
    assert ema(values)[0] == pytest.approx(1.0)  # the first point is kept, not pulled toward zero
    smoothed = ema([1.0, math.nan, 0.5])
    assert math.isnan(smoothed[1]) and math.isfinite(smoothed[2])


def test_epoch_ticks_are_whole_numbers_and_few() -> None:
    assert integer_ticks(1) == [1]
    assert integer_ticks(5) == [1, 2, 3, 4, 5]
    ticks = integer_ticks(100)
    assert ticks[0] == 1 and ticks[-1] == 100 and len(ticks) <= 7
    assert all(isinstance(t, int) for t in ticks)


def test_per_batch_figures_are_kept_thinned_and_never_lost_between_posts() -> None:
    series = BatchSeries()
    series.add(Progress(1, 2, 2, 4, 1.0, 1.0, 1.0, 2, (0.9, 0.8), (0.1, 0.2), 1.0), 0.0)
    series.add(Progress(1, 2, 4, 4, 1.0, 0.0, 2.0, 4, (0.7, 0.6), (0.3, 0.4), 2.0), 0.0)
    series.add(Progress(2, 2, 2, 4, 1.0, 1.0, 3.5, 6, (0.5, 0.4), (0.5, 0.6), 1.0), 2.5)
    assert series.steps == [1, 2, 3, 4, 5, 6] and series.per_epoch == 4
    assert series.seconds == [0.5, 1.0, 1.5, 2.0, 3.0, 3.5]  # epoch 1 took 2.5 s in all
    assert series.losses == [0.9, 0.8, 0.7, 0.6, 0.5, 0.4] and series.lrs[-1] == 0.6
    assert halve([1.0, 3.0, 5.0, 7.0, 9.0]) == [2.0, 6.0, 9.0]
    assert thin([1.0, 2.0, 3.0, 4.0], [4.0, 2.0, 1.0, 1.0], 2) == ([1.5, 3.5], [3.0, 1.0])
    held = [Progress(1, 2, 1, 4, 1.0, 1.0, 1.0, 1, (0.9,), (0.1,))]
    sent = with_held_batches(held, Progress(1, 2, 2, 4, 1.0, 1.0, 1.0, 2, (0.8,), (0.2,)))
    assert sent.losses == (0.9, 0.8) and sent.lrs == (0.1, 0.2) and sent.step == 2


# -- a real run on made-up data ---------------------------------------------------------


async def test_a_run_reaches_the_charts_status_and_log(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=3), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert "ready · press s to start" in static_text(pilot, "#status-line")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.session.train.phase == "finished")
        await pilot.pause(0.3)  # one redraw tick
        history = app.session.train.history
        assert [r.epoch for r in history] == [1, 2, 3]
        loss = app.screen.query_one("#loss-chart", MetricChart)
        accuracy = app.screen.query_one("#accuracy-chart", MetricChart)
        assert loss.x == [1.0, 2.0, 3.0]
        assert loss.series["train"] == [r.train_loss for r in history]
        assert loss.series["val"] == [r.val_loss for r in history]
        assert accuracy.series["val"] == [r.val_accuracy for r in history]
        best = max(history, key=lambda r: r.val_accuracy)
        assert accuracy.best_x == best.epoch
        status = static_text(pilot, "#status-line")
        assert status.startswith("finished · 3 of 3 epochs")
        assert f"best val {best.val_accuracy:.3f} (epoch {best.epoch})" in status
        assert status.endswith("cpu") or "cuda" in status or "mps" in status
        text = log_text(pilot)
        assert "epoch 3/3" in text and "made-up test data" in text
        run_dir = Path(app.session.train.finished.run_dir)
        assert str(run_dir) in text.replace("\n", "")
        assert (run_dir / "weights.pt").is_file()
        bar = app.screen.query_one(ProgressBar)
        assert bar.percentage == 1.0


async def test_pause_resume_and_stop_keep_the_checkpoint(tmp_path: Path) -> None:
    switch = sys.getswitchinterval()
    app = CnnTuiApp(options(tmp_path, epochs=200, batch_size=8), dataset=tiny_dataset(256, 32))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.session.train.history) >= 1)
        await pilot.press("p")
        assert app.session.train.phase == "paused" and app.session.train.control.paused
        # while a run trains the interpreter lock changes hands every 0.5 ms (see _train_job)
        assert sys.getswitchinterval() == pytest.approx(TRAIN_SWITCH_SECONDS)
        await pilot.pause(0.4)  # the worker reaches the pause between two batches
        frozen = (len(app.session.train.history), app.session.train.progress)
        await pilot.pause(0.5)
        assert (len(app.session.train.history), app.session.train.progress) == frozen
        await pilot.pause(0.3)
        assert static_text(pilot, "#status-line").startswith("paused")
        assert "p Resume" in _footer_text(app) or "Resume" in _footer_text(app)
        await pilot.press("p")
        assert app.session.train.phase == "running" and not app.session.train.control.paused
        await wait_for(pilot, lambda: len(app.session.train.history) > frozen[0])
        await pilot.press("x")
        await wait_for(pilot, lambda: app.session.train.phase == "stopped")
        finished = app.session.train.finished
        run_dir = Path(finished.run_dir)
        assert finished.state == "stopped" and 1 <= finished.epochs_done < 200
        assert (run_dir / "last.pt").is_file() and (run_dir / "best.pt").is_file()
        assert app.session.current_model.path == run_dir / "weights.pt"
        await pilot.pause(0.3)
        text = log_text(pilot)
        assert "paused" in text and "resumed" in text and "run stopped after" in text
        await wait_for(pilot, lambda: sys.getswitchinterval() == switch)  # Python's again


def _footer_text(app: CnnTuiApp) -> str:
    from textual.widgets._footer import FooterKey

    return " ".join(f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey))


async def test_switching_screens_neither_stops_training_nor_loses_charts(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=300), dataset=tiny_dataset(256, 32))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.session.train.history) >= 1)
        await pilot.press("2")
        assert app.current_mode == "model"
        seen = len(app.session.train.history)
        await wait_for(pilot, lambda: len(app.session.train.history) > seen)  # still training
        await pilot.press("1", "p")
        assert isinstance(app.screen, TrainScreen)
        chart = app.screen.query_one("#loss-chart", MetricChart)
        await wait_for(pilot, lambda: len(chart.x) == len(app.session.train.history) > seen)
        assert chart.series["train"] == [
            r.train_loss for r in app.session.train.history[: len(chart.x)]
        ]
        await pilot.press("x")
        await wait_for(pilot, lambda: not app.session.train.active)


# -- the form ---------------------------------------------------------------------------


async def test_invalid_values_are_refused_at_the_field(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for field, typed, reason in (
            ("#epochs", "0", "epochs must be at least 1, not 0"),
            ("#lr", "-1", "learning rate must be a positive finite number"),
            ("#batch_size", "many", "batch size must be a whole number"),
        ):
            app.screen.query_one(field, Input).focus()
            await pilot.press(*typed)
            await pilot.pause()
            error = app.screen.query_one(f"{field}-error")
            assert reason in str(error.render()) and error.display
            assert app.screen.query_one(field, Input).has_class("-invalid")
        await pilot.press("escape", "s")
        assert app.session.train.phase == "idle"  # nothing started
        assert app.session.train.control is None
        app.screen.query_one("#epochs", Input).focus()
        await pilot.press("2")
        await pilot.pause()
        assert not app.screen.query_one("#epochs-error").display


async def test_a_preset_fills_the_fields(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = app.screen
        assert screen.query_one("#epochs", Input).value == "100"
        screen.query_one("#preset", Select).focus()
        await pilot.press("enter", "down", "enter")  # book -> fast, by keyboard
        await pilot.pause()
        fast = PRESETS["fast"]
        assert screen.query_one("#preset", Select).value == "fast"
        assert screen.query_one("#epochs", Input).value == str(fast.epochs)
        assert float(screen.query_one("#lr", Input).value) == fast.lr
        assert screen.query_one("#batch_size", Input).value == str(fast.batch_size)
        assert screen.query_one("#optimizer", Select).value == fast.optimizer
        assert screen.query_one("#augment", Checkbox).value is fast.augment
        config = screen.query_one(TrainForm).config(None)
        assert config.preset == "fast" and config.schedule == fast.schedule
        screen.query_one("#epochs", Input).value = str(fast.epochs + 1)
        assert screen.query_one(TrainForm).config(None).preset == "custom"


async def test_net_res_deep_follows_the_books_smaller_learning_rate(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.screen.query_one("#model", Select).value = "net-res-deep"
        await pilot.pause()
        assert app.screen.query_one("#lr", Input).value == "0.003"
        assert "residual" in static_text(pilot, "#model-help")


# -- charts, log and layout ---------------------------------------------------------------


async def test_chart_toggles_smooth_log_scale_and_time_axis(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        for epoch in (1, 2, 3):
            app.post_message(TrainEvent(_record(epoch, seconds=epoch)))
        loss = app.screen.query_one("#loss-chart", MetricChart)
        # The charts take new epochs at their next redraw tick (a fixed pause of 0.3 s
        # fell short on a loaded machine): wait for the three epochs to be drawn.
        await wait_for(pilot, lambda: len(loss.series.get("train", [])) == 3)
        raw = [r.train_loss for r in app.session.train.history]
        assert loss.series["train"] == raw
        await pilot.press("m")
        assert loss.view.smooth and loss.series["train"] == ema(raw)
        await pilot.press("t")  # by step: as epochs where no batches came (no Progress)
        assert loss.view.x_axis == "step" and loss.x == [1.0, 2.0, 3.0]
        await pilot.press("t")
        assert loss.x == [1.0, 3.0, 6.0]  # seconds of training at each epoch's end
        await pilot.press("l")
        assert loss.view.log_loss
        await pilot.press("m", "t", "l")
        assert loss.series["train"] == raw and loss.x == [1.0, 2.0, 3.0]
        assert loss.view.x_axis == "epoch"


async def test_charts_redraw_a_few_times_a_second_however_fast_epochs_come(
    tmp_path: Path, monkeypatch
) -> None:
    draws = []
    real = MetricChart.redraw
    monkeypatch.setattr(MetricChart, "redraw", lambda self: (draws.append(1), real(self)))
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.pause(0.3)
        draws.clear()
        started = time.monotonic()
        for epoch in range(1, 401):
            app.post_message(TrainEvent(_record(epoch)))
            if epoch % 50 == 0:
                await pilot.pause(0.05)
        await wait_for(pilot, lambda: len(app.session.train.history) == 400)
        await pilot.pause(0.3)
        seconds = time.monotonic() - started
        chart = app.screen.query_one("#loss-chart", MetricChart)
        assert len(chart.x) == 400
        # two charts, at most one redraw each per 0.25 s tick (plus the first)
        assert len(draws) <= 2 * (seconds / 0.25 + 2), (len(draws), seconds)


async def test_warnings_nan_stops_and_fallbacks_reach_the_log(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        for event in (
            Log("could not download CIFAR-10 into /x (no network)", "warning"),
            Log("using the CIFAR-2 bundled sample (not the full data set)", "warning"),
            Started("/runs/r1", "net", "CIFAR-2 bundled sample", "cpu", 5, 0, 400, 100),
            Progress(1, 5, 3, 7, 1234.0, 2.0, 1.5),
            Log("the loss became nan in epoch 1; try a smaller learning rate", "error"),
            Finished("failed", "/runs/r1", None, 0, None, None, "the loss became nan"),
        ):
            app.post_message(TrainEvent(event))
        await pilot.pause(0.4)
        text = log_text(pilot)
        assert "warning: using the CIFAR-2 bundled sample" in text
        assert "error: the loss became nan in epoch 1" in text
        assert "run failed after 0 epochs" in text and "/runs/r1" in text
        assert static_text(pilot, "#status-line").startswith("failed")
        # a run that made no weights leaves the current model as it was
        assert app.session.current_model is None or app.session.current_model.origin != "run"


async def test_narrow_terminal_gives_the_charts_the_width_while_training(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=500), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        form = app.screen.query_one(TrainForm)
        assert app.screen.has_class("-narrow") and form.display
        await pilot.press("s", "p")  # paused, so that the keys below are answered at once
        assert not form.display
        await pilot.press("f")
        assert form.display and form.disabled  # shown on asking, locked while training
        await pilot.press("f", "x")
        await wait_for(pilot, lambda: app.session.train.phase == "stopped")
        await pilot.pause(0.3)
        assert not form.display and not form.disabled  # hidden by hand: stays so
        await pilot.press("f", "s", "p", "x")
        await wait_for(pilot, lambda: app.session.train.phase == "stopped")
        await pilot.pause(0.3)
        assert form.display  # hidden for the run only, back once it ended
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        assert app.screen.has_class("-wide")
        charts = app.screen.query_one("#charts")
        loss, accuracy = charts.children
        assert loss.region.y == accuracy.region.y  # side by side
        assert loss.region.x < accuracy.region.x


async def test_charts_follow_the_theme(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.post_message(TrainEvent(_record(1)))
        await pilot.pause(0.3)
        chart = app.screen.query_one("#loss-chart", MetricChart)
        for theme in ("textual-light", "nord"):
            app.theme = theme
            await pilot.pause(0.1)
            primary = Color.parse(app.theme_variables["primary"]).rgb
            assert chart._colour("primary") == primary
            chart.render()
            assert chart._cache_key[3] == theme  # rebuilt for the new theme


# -- a newcomer at 80x24: the sample said, the run's time left, the form and log fitted ----


def test_help_lines_fit_by_whole_words_and_paths_shorten_from_the_left() -> None:
    text = "the book's Net: two conv stages (16, 8 channels), tanh, 18,090 parameters"
    assert fit_words(text, 27, 2) == "the book's Net: two conv\nstages (16, 8 channels)…"
    assert fit_words(text, 27, 3) == "\n".join(textwrap.wrap(text, 27))  # all of it fits
    assert shorten_path("/home/someone/.local/share/cnn-tui/data", 19) == "…/cnn-tui/data"
    assert shorten_path("/a/b", 20) == "/a/b"
    source = "reads nothing in /home/someone/.local/share/cnn-tui/data: download CIFAR-10"
    fitted = fit_with_path(source, "/home/someone/.local/share/cnn-tui/data", 27, 3)
    assert fitted == "reads nothing in\n…/share/cnn-tui/data:\ndownload CIFAR-10"
    line = "epoch 8/8: train loss 0.396 acc 0.830 · val loss 0.452 acc 0.770 · 5,333 img/s"
    assert pack_segments(line, 100) == line
    packed = pack_segments(line, 47).splitlines()
    assert packed == [
        "epoch 8/8: train loss 0.396 acc 0.830",
        "  val loss 0.452 acc 0.770 · 5,333 img/s",
    ]


async def test_a_sample_run_at_80x24_says_so_and_fits(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, data=str(tmp_path / "a" / "long" / "data" / "folder")))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = app.screen.query_one(TrainForm)
        source = app.screen.query_one("#source", FittedText)
        assert source.tooltip == source.full and source.full.endswith("else the bundled sample")
        one_cycle = app.session.initial_config.with_changes(schedule="one-cycle")
        app.session.train.begin(one_cycle, None)
        losses, lrs = (0.7, 0.6, 0.65), (0.001, 0.002, 0.003)
        for event in (
            Started("/runs/r1", "net", "CIFAR-2 bundled sample", "cpu", 5, 0, 500, 100, [], True),
            Progress(1, 5, 3, 8, 1234.0, 6.0, 2.0, 3, losses, lrs, 2.0),  # 8 s an epoch, so far
            *(_record(epoch, seconds=10.0) for epoch in (1, 2)),
            EpochEnd(3, 0.3, 0.6, 0.4, 0.6, 10.0, 5333.0),  # a longer line: 79 columns
            Progress(4, 5, 4, 8, 1234.0, 5.0, 35.0, 28, losses, lrs, 4.0),
        ):
            app.post_message(TrainEvent(event))
        # (waited for, not a fixed pause: CI under load once read the screen too early)
        await wait_for(pilot, lambda: "run 0:15" in static_text(pilot, "#rate"))
        # the sample, where it cannot scroll away, and said once at the start
        assert "· sample 500/100 ·" in static_text(pilot, "#status-line")
        (note,) = [n for n in app._notifications if "bundled sample" in n.message]
        assert "not on CIFAR-2" in note.message and "cifar-10-batches-py" in note.message
        # the run's time left beside the epoch's, core's one estimate (the CLI's too)
        assert static_text(pilot, "#rate") == "1,234 img/s · 0:05 left · run 0:15"
        assert form.display  # wide: the form stays while the run trains
        await pilot.resize_terminal(80, 24)
        # made narrow: hidden, as a start in a narrow window does
        await wait_for(pilot, lambda: not form.display)
        await pilot.pause()
        # the legend is the title's line, and nothing stands against the right frame
        lines = app.screen.query_one("#loss-chart", MetricChart).render().plain.splitlines()
        assert "━ train  ━ val" in lines[0] and "◆ best" in lines[0]
        assert all("train" not in line and "val" not in line for line in lines[1:])
        frame = [line.rstrip() for line in lines if line.rstrip().endswith(("│", "┐", "┘"))]
        assert frame and all(line[-2] not in "│┬┴┤" for line in frame), frame
        # an epoch line breaks between its parts: no `img/s` alone
        assert not any(
            line.strip().endswith("img/s") and "·" not in line
            for line in app.screen.query_one(TrainLog).lines
            for line in [line.text]
        )
        # t: by epoch, by step, by time; each batch's loss and the one-cycle rate drawn
        loss = app.screen.query_one("#loss-chart", MetricChart)
        steps = [1.0, 2.0, 3.0, 26.0, 27.0, 28.0]
        assert loss.batch_points() == ([s / 8 for s in steps], [*losses, *losses], [*lrs, *lrs])
        assert "━ lr →  ━ batch" in loss.render().plain.splitlines()[0]
        await pilot.press("t")
        assert loss.batch_points()[0] == steps
        assert loss.x == [8.0, 16.0, 24.0] and "loss by step" in loss.render().plain
        await pilot.press("t")  # by time: 2 s into epoch 1; 4 s into epoch 4, after 30 s
        times = [2 / 3, 4 / 3, 2.0, 30 + 4 / 3, 30 + 8 / 3, 34.0]
        assert loss.batch_points()[0] == pytest.approx(times)
        await pilot.press("t")
        assert loss.view.x_axis == "epoch"
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        assert form.display  # wide again: the form it hid is back
        await pilot.resize_terminal(80, 24)
        app.post_message(TrainEvent(Finished("finished", "/runs/r1", None, 5, 0.8, 5)))
        await wait_for(pilot, lambda: app.session.train.phase == "finished")
        await pilot.pause(0.3)
        assert form.display and not form.disabled  # back once the run ended
        # the model's description ends on a whole word, all of it on focus
        model_help = app.screen.query_one("#model-help", FittedText)
        app.screen.query_one("#model", Select).focus()
        await pilot.pause()
        assert (
            model_help.expanded and str(model_help.render()).replace("\n", " ") == model_help.full
        )
        app.screen.query_one("#epochs", Input).focus()
        await pilot.pause(0.1)
        assert not model_help.expanded and not source.expanded
        shown = str(source.render())
        assert "…/folder" in shown and shown.splitlines()[-1][-1] != "…"


async def test_the_layers_view_fills_live_and_flags_a_saturated_layer(tmp_path: Path) -> None:
    from cnn_tui.tui.widgets.layers_view import LayersView
    from layer_records import MODULES, layer_epoch

    app = CnnTuiApp(options(tmp_path, epochs=5), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.session.train.begin(app.session.initial_config, None)
        machine = layer_epoch(1).machine
        for event in (
            Started("/runs/r1", "net", "made-up test data", "cpu", 5, 0, 64, 32),
            Progress(1, 5, 1, 4, 1000.0, 3.0, 1.0, 1, (0.7,), (0.01,), 1.0, machine=machine),
        ):
            app.post_message(TrainEvent(event))
        await pilot.pause(0.3)
        # the machine beside the model, live, in the status line (two lines at most)
        assert "cpu · 151% cpu, 401M mem, 14 threads" in static_text(pilot, "#status-line")
        await pilot.press("i")
        layers = app.screen.query_one(LayersView)
        assert layers.display and not app.screen.query_one("#charts").display
        assert "come as each epoch ends" in layers.text
        for epoch in (1, 2, 3):
            app.post_message(TrainEvent(layer_epoch(epoch)))
        await wait_for(pilot, lambda: "epoch 3" in layers.text)
        lines = layers.text.splitlines()
        rows = [line.split()[0] for line in lines if line[:1].isalpha()]
        assert [row for row in rows if row in MODULES] == list(MODULES)  # the model's order
        assert lines[0].endswith("act1 SATURATED; conv2 VANISHING GRADIENT")
        assert "▲ SATURATED: 60% of its outputs saturated (over 50%)" in layers.text
        act1 = next(line for line in lines if line.startswith("act1"))
        assert "sat  60%" in act1 and any(bar in act1 for bar in "▁▂▃▄▅▆▇█")
        assert sum("▀" in line for line in lines) == 4 * 3  # a 3-row strip per weighted layer
        assert "process  cpu  153%" in layers.text  # the machine per epoch
        drawn = [line for line in lines if "▀" in line or line.split()[0] in MODULES]
        assert max(map(len, drawn)) <= layers.scrollable_content_region.width  # (text wraps)
        strip = max(len(line) for line in lines if "▀" in line)
        await pilot.resize_terminal(120, 40)  # more room: wider strips
        await pilot.pause(0.2)
        assert max(len(line) for line in layers.text.splitlines() if "▀" in line) > strip + 30
        await pilot.press("i")
        assert app.screen.query_one("#charts").display and not layers.display
