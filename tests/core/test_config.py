"""Training settings: the presets and the one-line messages for values that cannot be used."""

from __future__ import annotations

import math

import pytest
from cnn_tui.core.config import (
    BOOK,
    FAST,
    PRESETS,
    ConfigError,
    TrainConfig,
    check_batch_size,
    check_epochs,
    check_lr,
    preset_config,
    validate,
)
from cnn_tui.core.registry import MODELS


def test_book_preset_is_the_chapters_recipe():
    config = preset_config("book")
    assert config.model == "net"
    assert config.dataset == "cifar2"
    assert config.optimizer == "sgd"
    assert config.lr == 1e-2
    assert config.momentum == 0
    assert config.weight_decay == 0
    assert config.l2 == 0
    assert config.batch_size == 64
    assert config.epochs == 100
    assert config.augment is False
    assert config.schedule == "none"
    assert config.preset == "book"
    assert PRESETS["book"] == BOOK


def test_book_preset_trains_net_res_deep_with_the_books_lr():
    assert preset_config("book", "net-res-deep").lr == 3e-3
    for name in MODELS:
        if name != "net-res-deep":
            assert preset_config("book", name).lr == 1e-2


def test_presets_accept_changes_and_validate_them():
    config = preset_config("book", "net-width", epochs=5, lr=None)
    assert config.epochs == 5 and config.lr == 1e-2 and config.model == "net-width"
    with pytest.raises(ConfigError, match="epochs must be at least 1"):
        preset_config("fast", epochs=0)
    with pytest.raises(ConfigError, match="unknown preset 'slow'"):
        preset_config("slow")


def test_fast_preset_is_valid_and_shorter():
    assert validate(FAST) == FAST
    assert FAST.epochs < BOOK.epochs


def test_round_trip_through_a_dict_ignores_unknown_keys():
    config = TrainConfig(model="net-depth", epochs=3, lr=0.5)
    data = {**config.to_dict(), "num_classes": 2, "classes": ["airplane", "bird"]}
    assert TrainConfig.from_dict(data) == config


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "epochs must be at least 1, not 0"),
        (-3, "epochs must be at least 1, not -3"),
        ("ten", "epochs must be a whole number, not 'ten'"),
        (None, "epochs must be a whole number, not None"),
    ],
)
def test_bad_epochs(value, message):
    with pytest.raises(ConfigError) as caught:
        check_epochs(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "learning rate must be a positive finite number, not 0"),
        (-0.1, "learning rate must be a positive finite number, not -0.1"),
        (math.nan, "learning rate must be a positive finite number, not nan"),
        ("nan", "learning rate must be a positive finite number, not nan"),
        (math.inf, "learning rate must be a positive finite number, not inf"),
        ("fast", "learning rate must be a number, not 'fast'"),
        (100, "learning rate 100.0 is too large (at most 10)"),
    ],
)
def test_bad_learning_rates(value, message):
    with pytest.raises(ConfigError) as caught:
        check_lr(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "batch size must be at least 1, not 0"),
        (-1, "batch size must be at least 1, not -1"),
        ("big", "batch size must be a whole number, not 'big'"),
        (10**6, "batch size 1000000 is too large (at most 65536)"),
    ],
)
def test_bad_batch_sizes(value, message):
    with pytest.raises(ConfigError) as caught:
        check_batch_size(value)
    assert str(caught.value) == message


def test_good_values_are_normalised():
    assert check_epochs("7") == 7
    assert check_lr("0.003") == 0.003
    assert check_batch_size(64.0) == 64


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "resnet"}, "unknown model 'resnet': choose one of net, net-width"),
        ({"dataset": "mnist"}, "unknown data set 'mnist': choose cifar2 or cifar10"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop': choose sgd or adam"),
        ({"schedule": "cosine"}, "unknown schedule 'cosine': choose none or one-cycle"),
        ({"device": "tpu"}, "unknown device 'tpu': choose auto, cpu, cuda, mps"),
        ({"n_blocks": 0}, "n_blocks must be from 1 to 1,000, not 0"),
        ({"momentum": -0.5}, "momentum must be zero or a positive finite number, not -0.5"),
        ({"weight_decay": math.nan}, "weight decay must be zero or a positive finite number"),
        ({"l2": "lots"}, "L2 penalty must be a number, not 'lots'"),
        ({"epochs": 0}, "epochs must be at least 1, not 0"),
        ({"lr": -1}, "learning rate must be a positive finite number, not -1"),
        ({"batch_size": 0}, "batch size must be at least 1, not 0"),
    ],
)
def test_validate_names_the_bad_setting(changes, message):
    with pytest.raises(ConfigError) as caught:
        validate(TrainConfig(**changes))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
