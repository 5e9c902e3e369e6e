"""core/summary.py: the rows and totals behind `cnn-tui summary`, against the book's numbers."""

from __future__ import annotations

import json

import pytest
import torch
from book_code import BOOK_PARAMS
from cnn_tui.core.models import build_model
from cnn_tui.core.registry import MODELS
from cnn_tui.core.summary import summarize, summarize_model

ROW_KEYS = {"name", "type", "output_shape", "params", "mult_adds", "trainable"}


def test_every_registered_model_has_a_book_total():
    assert set(BOOK_PARAMS) | {"net-res-deep"} == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_summary_of_every_model_is_well_formed(name):
    data = summarize(name)
    assert set(data) == {"model", "total_params", "param_list", "layers"}
    assert data["model"] == name
    if name in BOOK_PARAMS:
        assert data["total_params"] == BOOK_PARAMS[name]
    else:  # conv1 896 + 10 blocks of (9216 conv + 64 batch norm) + fc1 65,568 + fc2 66
        assert data["total_params"] == 896 + 10 * 9_280 + 65_568 + 66
    assert sum(data["param_list"]) == data["total_params"]
    # Every parameter lives in a leaf layer, so the rows add up to the total.
    assert sum(row["params"] for row in data["layers"]) == data["total_params"]
    for row in data["layers"]:
        assert ROW_KEYS <= set(row) <= ROW_KEYS | {"kernel_size"}
        assert isinstance(row["name"], str) and isinstance(row["type"], str)
        assert row["output_shape"][0] == 1 and all(isinstance(n, int) for n in row["output_shape"])
        assert isinstance(row["params"], int) and isinstance(row["mult_adds"], int)
        assert row["trainable"] is (row["params"] > 0)
    assert data["layers"][-1]["output_shape"] == [1, 2]
    json.dumps(data)  # plain JSON types only


def test_net_rows_are_the_books_layers_with_their_shapes():
    data = summarize("net")
    assert data["param_list"] == [432, 16, 1152, 8, 16384, 32, 64, 2]
    rows = {row["name"]: row for row in data["layers"]}
    assert [row["name"] for row in data["layers"]] == [
        "conv1",
        "act1",
        "pool1",
        "conv2",
        "act2",
        "pool2",
        "flatten",
        "fc1",
        "act3",
        "fc2",
    ]
    shapes = [rows[n]["output_shape"] for n in ("conv1", "pool1", "conv2", "pool2", "flatten")]
    shapes += [rows[n]["output_shape"] for n in ("fc1", "fc2")]
    assert shapes == [
        [1, 16, 32, 32],
        [1, 16, 16, 16],
        [1, 8, 16, 16],
        [1, 8, 8, 8],
        [1, 512],
        [1, 32],
        [1, 2],
    ]
    assert [rows[n]["type"] for n in ("conv1", "act1", "pool1", "flatten", "fc1")] == [
        "Conv2d",
        "Tanh",
        "MaxPool2d",
        "Flatten",
        "Linear",
    ]
    assert rows["conv1"]["params"] == 432 + 16 and rows["fc1"]["params"] == 16384 + 32
    # A conv's weights are used once per output position: (432 + 16) x 32 x 32.
    assert rows["conv1"]["mult_adds"] == 448 * 32 * 32
    assert rows["fc1"]["mult_adds"] == 16384 + 32
    assert rows["act1"]["mult_adds"] == 0 and rows["act1"]["trainable"] is False
    assert rows["conv1"]["kernel_size"] == [3, 3] and rows["pool1"]["kernel_size"] == [2, 2]
    assert rows["fc1"]["kernel_size"] is None


def test_class_count_and_block_count_change_the_model():
    ten = summarize("net", num_classes=10)
    assert ten["layers"][-1]["output_shape"] == [1, 10] and ten["param_list"][-2:] == [320, 10]
    deep = summarize("net-res-deep", n_blocks=2)
    names = [row["name"] for row in deep["layers"]]
    assert names[:3] == ["conv1", "act1", "pool1"]
    assert names[3:9] == [
        f"resblocks.{i}.{part}" for i in range(2) for part in ("conv", "batch_norm", "act")
    ]
    assert deep["total_params"] == 896 + 2 * 9_280 + 65_568 + 66


def test_summarize_model_leaves_a_trained_model_as_it_was():
    torch.manual_seed(0)
    model = build_model("net-batchnorm")
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = summarize_model(model, "net-batchnorm")
    assert model.training
    for key, value in model.state_dict().items():  # batch-norm running stats included
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    assert data["total_params"] == 38_482


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="unknown model 'resnet50'"):
        summarize("resnet50")
