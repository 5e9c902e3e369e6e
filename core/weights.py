"""Reading and writing weight files safely, whatever the user points us at.

Files are always read with `torch.load(weights_only=True)`, so a pickle that would run
code is refused, never run. Both the legacy (pre-1.6) and zip formats load. A file may be
a plain state_dict (the book's format, and the project's final weights) or a checkpoint
dict with a "model" entry. A sidecar `<file>.json` names the model and classes; without
it the model is recognised from the keys and shapes.
"""

from __future__ import annotations

import json
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import torch_save_atomic, write_json_atomic

if TYPE_CHECKING:
    import torch
    from torch import nn


class WeightsError(Exception):
    """A weights file that cannot be used; the message says why in one line."""


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return (
        path.with_name(path.name + ".json") if path.suffix != ".pt" else path.with_suffix(".json")
    )


# What torch's weights-only unpickler says when a file asks for a callable or class that is
# not allow-listed, i.e. when a normal load would have run code.
_CODE_MARKERS = ("GLOBAL ", "reduce for unrecognized function", "Can only create new object")


def _why_unreadable(path: Path, error: Exception) -> str:
    """One line for a file torch.load could not read (not a refused pickle)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, (EOFError, zipfile.BadZipFile)):
        return "the file is truncated or damaged"
    if isinstance(error, PermissionError):
        return f"cannot be read ({error.strerror})"
    try:
        with open(path, "rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"
    except OSError:
        is_zip = False
    if is_zip and isinstance(error, (OSError, RuntimeError)):
        return "the file is truncated or damaged"  # a zip-format file torch cannot open
    lowered = text.lower()
    if isinstance(error, RuntimeError) and any(
        word in lowered for word in ("zip", "central directory", "unexpected eof", "corrupt")
    ):
        return "the file is truncated or damaged"
    if isinstance(error, OSError) and error.strerror:
        return f"cannot be read ({error.strerror})"
    return "not a PyTorch weights file (or damaged)"


def _names_a_callable(path: Path) -> bool:
    """Whether a plain pickle (protocol 2+) names a class or function, read without running it.

    torch's weights-only unpickler stops at protocol 4's framing before it reaches the
    global, so such a file would otherwise be called "not a weights file" rather than refused.
    """
    import pickletools

    try:
        with open(path, "rb") as handle:
            if handle.read(2) not in {b"\x80" + bytes([n]) for n in range(2, 6)}:
                return False
            handle.seek(0)
            for opcode, _, _ in pickletools.genops(handle):
                if opcode.name in ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ"):
                    return True
    except Exception:  # damaged or not a pickle: nothing named
        return False
    return False


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The model's tensors from a weights or checkpoint file, or WeightsError."""
    path = Path(path)  # the cheap checks first: a mistyped name is answered before torch loads
    if not path.exists():
        raise WeightsError(f"{path}: no such file")
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, not a weights file")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path}: the file is empty")
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4": noise to a user
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if any(marker in str(error) for marker in _CODE_MARKERS) or _names_a_callable(path):
            raise WeightsError(
                f"{path}: refused: the file holds Python objects other than tensors "
                "(loading it could run code)"
            ) from None
        raise WeightsError(f"{path}: not a PyTorch weights file (or damaged)") from None
    except MemoryError:
        raise WeightsError(f"{path}: damaged (asks for more memory than there is)") from None
    except Exception as error:  # torch raises many kinds for a bad file; all mean "unusable"
        raise WeightsError(f"{path}: {_why_unreadable(path, error)}") from None
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not data:
        raise WeightsError(f"{path}: holds no state_dict (a dict of named tensors)")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()):
        raise WeightsError(f"{path}: holds something other than a dict of named tensors")
    return data


def read_sidecar(path: str | Path) -> dict[str, Any]:
    side = sidecar_path(path)
    try:
        meta = json.loads(side.read_text())
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}


def describe_mismatch(expected: dict[str, Any], found: dict[str, Any]) -> str:
    """Which keys are missing, unexpected or shaped differently, in one line."""
    parts = []
    missing = [k for k in expected if k not in found]
    extra = [k for k in found if k not in expected]
    shapes = [
        f"{k} {tuple(found[k].shape)} vs {tuple(expected[k].shape)}"
        for k in expected
        if k in found and tuple(found[k].shape) != tuple(expected[k].shape)
    ]

    def few(items: list[str]) -> str:
        return ", ".join(items[:4]) + (f" and {len(items) - 4} more" if len(items) > 4 else "")

    if missing:
        parts.append(f"missing keys {few(missing)}")
    if extra:
        parts.append(f"unexpected keys {few(extra)}")
    if shapes:
        parts.append(f"shapes differ (file vs model): {few(shapes)}")
    return "; ".join(parts)


def num_classes_of(state: dict[str, torch.Tensor]) -> int:
    """The class count from the last layer's bias (or weight)."""
    last = [k for k in state if k.endswith(".bias") or k.endswith(".weight")]
    return int(state[last[-1]].shape[0]) if last else 2


def infer_model(state: dict[str, torch.Tensor], prefer: str | None = None) -> tuple[str, int, int]:
    """(model name, classes, n_blocks) whose state_dict matches these keys and shapes.

    Some models share keys and shapes (net-depth and net-res, net-width and net-dropout);
    `prefer` is tried first, so a hint from elsewhere decides between them.
    """
    from .models import build_model
    from .registry import MODELS

    num_classes = num_classes_of(state)
    n_blocks = len({k.split(".")[1] for k in state if k.startswith("resblocks.")}) or 10
    names = [prefer] if prefer in MODELS else []
    for name in names + [m for m in MODELS if m != prefer]:
        expected = build_model(name, num_classes, n_blocks).state_dict()
        if not describe_mismatch(expected, state):
            return name, num_classes, n_blocks
    raise WeightsError("the file's keys and shapes match none of the models")


def _run_config_hint(path: str | Path) -> dict[str, Any]:
    """The model and classes named by config.json beside a run's last.pt or best.pt.

    Those checkpoints have no sidecar, and keys alone cannot tell net-res from net-depth.
    """
    try:
        data = json.loads((Path(path).parent / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("model"), str):
        return {}
    classes = data.get("classes")
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        classes = None
    return {"model": data["model"], "classes": classes}


def load_model(
    path: str | Path, model: str | None = None, num_classes: int | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Build the right model and load a file into it, or raise WeightsError saying why.

    Returns the model in eval mode and its metadata (model, num_classes, classes, ...).
    """
    state = read_state_dict(path)
    meta = read_sidecar(path)
    from .models import build_model

    # The sidecar names the model and classes; sizes come from the file's own tensors, so a
    # wrong or hostile sidecar cannot make us build a huge model.
    name = model or meta.get("model")
    if not isinstance(name, str):
        name = None
    classes = meta.get("classes")
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        classes = None
    n_blocks = len({k.split(".")[1] for k in state if k.startswith("resblocks.")}) or 10
    if name is None:
        hint = _run_config_hint(path)
        try:
            name, found_classes, n_blocks = infer_model(state, prefer=hint.get("model"))
        except WeightsError as error:
            raise WeightsError(f"{path}: {error}") from None
        num_classes = num_classes or found_classes
        if name == hint.get("model") and classes is None:
            classes = hint.get("classes")
    num_classes = num_classes or num_classes_of(state)
    try:
        net = build_model(name, int(num_classes), n_blocks)
    except ValueError as error:
        raise WeightsError(f"{path}: {error}") from None
    expected = net.state_dict()
    mismatch = describe_mismatch(expected, state)
    if mismatch:
        raise WeightsError(f"{path} does not fit {name} with {num_classes} classes: {mismatch}")
    net.load_state_dict(state)
    net.eval()
    if not classes or len(classes) != num_classes:
        from .data import CIFAR2_CLASSES, CIFAR10_CLASSES

        classes = {2: CIFAR2_CLASSES, 10: CIFAR10_CLASSES}.get(
            int(num_classes), [f"class {i}" for i in range(int(num_classes))]
        )
    meta = {
        **meta,
        "model": name,
        "num_classes": int(num_classes),
        "classes": list(classes),
        "n_blocks": n_blocks,
        "path": str(path),
    }
    return net, meta


def save_weights(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> Path:
    """Write a plain state_dict (the book's code loads it) and its sidecar, atomically."""
    path = Path(path)
    torch_save_atomic(path, model.state_dict())
    write_json_atomic(sidecar_path(path), meta)
    return path
