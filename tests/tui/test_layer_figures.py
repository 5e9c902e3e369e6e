"""The Layers view's arithmetic, without an app: the histograms rebinned to one range (the
distribution strip's cells), the flags, the layout by width, a live run's thinning."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cnn_tui.core.events import EpochEnd, Progress
from cnn_tui.core.layer_stats import SATURATED, VANISHING, Histogram, LayerStats, MachineStats
from cnn_tui.tui.layer_figures import (
    distribution,
    layer_figures,
    rebin,
    spread,
    strip_pixels,
    thin_histograms,
)
from cnn_tui.tui.session.service import with_held_batches
from cnn_tui.tui.widgets.layers_text import LayerStyles, Layout, byte_size, share_sparkline
from cnn_tui.tui.widgets.train_status import machine_text
from layer_records import MODULES, WEIGHTED, layer_epoch
from rich.color import Color
from rich.console import Console
from rich.style import Style


def test_two_epochs_histograms_on_one_range_give_known_cells() -> None:
    # epoch 1: weights in 0..1 (1 in the lower half, 3 in the upper); epoch 2: 1..2, even
    first, second = Histogram(0.0, 1.0, (1, 3)), Histogram(1.0, 2.0, (2, 2))
    assert rebin(first, 0.0, 2.0, 4) == [1.0, 3.0, 0.0, 0.0]
    assert rebin(Histogram(0.0, 1.0, (4,)), 0.0, 2.0, 4) == [2.0, 2.0, 0.0, 0.0]  # shared
    assert rebin(Histogram(0.0, 3.0, (3, 0, 3)), 0.0, 3.0, 2) == [3.0, 3.0]
    assert rebin(Histogram(0.5, 0.5, (5,)), 0.0, 2.0, 4) == [0.0, 5.0, 0.0, 0.0]  # width 0
    found = distribution([first, second], 4)
    assert (found.low, found.high) == (0.0, 2.0)  # the range that holds both
    assert found.columns == [[1 / 3, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]  # densest: 1
    # two pixel rows a line: the top line holds the highest weights; each epoch stretched
    # over two of four columns
    assert strip_pixels(found, 4) == [
        [0.0, 0.0, 1.0, 1.0],
        [0.0, 0.0, 1.0, 1.0],
        [1.0, 1.0, 0.0, 0.0],
        [1 / 3, 1 / 3, 0.0, 0.0],
    ]
    one_value = distribution([Histogram(0.2, 0.2, (7,))], 3)  # all weights equal: centred
    assert one_value.low < 0.2 < one_value.high and one_value.columns == [[0.0, 1.0, 0.0]]


def test_epochs_stretch_or_are_sampled_to_the_strips_width() -> None:
    assert spread(2, 4) == [0, 0, 1, 1]
    assert spread(3, 3) == [0, 1, 2]
    assert spread(10, 4) == [0, 3, 6, 9]  # the first and the last epoch always shown
    assert spread(0, 4) == [] and spread(5, 1) == [4]


def test_flags_series_and_machine_from_the_epochs() -> None:
    figures = layer_figures([layer_epoch(epoch) for epoch in (1, 2, 3)])
    assert figures.epochs == [1, 2, 3]
    assert [module.name for module in figures.modules] == list(MODULES)
    assert figures.flagged == [("act1", SATURATED), ("conv2", VANISHING)]
    conv1 = figures.modules[0]
    assert conv1.series["weight_norm"] == pytest.approx([1.1, 1.2, 1.3])
    assert "saturated" not in conv1.series and conv1.histogram_epochs == [1, 2, 3]
    assert figures.modules[1].series == {"saturated": pytest.approx([0.4, 0.5, 0.6])}
    assert [m.cpu_percent for m in figures.machine] == [151.0, 152.0, 153.0]
    # two epochs in: act1 at 50% is not over the threshold, conv2's gradient still flows
    assert layer_figures([layer_epoch(1), layer_epoch(2)]).flagged == []
    # histograms read from a run folder stand for those the epochs carry
    bare = [replace(layer_epoch(e), histograms=None) for e in (1, 2)]
    read = {2: {"fc2": Histogram(-1.0, 1.0, (1, 1))}}
    fc2 = layer_figures(bare, read).modules[-1]
    assert fc2.histogram_epochs == [2] and figures.modules[2].histograms
    old = layer_figures([EpochEnd(1, 0.6, 0.7, 0.6, 0.7, 1.0, 1000.0)])
    assert old.modules == [] and old.machine == []  # a run from before: nothing to show


def test_rows_fit_the_width_and_the_machine_reads_short() -> None:
    wide, narrow = Layout.fit(119, MODULES, 3), Layout.fit(49, MODULES, 3)
    assert (wide.per_line, narrow.per_line) == (3, 1)  # a narrow view: a figure a line
    assert wide.spark >= 20 and narrow.spark >= 20
    assert wide.name + 1 + 3 * (12 + 1 + wide.spark + 2) <= 119
    # a share's sparkline is on 0..100%: tiny saturations stay at the bottom
    styles = LayerStyles(Color.parse("#000000"), Color.parse("#ffffff"), *[Style()] * 3)
    console = Console()
    assert share_sparkline([0.0, 0.5, 1.0], 3, styles, console).plain == "▁▅█"
    assert share_sparkline([0.001, 0.003], 4, styles, console).plain == "▁▁▁▁"
    assert byte_size(412 * 2**20) == "412M" and byte_size(int(1.5 * 2**30)) == "1.5G"
    machine = MachineStats(190.4, 412 * 2**20, 14)
    assert machine_text(machine) == "190% cpu, 412M mem, 14 threads"
    gpu = MachineStats(100.0, 2**30, 9, gpu_percent=45.0, gpu_memory_bytes=3 * 2**30)
    assert machine_text(gpu) == "100% cpu, 1.0G mem, 9 threads, gpu 45% 3.0G"
    # held-back Progress events hand the newest machine figures on to the one sent
    held = [Progress(1, 2, 1, 4, 1.0, 1.0, 1.0, 1, (0.9,), (0.1,), machine=machine)]
    sent = with_held_batches(held, Progress(1, 2, 2, 4, 1.0, 1.0, 1.0, 2, (0.8,), (0.2,)))
    assert sent.machine == machine


def test_a_long_live_run_keeps_every_other_epochs_histograms() -> None:
    history = [layer_epoch(epoch) for epoch in range(1, 8)]
    assert thin_histograms(history, most=7) is history
    thinned = thin_histograms(history, most=6)
    kept = [record.epoch for record in thinned if record.histograms]
    assert kept == [1, 3, 5, 7]  # the newest kept, every other before it
    assert [r.layers for r in thinned] == [r.layers for r in history]  # the figures stay
    assert set(WEIGHTED) == set(thinned[-1].histograms or {})
    assert LayerStats() == LayerStats(None, None, None, None)
