"""Measuring inside training (issue 12 part 4): two epochs of the bundled sample record, for
every conv, linear and activation module, finite figures that change from epoch to epoch,
and each weight's histogram; a failure in the measuring never ends a run; the hooks leave
with the run; measuring off records the figures only."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from cnn_tui.core import layer_watch
from cnn_tui.core.config import TrainConfig
from cnn_tui.core.data import load_sample
from cnn_tui.core.events import EpochEnd, Log, Progress
from cnn_tui.core.layer_watch import HISTOGRAM_BINS, LayerWatch
from cnn_tui.core.models import build_model
from cnn_tui.core.run_files import HISTOGRAMS
from cnn_tui.core.run_records import read_histograms, read_metrics
from cnn_tui.core.train import train
from runs_support import EPOCH_KEYS

CONFIG = TrainConfig(epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def _train(tmp_path: Path, sample, **options) -> tuple[Path, list]:
    events: list = []
    finished = train(CONFIG, events.append, runs_dir=tmp_path, dataset=sample, **options)
    assert finished.state == "finished", finished.message
    return Path(finished.run_dir), events


def test_two_epochs_of_the_sample_record_every_layer(tmp_path, sample):
    run, events = _train(tmp_path, sample)
    model = build_model("net")
    weighted = {n: m.weight.numel() for n, m in model.named_modules() if hasattr(m, "weight")}
    activations = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Tanh)]
    assert list(weighted) == ["conv1", "conv2", "fc1", "fc2"] and len(activations) == 3

    epochs = read_metrics(run).epochs
    assert [e.epoch for e in epochs] == [1, 2]
    assert [e.layers for e in epochs] == [e.layers for e in events if isinstance(e, EpochEnd)]
    for epoch in epochs:
        assert epoch.layers is not None
        assert list(epoch.layers) == ["conv1", "act1", "conv2", "act2", "fc1", "act3", "fc2"]
        for name in weighted:
            stats = epoch.layers[name]
            figures = (stats.weight_norm, stats.grad_norm, stats.update_ratio)
            assert all(f is not None and math.isfinite(f) and f > 0 for f in figures), name
            assert stats.update_ratio < 0.1 and stats.saturated is None
        for name in activations:
            share = epoch.layers[name].saturated
            assert share is not None and 0 <= share <= 1 and epoch.layers[name].grad_norm is None
            assert epoch.layers[name].activation == "tanh"
        machine = epoch.machine
        assert machine is not None and machine.rss_bytes > 50 << 20 and machine.threads >= 1
        assert machine.cpu_percent >= 0 and machine.gpu_percent is None
    first, second = (e.layers for e in epochs)
    for name in weighted:  # the weights moved: every figure of theirs with them
        assert first[name].weight_norm != second[name].weight_norm
        assert first[name].grad_norm != second[name].grad_norm
        assert first[name].update_ratio != second[name].update_ratio
    assert any(first[n].saturated != second[n].saturated for n in activations)

    lines = (run / HISTOGRAMS).read_text().splitlines()
    assert len(lines) == 2 and [json.loads(line)["epoch"] for line in lines] == [1, 2]
    histograms = read_histograms(run)
    for epoch in (1, 2):
        assert list(histograms[epoch]) == list(weighted)
        for name, count in weighted.items():
            histogram = histograms[epoch][name]
            assert len(histogram.counts) == HISTOGRAM_BINS and sum(histogram.counts) == count
            assert histogram.low < histogram.high
    assert histograms[1] != histograms[2]
    live = [e.machine for e in events if isinstance(e, Progress) and e.machine is not None]
    assert all(m.rss_bytes > 0 for m in live)
    assert not [e for e in events if isinstance(e, Log) and e.level != "info"]


def test_a_failure_in_the_measuring_says_so_once_and_the_run_goes_on(tmp_path, sample, monkeypatch):
    def broken(self):
        raise RuntimeError("a norm that cannot be taken")

    monkeypatch.setattr(LayerWatch, "_add_step", broken)
    run, events = _train(tmp_path, sample)
    warnings = [e.message for e in events if isinstance(e, Log) and e.level == "warning"]
    assert warnings == [
        "layer stats stopped (RuntimeError: a norm that cannot be taken); training goes on"
    ]
    assert [e.layers for e in read_metrics(run).epochs] == [None, None]
    assert not (run / HISTOGRAMS).exists()


def test_measuring_off_records_the_figures_only(tmp_path, sample):
    run, _ = _train(tmp_path, sample, measure_layers=False)
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [set(line) for line in lines] == [EPOCH_KEYS, EPOCH_KEYS]
    assert not (run / HISTOGRAMS).exists()


def test_the_hooks_go_with_the_watch_and_every_kth_step_is_measured(sample):
    model = build_model("net", pool_first=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    warned: list[str] = []
    watch = LayerWatch(model, optimizer, torch.device("cpu"), warned.append, every=3)
    images = torch.randn(8, 3, 32, 32)
    for _ in range(7):  # steps 0, 3 and 6 are measured
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(
            model(images), torch.zeros(8, dtype=torch.long)
        ).backward()
        optimizer.step()
    assert watch._measured == 3
    inside = watch.epoch_end()
    assert inside.layers is not None and inside.layers["fc2"].update_ratio > 0
    assert watch._measured == 0 and not warned
    watch.close()
    assert not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks
    assert all(not m._forward_hooks for m in model.modules())
    assert layer_watch.activation_modules(model)[0][0] == "act1"
