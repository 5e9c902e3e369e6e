"""Weights files: both torch formats load; every bad file gives one clear WeightsError;
a code-running pickle never runs; saving is atomic."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch
from cnn_tui.core import atomic
from cnn_tui.core.models import build_model
from cnn_tui.core.weights import (
    WeightsError,
    describe_mismatch,
    infer_model,
    load_model,
    read_sidecar,
    read_state_dict,
    save_weights,
    sidecar_path,
    trained_on,
)


def _model(name: str = "net", classes: int = 2, seed: int = 0, **kw) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(name, classes, **kw).eval()


def _same(a: torch.nn.Module, b: torch.nn.Module) -> None:
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


def _error(path, **kw) -> str:
    with pytest.raises(WeightsError) as caught:
        load_model(path, **kw)
    message = str(caught.value)
    assert "\n" not in message, "messages are one line"
    assert "Traceback" not in message
    return message


# ---- formats --------------------------------------------------------------------------------


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_both_torch_formats_load(tmp_path, zip_format):
    original = _model()
    path = tmp_path / "net.pt"
    torch.save(original.state_dict(), path, _use_new_zipfile_serialization=zip_format)
    assert (path.read_bytes()[:2] == b"PK") == zip_format
    model, meta = load_model(path)
    assert meta["model"] == "net" and meta["num_classes"] == 2
    assert meta["classes"] == ["airplane", "bird"]
    assert not model.training, "load_model returns the model in eval mode"
    _same(original, model)


def test_checkpoint_dict_with_model_entry_loads(tmp_path):
    original = _model()
    path = tmp_path / "last.pt"
    optimizer = torch.optim.SGD(original.parameters(), lr=0.1)
    torch.save({"model": original.state_dict(), "optimizer": optimizer.state_dict()}, path)
    model, _ = load_model(path)
    _same(original, model)


@pytest.mark.parametrize(
    "name", ["net", "net-width", "net-batchnorm", "net-depth", "net-res-deep", "fc-small"]
)
def test_model_is_recognised_from_keys_and_shapes(tmp_path, name):
    original = _model(name, 10, n_blocks=3)
    path = tmp_path / "w.pt"
    torch.save(original.state_dict(), path)
    model, meta = load_model(path)
    assert meta["model"] == name
    assert meta["num_classes"] == 10 and len(meta["classes"]) == 10
    if name == "net-res-deep":
        assert meta["n_blocks"] == 3
    _same(original, model)


def test_sidecar_names_a_model_whose_keys_are_ambiguous(tmp_path):
    """net-res has net-depth's keys; only the sidecar (or the caller) can tell them apart."""
    original = _model("net-res")
    path = save_weights(tmp_path / "res.pt", original, {"model": "net-res", "classes": ["a", "b"]})
    assert sidecar_path(path) == tmp_path / "res.json"
    assert read_sidecar(path)["model"] == "net-res"
    model, meta = load_model(path)
    assert meta["model"] == "net-res" and meta["classes"] == ["a", "b"]
    _same(original, model)
    assert infer_model(original.state_dict())[0] == "net-depth"


def test_run_config_beside_a_checkpoint_names_an_ambiguous_model(tmp_path):
    """last.pt and best.pt have no sidecar; the run's config.json says which model."""
    original = _model("net-res")
    torch.save({"model": original.state_dict(), "epoch": 3}, tmp_path / "best.pt")
    (tmp_path / "config.json").write_text(
        json.dumps({"model": "net-res", "classes": ["plane", "bird"]})
    )
    model, meta = load_model(tmp_path / "best.pt")
    assert meta["model"] == "net-res" and meta["classes"] == ["plane", "bird"]
    _same(original, model)
    assert trained_on(meta) == ""  # the config says nothing of the data
    # A config naming a model the tensors do not fit is ignored, not obeyed.
    (tmp_path / "config.json").write_text(json.dumps({"model": "net"}))
    _, meta = load_model(tmp_path / "best.pt")
    assert meta["model"] == "net-depth"


def test_weights_trained_on_the_bundled_sample_are_labelled_so(tmp_path):
    """The sidecar's data_source says it (old sidecars without it: not labelled); a run's
    checkpoint without a sidecar takes it from the run's config.json."""
    path = save_weights(
        tmp_path / "w.pt", _model("net"), {"model": "net", "num_classes": 2, "classes": ["a", "b"]}
    )
    assert trained_on(load_model(path)[1]) == ""  # written before the sidecar said
    sample = {"data_source": "sample", "train_images": 500}
    sidecar_path(path).write_text(json.dumps({**read_sidecar(path), **sample}))
    assert trained_on(load_model(path)[1]) == "trained on the 500-image sample"
    assert trained_on({"data_source": "sample"}) == "trained on the bundled sample"
    assert trained_on({"data_source": "folder", "train_images": 500}) == ""
    torch.save({"model": _model("net").state_dict(), "epoch": 1}, tmp_path / "best.pt")
    (tmp_path / "config.json").write_text(json.dumps({"model": "net", "data_source": "sample"}))
    assert trained_on(load_model(tmp_path / "best.pt")[1]) == "trained on the bundled sample"


def test_hostile_sidecar_cannot_inflate_the_model(tmp_path):
    original = _model()
    path = save_weights(tmp_path / "w.pt", original, {"model": "net"})
    sidecar_path(path).write_text(
        json.dumps({"model": "net", "num_classes": 10**9, "n_blocks": 10**9, "classes": "ab"})
    )
    model, meta = load_model(path)
    assert meta["num_classes"] == 2 and meta["classes"] == ["airplane", "bird"]
    _same(original, model)


def test_damaged_sidecar_is_ignored(tmp_path):
    original = _model()
    path = save_weights(tmp_path / "w.pt", original, {"model": "net"})
    sidecar_path(path).write_text("{not json")
    assert read_sidecar(path) == {}
    model, _ = load_model(path)
    _same(original, model)


# ---- bad files ------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert "no such file" in _error(tmp_path / "missing.pt")


def test_folder_instead_of_file(tmp_path):
    assert "is a folder" in _error(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    assert "empty" in _error(path)


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_truncated_file(tmp_path, zip_format, fraction):
    path = tmp_path / "w.pt"
    torch.save(_model().state_dict(), path, _use_new_zipfile_serialization=zip_format)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    assert "truncated or damaged" in _error(path)


@pytest.mark.parametrize(
    "content",
    [os.urandom(4096), b"hello, I am a text file\n" * 10, b"PK\x03\x04" + b"\0" * 100],
    ids=["random", "text", "fake-zip"],
)
def test_corrupt_file(tmp_path, content):
    path = tmp_path / "w.pt"
    path.write_bytes(content)
    message = _error(path)
    assert "not a PyTorch weights file" in message or "truncated or damaged" in message
    assert "could run code" not in message, "a damaged file is not a malicious one"


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    assert "holds no state_dict" in _error(path)
    torch.save({"weight": 3}, path)
    assert "other than a dict of named tensors" in _error(path)


def test_wrong_model_names_the_keys_and_shapes(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(_model("net-width").state_dict(), path)
    message = _error(path, model="net")
    assert "does not fit net with 2 classes" in message
    assert "conv1.weight (32, 3, 3, 3) vs (16, 3, 3, 3)" in message

    torch.save(_model("net-depth").state_dict(), path)
    message = _error(path, model="net")
    assert "unexpected keys conv3.weight" in message


def test_wrong_class_count_names_the_shapes(tmp_path):
    path = tmp_path / "ten.pt"
    torch.save(_model("net", 10).state_dict(), path)
    message = _error(path, num_classes=2)
    assert "does not fit net with 2 classes" in message
    assert "fc2.weight (10, 32) vs (2, 32)" in message


def test_keys_of_no_known_model(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save({"encoder.weight": torch.zeros(3, 3)}, path)
    message = _error(path)
    assert str(path) in message and "match none of the models" in message


def test_unknown_model_name(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(_model().state_dict(), path)
    assert "unknown model 'resnet'" in _error(path, model="resnet")


def test_describe_mismatch():
    a = _model().state_dict()
    assert describe_mismatch(a, a) == ""
    b = dict(a)
    del b["fc2.bias"]
    b["extra.weight"] = torch.zeros(1)
    text = describe_mismatch(a, b)
    assert "missing keys fc2.bias" in text and "unexpected keys extra.weight" in text


class _RunsCode:
    """Unpickling this (without weights_only) would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["torch-zip", "torch-legacy", "pickle-2", "pickle-4"])
def test_code_running_pickle_is_refused_and_never_runs(tmp_path, how):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    payload = {"conv1.weight": _RunsCode(marker)}
    if how == "torch-zip":
        torch.save(payload, path)
    elif how == "torch-legacy":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        with open(path, "wb") as handle:
            pickle.dump(payload, handle, protocol=int(how[-1]))
    message = _error(path)
    assert not marker.exists(), "loading the file ran its code"
    assert str(path) in message
    assert "refused" in message and "could run code" in message
    with pytest.raises(WeightsError):
        read_state_dict(path)
    assert not marker.exists()


# ---- saving ---------------------------------------------------------------------------------


def test_save_weights_writes_a_plain_state_dict_and_sidecar(tmp_path):
    model = _model()
    path = save_weights(tmp_path / "w.pt", model, {"model": "net", "val_accuracy": 0.9})
    state = torch.load(path, weights_only=True)
    assert list(state) == list(model.state_dict())  # the book's code can load this
    assert json.loads(sidecar_path(path).read_text())["val_accuracy"] == 0.9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.pt"]


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    first = _model(seed=1)
    path = save_weights(tmp_path / "w.pt", first, {"model": "net"})
    before = path.read_bytes()

    real_save = torch.save

    def failing_save(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="No space left"):
        save_weights(path, _model(seed=2), {"model": "net"})
    monkeypatch.setattr(torch, "save", real_save)

    assert path.read_bytes() == before, "a failed save damaged the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.pt"], "temp file left"
    model, _ = load_model(path)
    _same(first, model)


def test_write_atomic_cleans_up_on_interrupt(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def interrupted(handle):
        handle.write(b"new but partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, interrupted)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


# ---- real checkpoints on ../shared/data --------------------------------------------------------


def test_books_checkpoint_loads_and_scores_the_books_accuracy(shared_data, shared_cifar2):
    """The state_dict published with the book (legacy format, saved on Windows)."""
    from cnn_tui.core.evaluate import evaluate

    path = shared_data / "reference" / "book_birds_vs_airplanes.pt"
    assert path.read_bytes()[:2] != b"PK", "expected the legacy (pre-1.6) format"
    model, meta = load_model(path)
    assert meta["model"] == "net" and meta["classes"] == ["airplane", "bird"]
    assert len(shared_cifar2.val) == 2000
    result = evaluate(model, shared_cifar2.val, 2)
    assert result.accuracy >= 0.88, f"book checkpoint scored val {result.accuracy:.4f}"


def test_shipped_weights_score_at_least_the_books_accuracy(shared_cifar2):
    from cnn_tui.core.evaluate import evaluate
    from cnn_tui.core.paths import default_weights

    path = default_weights()
    if not path.exists():
        pytest.skip(f"shipped weights {path} not trained yet")
    model, meta = load_model(path)
    assert meta["model"] == "net" and meta["classes"] == ["airplane", "bird"]
    side = read_sidecar(path)
    for key in ("model", "preset", "epochs", "train_accuracy", "val_accuracy", "date"):
        assert key in side, f"sidecar {sidecar_path(path).name} lacks {key}"
    result = evaluate(model, shared_cifar2.val, 2)
    assert result.accuracy >= 0.88, f"shipped weights scored val {result.accuracy:.4f}"
    assert side["val_accuracy"] == pytest.approx(result.accuracy, abs=0.01)
