"""The look inside training as records (issue 12 part 4): an epoch's layers and machine in
its metrics.jsonl line, its weight histograms in histograms.jsonl, each read back as
written; a bad value gives None, a torn line is ignored, a resume's cut keeps both files to
the same epochs."""

from __future__ import annotations

import json
from dataclasses import asdict

from cnn_tui.core.events import EPOCH_FIGURES, EpochEnd, Progress
from cnn_tui.core.layer_stats import (
    BIG_STEPS,
    LAYER_FIGURES,
    SATURATED,
    VANISHING,
    Histogram,
    LayerStats,
    MachineStats,
    layer_flags,
    layers_from_json,
    layers_to_json,
)
from cnn_tui.core.run_files import HISTOGRAMS, METRICS
from cnn_tui.core.run_records import read_histograms, read_metrics, read_progress
from cnn_tui.core.run_writer import (
    append_histograms,
    append_metrics,
    truncate_metrics,
    write_progress,
)

LAYERS = {
    "conv1": LayerStats(weight_norm=3.5, grad_norm=0.25, update_ratio=1e-3),
    "act1": LayerStats(saturated=0.125),
    "fc2": LayerStats(weight_norm=1.0, grad_norm=0.0, update_ratio=0.0),
}
MACHINE = MachineStats(cpu_percent=180.5, rss_bytes=3 << 30, threads=12)
GPU_MACHINE = MachineStats(99.0, 1 << 30, 40, gpu_percent=87.0, gpu_memory_bytes=5 << 30)


def _epoch(n: int, **inside) -> EpochEnd:
    return EpochEnd(n, 0.5 / n, 0.5, 0.5, 0.5 + n / 100, 1.0, 100.0, **inside)


def _histograms(n: int) -> dict[str, Histogram]:
    counts = tuple(range(n, n + 32))
    return {"conv1": Histogram(-0.5, 0.25 * n, counts), "fc2": Histogram(-1.0, 1.0, counts)}


def test_an_epochs_layers_and_machine_round_trip_through_its_line(tmp_path):
    append_metrics(tmp_path, _epoch(1, layers=LAYERS, machine=MACHINE))
    append_metrics(tmp_path, _epoch(2, layers=LAYERS, machine=GPU_MACHINE))
    append_metrics(tmp_path, _epoch(3))  # a run that measured nothing (or an older one)
    log = read_metrics(tmp_path)
    assert log.warnings == []
    assert log.epochs == [
        _epoch(1, layers=LAYERS, machine=MACHINE),
        _epoch(2, layers=LAYERS, machine=GPU_MACHINE),
        _epoch(3),
    ]
    lines = [json.loads(line) for line in (tmp_path / METRICS).read_text().splitlines()]
    # None fields are left out; the figures keep their keys, the old lines are unchanged
    assert lines[0]["layers"]["act1"] == {"saturated": 0.125}
    assert lines[0]["machine"] == {"cpu_percent": 180.5, "rss_bytes": 3 << 30, "threads": 12}
    assert set(lines[2]) == set(EPOCH_FIGURES)
    assert list(lines[0]["layers"]) == ["conv1", "act1", "fc2"], "the model's order"
    # train --json and the CSV export keep the scalar figures only
    assert set(_epoch(1, layers=LAYERS, machine=MACHINE).to_dict()) == set(EPOCH_FIGURES)


def test_a_bad_layers_or_machine_value_gives_none_and_keeps_the_epoch(tmp_path):
    good = _epoch(1).to_dict()
    bad = [
        {**good, "layers": "conv1"},
        {**good, "layers": {"conv1": [1, 2]}},
        {**good, "layers": {}},
        {**good, "machine": {"cpu_percent": "lots", "rss_bytes": 1, "threads": 1}},
        {**good, "machine": {"cpu_percent": 1.0, "rss_bytes": -1, "threads": 1}},
        {**good, "machine": [1]},
    ]
    (tmp_path / METRICS).write_text("".join(json.dumps(line) + "\n" for line in bad))
    log = read_metrics(tmp_path)
    assert log.warnings == [] and len(log.epochs) == len(bad)
    assert all(e.layers is None and e.machine is None for e in log.epochs)
    # a figure that is not a finite number is one not measured; the others stay
    odd = {**good, "layers": {"conv1": {"weight_norm": "NaN", "grad_norm": 2, "x": 1}}}
    (tmp_path / METRICS).write_text(json.dumps(odd) + "\n")
    assert read_metrics(tmp_path).epochs[0].layers == {"conv1": LayerStats(grad_norm=2.0)}


def test_histograms_round_trip_a_torn_or_bad_line_ignored(tmp_path):
    assert read_histograms(tmp_path) == {}, "an older run has none"
    for n in (1, 2):
        append_histograms(tmp_path, n, _histograms(n))
    with open(tmp_path / HISTOGRAMS, "a") as handle:
        handle.write('{"epoch": 5, "layers": {"x": "no"}}\n')  # a foreign line
        handle.write(json.dumps({"epoch": 3, "layers": {}})[:12])  # a crash mid-write
    assert read_histograms(tmp_path) == {1: _histograms(1), 2: _histograms(2)}
    (tmp_path / HISTOGRAMS).unlink()
    (tmp_path / HISTOGRAMS).mkdir()  # not a regular file: nothing, no exception
    assert read_histograms(tmp_path) == {}


def test_a_resumes_cut_cuts_histograms_to_the_same_epochs(tmp_path):
    for n in (1, 2, 3, 4):
        append_metrics(tmp_path, _epoch(n, layers=LAYERS))
        append_histograms(tmp_path, n, _histograms(n))
    with open(tmp_path / HISTOGRAMS, "a") as handle:
        handle.write('{"epoch": 5, "lay')  # epoch 5's line, torn by a kill
    assert truncate_metrics(tmp_path, 2) == [3, 4]
    assert [e.epoch for e in read_metrics(tmp_path).epochs] == [1, 2]
    assert sorted(read_histograms(tmp_path)) == [1, 2]
    assert (tmp_path / HISTOGRAMS).read_text().endswith("}\n")
    truncate_metrics(tmp_path, 2)  # nothing more to cut
    assert sorted(read_histograms(tmp_path)) == [1, 2]


def test_progress_carries_the_machine_to_a_watcher(tmp_path):
    """As core/detach.py writes progress.json: the Progress's fields, as JSON."""
    progress = Progress(1, 2, 3, 4, 50.0, 1.0, 2.0, machine=GPU_MACHINE)
    write_progress(tmp_path, asdict(progress))
    assert read_progress(tmp_path) == progress
    write_progress(tmp_path, {**asdict(progress), "machine": "busy"})
    read = read_progress(tmp_path)
    assert read is not None and read.machine is None


def test_flags_say_what_a_glance_should_catch_by_each_activations_rule():
    """One home for the thresholds (the app's Layers view and `cnn-tui layers` both read
    layer_flags): a tanh past half saturated is flagged, a ReLU only past 90% at zero (a
    healthy ReLU zeroes about half); a record without its activation takes tanh's rule."""
    figures = LayerStats(1.0, 2.0, 3.0, 0.5, "tanh").figures()  # the series' one source
    assert tuple(figures) == LAYER_FIGURES and list(figures.values()) == [1.0, 2.0, 3.0, 0.5]
    assert layer_flags(LayerStats(saturated=0.75, activation="tanh")) == (SATURATED,)
    assert layer_flags(LayerStats(saturated=0.75, activation="relu")) == ()
    assert layer_flags(LayerStats(saturated=0.95, activation="relu")) == (SATURATED,)
    assert layer_flags(LayerStats(saturated=0.6)) == (SATURATED,)
    assert layer_flags(LayerStats(2.0, 1e-7, 0.05)) == (VANISHING, BIG_STEPS)
    assert layer_flags(LayerStats(2.0, 3e-6, 0.01)) == () and layer_flags(None) == ()
    line = {"act1": {"saturated": 0.5, "activation": "relu"}, "act2": {"activation": "gelu"}}
    read = layers_from_json(line)
    assert read is not None and read["act1"] == LayerStats(saturated=0.5, activation="relu")
    assert read["act2"].activation is None  # not one cnn-tui measures: left out
    assert layers_to_json(read)["act1"] == {"saturated": 0.5, "activation": "relu"}
