"""core/weights_files.py: loading and saving the app's current weights from the Model screen."""

from __future__ import annotations

import json

import pytest
import torch
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import WeightsError, read_state_dict, save_weights
from cnn_tui.core.weights_files import (
    WeightsExist,
    find_book_checkpoint,
    is_weights_file,
    load_weights_file,
    save_current_weights,
)
from conftest import BOOK_CHECKPOINT


@pytest.fixture
def net_file(tmp_path):
    torch.manual_seed(1)
    model = build_model("net")
    return save_weights(tmp_path / "net.pt", model, {"model": "net", "val_accuracy": 0.5})


def test_load_picks_the_model_from_the_file(tmp_path):
    torch.manual_seed(2)
    model = build_model("net-depth")
    torch.save(model.state_dict(), tmp_path / "bare.pt")  # no sidecar
    loaded, meta = load_weights_file(tmp_path / "bare.pt", compare_with="net")
    assert meta["model"] == "net-depth"
    assert torch.equal(loaded.conv3.weight, model.conv3.weight)


def test_a_bare_file_of_twin_models_takes_the_model_on_screen(tmp_path):
    torch.save(build_model("net-res").state_dict(), tmp_path / "bare.pt")
    assert load_weights_file(tmp_path / "bare.pt")[1]["model"] == "net-depth"  # keys alone
    model, meta = load_weights_file(tmp_path / "bare.pt", compare_with="net-res")
    assert meta["model"] == "net-res" and type(model).__name__ == "NetRes"
    save_weights(tmp_path / "named.pt", build_model("net-res"), {"model": "net-depth"})
    assert load_weights_file(tmp_path / "named.pt", compare_with="net-res")[1]["model"] == (
        "net-depth"  # a sidecar that names the model wins
    )


def test_legacy_format_loads(tmp_path):
    model = build_model("net")
    torch.save(model.state_dict(), tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with open(tmp_path / "old.pt", "rb") as handle:
        assert handle.read(2) != b"PK"  # really the pre-1.6 format
    loaded, meta = load_weights_file(tmp_path / "old.pt")
    assert meta["model"] == "net" and torch.equal(loaded.fc2.bias, model.fc2.bias)


def test_a_file_that_fits_no_model_names_what_differs_from_the_model_on_screen(tmp_path):
    state = build_model("net").state_dict()
    state["fc1.weight"] = torch.zeros(32, 256)
    state["extra.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "odd.pt")
    with pytest.raises(WeightsError) as caught:
        load_weights_file(tmp_path / "odd.pt", compare_with="net")
    message = str(caught.value)
    assert "against net" in message and "fc1.weight (32, 256) vs (32, 512)" in message
    assert "unexpected keys extra.weight" in message and "\n" not in message
    with pytest.raises(WeightsError, match="match none of the models"):
        load_weights_file(tmp_path / "odd.pt")


def test_sidecar_naming_the_wrong_model_says_which_shapes_differ(tmp_path):
    save_weights(tmp_path / "w.pt", build_model("net-width"), {"model": "net"})
    with pytest.raises(WeightsError, match=r"does not fit net.*conv1.weight"):
        load_weights_file(tmp_path / "w.pt", compare_with="net")


def test_save_writes_weights_and_sidecar(tmp_path, net_file):
    out = save_current_weights(net_file, tmp_path / "copy")
    assert out == tmp_path / "copy.pt"
    for key, value in read_state_dict(out).items():
        assert torch.equal(value, read_state_dict(net_file)[key])
    meta = json.loads((tmp_path / "copy.json").read_text())
    assert meta["model"] == "net" and meta["val_accuracy"] == 0.5
    assert meta["saved_from"] == str(net_file) and "path" not in meta
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_save_refuses_to_overwrite_unless_asked(tmp_path, net_file):
    target = tmp_path / "exists.pt"
    target.write_bytes(b"keep me")
    with pytest.raises(WeightsExist):
        save_current_weights(net_file, target)
    assert target.read_bytes() == b"keep me"
    save_current_weights(net_file, target, overwrite=True)
    assert read_state_dict(target)


@pytest.mark.parametrize("where", ["folder", "missing folder", "empty"])
def test_save_to_a_bad_place_says_why_in_one_line(tmp_path, net_file, where):
    target = {
        "folder": tmp_path,
        "missing folder": tmp_path / "nope" / "w.pt",
        "empty": "  ",
    }[where]
    with pytest.raises(WeightsError) as caught:
        save_current_weights(net_file, target)
    assert "\n" not in str(caught.value)


def test_save_to_an_unwritable_folder(tmp_path, net_file, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # what a read-only folder does, as root too
    with pytest.raises(WeightsError, match=r"cannot write .*w.pt: Permission denied"):
        save_current_weights(net_file, tmp_path / "w.pt")
    assert not (tmp_path / "w.pt").exists()


def test_save_from_a_bad_source_leaves_nothing(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(WeightsError):
        save_current_weights(tmp_path / "bad.pt", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_book_checkpoint_is_found_beside_the_data(tmp_path):
    data = tmp_path / "data" / "cifar10-jpeg"
    data.mkdir(parents=True)
    assert find_book_checkpoint(data) is None
    (tmp_path / "data" / "reference").mkdir()
    book = tmp_path / "data" / "reference" / "book_birds_vs_airplanes.pt"
    book.write_bytes(b"x")
    assert find_book_checkpoint(data) == book
    own = data / "birds_vs_airplanes.pt"
    own.write_bytes(b"x")
    assert find_book_checkpoint(data) == own


def test_the_books_own_checkpoint_loads(shared_data):
    found = find_book_checkpoint(shared_data / "cifar10-jpeg")
    assert found == BOOK_CHECKPOINT
    model, meta = load_weights_file(found)
    assert meta["model"] == "net" and meta["classes"] == ["airplane", "bird"]


def test_weights_suffixes():
    assert is_weights_file("a.pt") and is_weights_file("b.PTH")
    assert not is_weights_file("c.json") and not is_weights_file("d.png")
