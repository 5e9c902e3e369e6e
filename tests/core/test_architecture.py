"""The Net family (issue 12, the chapter's exercise 1): kernel size, widths, activation and
padding; the parameter counts the exercise asks about; the book's Net unchanged; and an
architecture that travels with the weights (sidecar, run config) so a file rebuilds its own
model."""

from __future__ import annotations

import json

import pytest
import torch
from cnn_tui.core.architecture import (
    BOOK_NET,
    Architecture,
    check_architecture,
    parse_channels,
    parse_kernel_size,
    parse_padding,
)
from cnn_tui.core.config import ConfigError, TrainConfig, preset_config, validate
from cnn_tui.core.inspection import read_trained
from cnn_tui.core.models import build_model, count_parameters
from cnn_tui.core.summary import summarize
from cnn_tui.core.weights import WeightsError, load_model, save_weights
from torch import nn

FIVE = Architecture(kernel_size=(5, 5))
ROW = Architecture(kernel_size=(1, 3))
WIDE = Architecture(channels=(32, 16))  # the book's NetWidth


@pytest.mark.parametrize(
    "architecture, total",
    [(BOOK_NET, 18_090), (FIVE, 20_906), (ROW, 17_034), (WIDE, 38_386)],
    ids=["book", "5x5", "1x3", "32,16"],
)
def test_parameter_counts_of_the_exercise(architecture, total):
    """Counted from the shapes, built, and measured by the summary: the same figure."""
    assert architecture.parameter_count() == total
    net = build_model("net", architecture=architecture)
    assert count_parameters(net) == total
    summary = summarize("net", architecture=architecture)
    assert summary["total_params"] == total
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 2)  # fc1 follows from the shapes


def test_the_books_net_is_unchanged_when_nothing_is_given():
    torch.manual_seed(0)
    plain = build_model("net")
    torch.manual_seed(0)
    book = build_model("net", architecture=BOOK_NET)
    assert list(plain.state_dict()) == list(book.state_dict())
    for (key, a), b in zip(plain.state_dict().items(), book.state_dict().values(), strict=True):
        assert torch.equal(a, b), key  # same shapes and the same initial values
    assert plain.conv1.padding == (1, 1) and plain.conv1.kernel_size == (3, 3)
    # the shipped weights still load, and say they are the book's Net
    model, meta = load_model(_shipped("birds_vs_airplanes.pt"))
    assert meta["architecture"] == BOOK_NET.to_dict() and isinstance(model.act1, nn.Tanh)


def _shipped(name: str):
    from cnn_tui.core.paths import shipped_weights_dir

    return shipped_weights_dir() / name


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_pool_first_gives_the_same_values_for_both_activations(activation):
    architecture = Architecture((1, 3), (4, 6), activation, padding=(0, 1))
    torch.manual_seed(1)
    slow = build_model("net", architecture=architecture).eval()
    fast = build_model("net", architecture=architecture, pool_first=True).eval()
    fast.load_state_dict(slow.state_dict())
    batch = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(fast(batch), slow(batch))


def test_texts_of_the_command_line():
    assert parse_kernel_size("5") == (5, 5)
    assert parse_kernel_size("1,3") == parse_kernel_size(" 1x3 ") == (1, 3)
    assert parse_channels("32,16") == (32, 16)
    assert parse_padding("0") == (0, 0) and parse_padding("0,1") == (0, 1)


@pytest.mark.parametrize(
    "parse, text, words",
    [
        (parse_kernel_size, "4", "kernel size must be odd, from 1 to 15, not 4"),
        (parse_kernel_size, "17", "kernel size must be odd, from 1 to 15, not 17"),
        (parse_kernel_size, "0", "kernel size must be odd"),
        (parse_kernel_size, "1,3,5", "kernel size must be 5 or 1,3, not '1,3,5'"),
        (parse_kernel_size, "-3", "kernel size must be 5 or 1,3"),
        (parse_kernel_size, "9" * 5000, "(5,000 characters)"),
        (parse_channels, "32", "channels must be two numbers such as 32,16, not '32'"),
        (parse_channels, "0,8", "channels must be from 1 to 1,024, not 0"),
        (parse_channels, "16,2000", "channels must be from 1 to 1,024, not 2000"),
        (parse_padding, "a", "padding must be 0 or 0,1, not 'a'"),
    ],
)
def test_bad_texts_are_refused_in_one_line(parse, text, words):
    with pytest.raises(ConfigError) as refused:
        parse(text)
    assert words in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "architecture, words",
    [
        (Architecture((15, 15), padding=(0, 0)), "leaves no pixel after the two conv stages"),
        (Architecture((5, 5), padding=(3, 3)), "padding must be from 0 to half the kernel (2"),
        (Architecture(channels=(1024, 1024)), "11,564,130 parameters, more than the 10,000,000"),
        (Architecture(activation="sigmoid"), "unknown activation 'sigmoid': choose tanh or relu"),
    ],
)
def test_whole_architectures_that_cannot_be_built_are_refused(architecture, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        check_architecture(architecture)


def test_same_padding_set_by_hand_is_the_same_architecture():
    assert check_architecture(Architecture((5, 5), padding=(2, 2))) == FIVE
    assert Architecture((5, 5), padding=(0, 0)).describe() == (
        "5x5 kernels, 16 and 8 channels, tanh, padding 0"
    )


def test_config_records_the_architecture_and_reads_it_back():
    config = preset_config("book", "net", architecture=Architecture((1, 3), activation="relu"))
    data = json.loads(json.dumps(config.to_dict()))  # as config.json holds it
    assert data["architecture"] == {
        "kernel_size": [1, 3],
        "channels": [16, 8],
        "activation": "relu",
        "padding": [0, 1],
    }
    assert validate(TrainConfig.from_dict(data)) == config
    # the book's Net is one config however it is written; an old config.json has none
    assert validate(TrainConfig(architecture=BOOK_NET)) == TrainConfig()
    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "architecture"}
    assert TrainConfig.from_dict(old).net_architecture == BOOK_NET
    with pytest.raises(ConfigError, match="net model only, not 'net-depth'"):
        validate(TrainConfig(model="net-depth", architecture=FIVE))
    with pytest.raises(ConfigError, match="kernel size must be two whole numbers"):
        TrainConfig.from_dict({**data, "architecture": {"kernel_size": "huge"}})


def test_weights_rebuild_their_own_architecture(tmp_path):
    """From the sidecar; from the run's config.json beside a checkpoint; from the tensors
    alone (kernel and widths; tanh, which no tensor shows); an old sidecar is the book's."""
    relu = Architecture((5, 5), (8, 4), "relu")
    net = build_model("net", architecture=relu)
    meta = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"]}
    path = save_weights(tmp_path / "lab.pt", net, {**meta, "architecture": relu.to_dict()})
    model, found = load_model(path)
    assert found["architecture"] == relu.to_dict() and isinstance(model.act2, nn.ReLU)
    assert model.conv2.kernel_size == (5, 5)

    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": net.state_dict()}, run / "last.pt")
    (run / "config.json").write_text(json.dumps({"model": "net", "architecture": relu.to_dict()}))
    model, found = load_model(run / "last.pt")
    assert found["architecture"] == relu.to_dict() and isinstance(model.act1, nn.ReLU)

    torch.save(net.state_dict(), tmp_path / "bare.pt")
    model, found = load_model(tmp_path / "bare.pt")
    assert found["model"] == "net" and isinstance(model.act1, nn.Tanh)
    assert found["architecture"] == Architecture((5, 5), (8, 4)).to_dict()

    old = save_weights(tmp_path / "old.pt", build_model("net"), meta)
    assert load_model(old)[1]["architecture"] == BOOK_NET.to_dict()


def test_a_bad_recorded_architecture_is_one_line_and_a_variant_is_not_the_books_score(tmp_path):
    meta = {"model": "net", "num_classes": 2, "classes": ["airplane", "bird"]}
    bad = {"kernel_size": [99, 99], "channels": [16, 8], "activation": "tanh"}
    path = save_weights(tmp_path / "bad.pt", build_model("net"), {**meta, "architecture": bad})
    with pytest.raises(WeightsError, match="recorded architecture cannot be used: kernel size"):
        load_model(path)
    # the Model screen's Compare row for net is the book's Net: a 5x5 run is not its score
    five = save_weights(tmp_path / "five.pt", build_model("net", architecture=FIVE), meta)
    sidecar = tmp_path / "five.json"
    assert read_trained(sidecar, five, "run") is not None
    sidecar.write_text(json.dumps({**meta, "architecture": FIVE.to_dict()}))
    assert read_trained(sidecar, five, "run") is None


def test_a_runs_listing_names_a_nets_shape_in_short() -> None:
    """The Runs table's `net` column: the shape a config.json records, the book's when it
    records none, nothing for other models or a damaged record."""
    from cnn_tui.core.runs import net_shape

    five = Architecture((5, 5), (16, 8)).to_dict()
    assert net_shape({"model": "net", "architecture": five}) == "5x5 16,8 tanh"
    assert net_shape({"model": "net"}) == "3x3 16,8 tanh"
    padded = {**five, "padding": [0, 1], "activation": "relu"}
    assert net_shape({"model": "net", "architecture": padded}) == "5x5 16,8 relu p0,1"
    assert net_shape({"model": "net-res", "architecture": five}) is None
    assert net_shape({"model": "net", "architecture": {"kernel_size": "x"}}) is None
