"""The chapter's models: parameter counts, shapes, and state_dicts that move both ways
between the book's own classes (book_code.py, as the book writes them) and ours."""

from __future__ import annotations

import pytest
import torch
from book_code import BOOK_PARAMS, BookNet, BookNetResDeep
from cnn_tui.core.models import build_model, count_parameters
from cnn_tui.core.registry import MODELS
from torch import nn

# ---- tests --------------------------------------------------------------------------------


def test_registry_and_builder_agree():
    assert set(MODELS) == set(BOOK_PARAMS) | {"net-res-deep"}
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet50")


@pytest.mark.parametrize("name", sorted(BOOK_PARAMS))
def test_parameter_counts_match_the_book(name):
    assert count_parameters(build_model(name, 2)) == BOOK_PARAMS[name]


def test_net_parameter_list_is_the_books():
    sizes = [p.numel() for p in build_model("net").parameters()]
    assert sizes == [432, 16, 1152, 8, 16384, 32, 64, 2]


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 10])
def test_net_res_deep_blocks_have_their_own_weights(n_blocks):
    model = build_model("net-res-deep", 2, n_blocks=n_blocks)
    assert count_parameters(model) == 66_530 + 9_280 * n_blocks
    if n_blocks > 1:
        first, second = model.resblocks[0].conv.weight, model.resblocks[1].conv.weight
        assert first is not second
        assert not torch.equal(first, second)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("classes", [2, 10])
def test_output_shapes(name, classes):
    model = build_model(name, classes, n_blocks=2).eval()
    with torch.no_grad():
        out = model(torch.randn(5, 3, 32, 32))
    assert out.shape == (5, classes)
    assert torch.isfinite(out).all()


def test_ten_class_net_only_changes_the_last_layer():
    assert count_parameters(build_model("net", 10)) == 18_090 + 8 * 33


BOOK_KEYS = {
    "net": ["conv1", "conv2", "fc1", "fc2"],
    "net-width": ["conv1", "conv2", "fc1", "fc2"],
    "net-dropout": ["conv1", "conv2", "fc1", "fc2"],
    "net-batchnorm": ["conv1", "conv1_batchnorm", "conv2", "conv2_batchnorm", "fc1", "fc2"],
    "net-depth": ["conv1", "conv2", "conv3", "fc1", "fc2"],
    "net-res": ["conv1", "conv2", "conv3", "fc1", "fc2"],
    "net-res-deep": ["conv1", "resblocks", "fc1", "fc2"],
}


@pytest.mark.parametrize("name", sorted(BOOK_KEYS))
def test_state_dict_keys_use_the_books_submodule_names(name):
    keys = list(build_model(name, 2, n_blocks=2).state_dict())
    assert sorted({k.split(".")[0] for k in keys}) == sorted(BOOK_KEYS[name])


def test_net_state_dict_keys_are_exactly_the_books():
    assert list(build_model("net").state_dict()) == [
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]


def _same_outputs(a: nn.Module, b: nn.Module) -> None:
    a.eval()
    b.eval()
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


def test_books_net_state_dict_loads_into_ours_and_back(tmp_path):
    torch.manual_seed(0)
    book = BookNet()
    path = tmp_path / "book.pt"
    torch.save(book.state_dict(), path)
    ours = build_model("net")
    ours.load_state_dict(torch.load(path, weights_only=True))  # strict: same keys and shapes
    _same_outputs(book, ours)

    torch.manual_seed(1)
    ours = build_model("net")
    torch.save(ours.state_dict(), path)
    book = BookNet()
    book.load_state_dict(torch.load(path, weights_only=True))
    _same_outputs(book, ours)


def test_books_net_res_deep_state_dict_loads_into_ours_and_back(tmp_path):
    torch.manual_seed(0)
    book = BookNetResDeep(n_blocks=3)
    # Make the batch-norm running statistics non-trivial so eval outputs really test them.
    book.train()
    with torch.no_grad():
        book(torch.randn(16, 3, 32, 32))
    keys = list(book.state_dict())
    assert "resblocks.2.conv.weight" in keys and "resblocks.0.batch_norm.running_mean" in keys
    path = tmp_path / "book-deep.pt"
    torch.save(book.state_dict(), path)
    ours = build_model("net-res-deep", 2, n_blocks=3)
    assert list(ours.state_dict()) == keys
    ours.load_state_dict(torch.load(path, weights_only=True))
    _same_outputs(book, ours)

    torch.manual_seed(2)
    ours = build_model("net-res-deep", 2, n_blocks=3)
    torch.save(ours.state_dict(), path)
    book = BookNetResDeep(n_blocks=3)
    book.load_state_dict(torch.load(path, weights_only=True))
    _same_outputs(book, ours)


def test_books_sequential_without_flatten_fails_with_the_books_message():
    model = nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 8, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Linear(8 * 8 * 8, 32),
        nn.Tanh(),
        nn.Linear(32, 2),
    )
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(64x8 and 512x32\)"
    ):
        model(torch.randn(1, 3, 32, 32))
