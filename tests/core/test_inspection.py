"""core/inspection.py: the Model screen's numbers, measured, never typed in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cnn_tui.core.inspection import (
    BOOK_ACCURACY,
    book_sequential,
    compare_models,
    describe_layer,
    find_trained_weights,
    format_count,
    format_kernel_size,
    format_shape,
    layer_table,
    shape_lesson,
)
from cnn_tui.core.models import build_model, count_parameters
from cnn_tui.core.registry import MODELS
from cnn_tui.core.weights import save_weights


def test_net_table_has_shares_kernels_and_the_books_list():
    table = layer_table("net")
    assert table.list_form == "18090, [432, 16, 1152, 8, 16384, 32, 64, 2]"
    assert table.total_params == table.trainable_params == 18090
    rows = {row.name: row for row in table.rows}
    assert rows["fc1"].params == 512 * 32 + 32
    assert rows["fc1"].share == pytest.approx(16416 / 18090)
    assert sum(row.share for row in table.rows) == pytest.approx(1.0)
    assert rows["conv1"].kernel_size == (3, 3) and rows["pool1"].kernel_size == (2, 2)
    assert rows["act1"].kernel_size is None and not rows["act1"].trainable
    assert rows["pool2"].output_shape == (1, 8, 8, 8)
    assert rows["flatten"].output_shape == (1, 512)
    # a 3x3 conv with padding 1 does 3*3*3 mult-adds per output value, 16*32*32 values
    assert rows["conv1"].mult_adds == 3 * 3 * 3 * 16 * 32 * 32 + 16 * 32 * 32
    assert table.total_mult_adds == sum(row.mult_adds for row in table.rows)


def test_table_of_a_loaded_model_uses_that_model():
    model = build_model("net", 10)
    table = layer_table("net", model=model)
    assert table.rows[-1].output_shape == (1, 10)
    assert table.total_params == count_parameters(model)


def test_frozen_layers_are_not_trainable():
    model = build_model("net")
    for p in model.conv1.parameters():
        p.requires_grad_(False)
    table = layer_table("net", model=model)
    assert table.trainable_params == 18090 - 448
    assert not next(r for r in table.rows if r.name == "conv1").trainable


def test_formatting_helpers():
    assert format_kernel_size((3, 3)) == "3x3" and format_kernel_size(None) == "-"
    assert format_shape((1, 8, 8, 8)) == "(1, 8, 8, 8)"
    assert format_count(18090) == "18,090"
    assert format_count(1574402) == "1.57M"
    assert format_count(24576738) == "24.6M"
    assert describe_layer("conv1", torch.nn.Conv2d(3, 16, 3, padding=1)) == (
        "conv1 Conv2d(3, 16, k3, p1)"
    )
    assert describe_layer("fc1", torch.nn.Linear(512, 32)) == "fc1 Linear(512, 32)"
    assert describe_layer("pool", torch.nn.MaxPool2d(2)) == "pool MaxPool2d(2)"


def _sidecar(path: Path, model: str, train: float, val: float, classes: int = 2) -> None:
    save_weights(
        path,
        build_model(model, classes),
        {"model": model, "num_classes": classes, "train_accuracy": train, "val_accuracy": val},
    )


def test_comparison_has_every_model_and_the_best_weights(tmp_path):
    shipped, runs = tmp_path / "shipped", tmp_path / "runs"
    shipped.mkdir()
    _sidecar(shipped / "net.pt", "net", 0.93, 0.88)
    for name, val in (("run-a", 0.90), ("run-b", 0.85)):
        (runs / name).mkdir(parents=True)
        _sidecar(runs / name / "weights.pt", "net", 0.95, val)
    (runs / "run-c").mkdir()
    _sidecar(runs / "run-c" / "weights.pt", "net-depth", 0.99, 0.91, classes=10)
    (runs / "broken").mkdir()
    (runs / "broken" / "weights.json").write_text("{not json")
    (runs / "broken" / "weights.pt").write_bytes(b"")

    rows = compare_models(runs_dir=runs, weights_dir=shipped)
    assert [r.model for r in rows] == list(MODELS)
    net = rows[0]
    assert net.params == 18090 and net.mult_adds == layer_table("net").total_mult_adds
    assert net.best is not None and net.best.label == "run run-a"
    assert net.best.val_accuracy == 0.90 and net.best.train_accuracy == 0.95
    assert sorted(t.val_accuracy for t in net.others) == [0.85, 0.88]
    assert net.book == BOOK_ACCURACY["net"]
    depth = next(r for r in rows if r.model == "net-depth")
    assert depth.best is None  # its run has 10 classes
    assert compare_models(10, runs_dir=runs, weights_dir=shipped)[4].best.val_accuracy == 0.91
    big = next(r for r in rows if r.model == "fc-large")
    assert big.params == 3_737_474 and big.best is None


def test_shipped_weights_are_found_with_their_accuracies(tmp_path):
    found = find_trained_weights(runs_dir=tmp_path / "none")
    by_model = {t.model: t for t in found}
    assert "net" in by_model and by_model["net"].origin == "shipped"
    for item in found:
        meta = json.loads(item.path.with_suffix(".json").read_text())
        assert item.val_accuracy == meta["val_accuracy"]


def test_shape_lesson_runs_the_books_sequential_and_catches_its_error():
    lesson = shape_lesson()
    # the book's model(img.unsqueeze(0)): a batch of one image
    assert lesson.error == "mat1 and mat2 shapes cannot be multiplied (64x8 and 512x32)"
    assert lesson.failed_layer == "fc1"
    assert (lesson.rows, lesson.row_length, lesson.wants) == (64, 8, 512)
    assert [s.shape for s in lesson.without_flatten] == [
        (1, 16, 32, 32),
        (1, 16, 32, 32),
        (1, 16, 16, 16),
        (1, 8, 16, 16),
        (1, 8, 16, 16),
        (1, 8, 8, 8),
        None,
    ]
    shapes = {s.layer.split()[0]: s.shape for s in lesson.with_flatten}
    assert shapes["flatten"] == (1, 512) and shapes["fc2"] == (1, 2)
    assert lesson.output_shape == (1, 2)
    text = " ".join(lesson.explanation)
    assert "64 rows" in text and "512" in text and "(1, 512)" in text


def test_shape_lesson_with_a_batch_of_64():
    lesson = shape_lesson(batch=64)
    assert lesson.error == "mat1 and mat2 shapes cannot be multiplied (4096x8 and 512x32)"
    assert lesson.rows == 64 * 8 * 8
    assert lesson.with_flatten[-1].shape == (64, 2)
    with pytest.raises(ValueError):
        shape_lesson(batch=0)


def test_book_sequential_has_the_books_parameters_and_fails_as_the_book_says():
    model = book_sequential()
    assert [p.numel() for p in model.parameters()] == [432, 16, 1152, 8, 16384, 32, 64, 2]
    with pytest.raises(RuntimeError, match=r"64x8 and 512x32"):
        model(torch.zeros(1, 3, 32, 32))
