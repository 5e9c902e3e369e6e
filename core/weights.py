"""Reading and writing weight files safely, whatever the user points us at.

Files are always read with `torch.load(weights_only=True)`, so a pickle that would run
code is refused, never run. Both the legacy (pre-1.6) and zip formats load. A file may be
a plain state_dict (the book's format, and the project's final weights) or a checkpoint
dict with a "model" entry. A sidecar `<file>.json` names the model and classes; without
it the model is recognised from the keys and shapes. The sidecar also records the data the
weights were trained on (data_source: "sample" for the bundled sample), so they are
labelled so wherever they are shown (see trained_on).

A file is opened only when it is a regular file (a named pipe, a device, a folder or a
symbolic link loop is named for what it is, never read), and its size and the sizes its zip
directory declares are checked before anything is unpickled, so a small hostile file cannot
ask for gigabytes. Tensors holding NaN or infinite values are refused: they cannot predict.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .architecture import BOOK_NET, net_architecture_of
from .atomic import torch_save_atomic, write_json_atomic
from .errors import CnnTuiError
from .quiet import quiet_torch_load
from .refused import ConfigError
from .safe_files import FileRefused, format_size, open_regular, read_text

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .architecture import Architecture


class WeightsError(CnnTuiError):
    """A weights file that cannot be used; the message says why in one line."""


# Bounds on what a weights file may hold, checked before torch.load unpickles anything.
# The largest shipped weights (net-res-deep, 10 blocks) are 0.66 MB with an 8.7 KB data.pkl
# and 72 zip entries; net-res-deep with 1,000 blocks is 40 MB (0.9 MB data.pkl, 6,012
# entries), and a 500-block checkpoint with Adam's moments about 58 MB. 64 MB holds all of
# those and is still harmless on a laptop. data.pkl only names tensors (about 150 bytes
# each; the tensors' data are separate entries), and unpickling a string can take 4 to 5
# times its size, so 4 MB of pickle (25,000 tensors) bounds that to about 20 MB.
MAX_WEIGHTS_BYTES = 64 << 20  # the file, the sum of its declared entries, and its tensors
MAX_PICKLE_BYTES = 4 << 20  # any *.pkl entry of a zip-format file
MAX_ZIP_ENTRIES = 32_768  # a tensor's storage per entry: 2.5 times the 1,000-block checkpoint
MAX_SIDECAR_BYTES = 1 << 20  # a sidecar or run config.json: a few hundred bytes in practice

# The key our sidecars carry, so a save can tell our files from a user's own.
WRITTEN_BY = "cnn-tui"


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return (
        path.with_name(path.name + ".json") if path.suffix != ".pt" else path.with_suffix(".json")
    )


# What torch's weights-only unpickler says when a file asks for a callable or class that is
# not allow-listed, i.e. when a normal load would have run code.
_CODE_MARKERS = ("GLOBAL ", "reduce for unrecognized function", "Can only create new object")


def _why_unreadable(is_zip: bool, error: Exception) -> str:
    """One line for a file torch.load could not read (not a refused pickle)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, (EOFError, zipfile.BadZipFile)):
        return "the file is truncated or damaged"
    if isinstance(error, PermissionError):
        return f"cannot be read ({error.strerror})"
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


def _names_a_callable(handle: IO[bytes]) -> bool:
    """Whether a plain pickle (protocol 2+) names a class or function, read without running it.

    torch's weights-only unpickler stops at protocol 4's framing before it reaches the
    global, so such a file would otherwise be called "not a weights file" rather than refused.
    """
    import pickletools

    try:
        handle.seek(0)
        if handle.read(2) not in {b"\x80" + bytes([n]) for n in range(2, 6)}:
            return False
        handle.seek(0)
        for opcode, _, _ in pickletools.genops(handle):
            if opcode.name in ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ"):
                return True
    except Exception:  # damaged or not a pickle: nothing named
        return False
    return False


def zip_size_problem(handle: IO[bytes], max_total: int = MAX_WEIGHTS_BYTES) -> str | None:
    """Why a zip-format torch file asks for too much, or None (also for the legacy format,
    which only the file's own size bounds). Leaves the handle at its start.

    Read with zipfile from the central directory alone: nothing is inflated or unpickled,
    so a small file declaring gigabytes costs nothing. A zip whose directory cannot be read
    is refused, since its sizes cannot be checked.
    """
    handle.seek(0)
    is_zip = handle.read(4) == b"PK\x03\x04"  # what torch.load tells the formats by
    try:
        return _too_much_declared(handle, max_total) if is_zip else None
    finally:
        handle.seek(0)


def _too_much_declared(handle: IO[bytes], max_total: int = MAX_WEIGHTS_BYTES) -> str | None:
    try:
        with zipfile.ZipFile(handle) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        return "the file is truncated or damaged"
    if len(entries) > MAX_ZIP_ENTRIES:
        return f"refused: {len(entries):,} entries, more than the {MAX_ZIP_ENTRIES:,} allowed"
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.filename.endswith(".pkl") and entry.file_size > MAX_PICKLE_BYTES:
            return (
                f"refused: its {entry.filename} declares {format_size(entry.file_size)}, more "
                f"than the {format_size(MAX_PICKLE_BYTES)} any weights file needs"
            )
    if total > max_total:
        return (
            f"refused: its entries declare {format_size(total)} in all, more than the "
            f"{format_size(max_total)} any model of this app needs"
        )
    return None


def _unusable_tensors(data: dict[str, torch.Tensor]) -> str | None:
    """Why these tensors cannot be a model's weights (too large, NaN or infinite), or None."""
    import torch

    # A tensor may be a view declaring far more elements than its storage holds (stride 0):
    # bound the elements before any check or copy touches them all.
    total = sum(value.numel() * value.element_size() for value in data.values())
    if total > MAX_WEIGHTS_BYTES:
        return (
            f"refused: its tensors are too large ({format_size(total)}, more than the "
            f"{format_size(MAX_WEIGHTS_BYTES)} any model of this app needs)"
        )
    for key, value in data.items():
        if (value.is_floating_point() or value.is_complex()) and not bool(
            torch.isfinite(value).all()
        ):
            what = "NaN" if bool(torch.isnan(value).any()) else "infinite"
            return (
                f"refused: {key} holds {what} values (the training that wrote it diverged); "
                "such weights cannot predict"
            )
    return None


def load_torch_file(
    path: str | Path, max_bytes: int = MAX_WEIGHTS_BYTES, zip_only: bool = False
) -> Any:
    """What a torch file holds, loaded with weights_only=True, or WeightsError (one line).

    The one way this program unpickles a file (weights here, a run's checkpoints in
    core/resume.py): only a regular file is opened, at most max_bytes of it, and a zip's
    declared sizes are checked before torch unpickles anything. zip_only refuses the legacy
    format (what torch.save has written since 1.6, and all a run ever writes).
    """
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, not a weights file")
    try:
        handle = open_regular(path, max_bytes)
    except FileRefused as error:
        raise WeightsError(f"{path}: {error}") from None
    with handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise WeightsError(f"{path}: the file is empty")
        is_zip = handle.read(4) == b"PK\x03\x04"  # what torch.load tells the formats by
        if zip_only and not is_zip:
            raise WeightsError(f"{path}: is damaged (not a whole checkpoint file)")
        # the legacy format's storages are read as declared, so the file's own size (bounded
        # above) bounds what it can ask for; a zip is checked from its directory
        too_much = zip_size_problem(handle, max_bytes)
        if too_much:
            raise WeightsError(f"{path}: {too_much}")
        return _torch_load(path, handle, is_zip)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The model's tensors from a weights or checkpoint file, or WeightsError."""
    data = load_torch_file(path)
    import torch

    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not data:
        raise WeightsError(f"{path}: holds no state_dict (a dict of named tensors)")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()):
        raise WeightsError(f"{path}: holds something other than a dict of named tensors")
    unusable = _unusable_tensors(data)
    if unusable:
        raise WeightsError(f"{path}: {unusable}")
    return data


def _torch_load(path: Path, handle: IO[bytes], is_zip: bool) -> Any:
    """torch.load(weights_only=True) from the open file, its errors as WeightsError."""
    import torch

    quiet_torch_load()
    handle.seek(0)
    try:
        return torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if any(marker in str(error) for marker in _CODE_MARKERS) or _names_a_callable(handle):
            raise WeightsError(
                f"{path}: refused: the file holds Python objects other than tensors "
                "(loading it could run code)"
            ) from None
        raise WeightsError(f"{path}: not a PyTorch weights file (or damaged)") from None
    except MemoryError:
        raise WeightsError(f"{path}: damaged (asks for more memory than there is)") from None
    except Exception as error:  # torch raises many kinds for a bad file; all mean "unusable"
        raise WeightsError(f"{path}: {_why_unreadable(is_zip, error)}") from None


def read_small_json(path: str | Path) -> Any:
    """A small JSON file (a sidecar, a run's config), or None: missing, special or bad."""
    try:
        return json.loads(read_text(path, MAX_SIDECAR_BYTES))
    except (OSError, ValueError, RecursionError):  # FileRefused is an OSError
        return None


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """What the .json beside a weights file says; {} when there is none or it is not ours
    to read (not a regular file, too large, not a JSON object)."""
    meta = read_small_json(sidecar_path(path))
    return meta if isinstance(meta, dict) else {}


def written_by_us(sidecar: dict[str, Any]) -> bool:
    """Whether a sidecar was written by cnn-tui: it says so, or (written before it said so)
    it has every key our sidecars have always had, with their types."""
    if sidecar.get("written_by") == WRITTEN_BY:
        return True
    return (
        isinstance(sidecar.get("model"), str)
        and isinstance(sidecar.get("num_classes"), int)
        and isinstance(sidecar.get("classes"), list)
    )


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


def infer_model(
    state: dict[str, torch.Tensor],
    prefer: str | None = None,
    architecture: Architecture | None = None,
) -> tuple[str, int, int]:
    """(model name, classes, n_blocks) whose state_dict matches these keys and shapes.

    Some models share keys and shapes (net-depth and net-res, net-width and net-dropout);
    `prefer` is tried first, so a hint from elsewhere decides between them. net is tried as
    `architecture` (None: the book's Net), and last as the kernel size and widths its
    tensors have (net_architecture_of), so a file of another member of the family is net.
    """
    from .models import build_model
    from .registry import MODELS

    num_classes = num_classes_of(state)
    n_blocks = len({k.split(".")[1] for k in state if k.startswith("resblocks.")}) or 10
    names = [prefer] if prefer in MODELS else []
    names += [m for m in MODELS if m != prefer]
    tries = [(name, architecture if name == "net" else None) for name in names]
    tries.append(("net", net_architecture_of(state)))
    for name, shape in tries:
        expected = build_model(name, num_classes, n_blocks, architecture=shape).state_dict()
        if not describe_mismatch(expected, state):
            return name, num_classes, n_blocks
    raise WeightsError("the file's keys and shapes match none of the models")


def trained_on(meta: dict[str, Any]) -> str:
    """What the data the weights were trained on means for their answers, in words: "trained
    on the 500-image sample" for weights trained on the bundled sample, else "" (the full
    data, a user's folder, or not recorded, as in sidecars written before data_source was).
    """
    if meta.get("data_source") != "sample":
        return ""
    images = meta.get("train_images")
    if isinstance(images, int) and not isinstance(images, bool) and images > 0:
        return f"trained on the {images:,}-image sample"
    return "trained on the bundled sample"


LISTED_CLASSES = 4  # classes named by known_classes; more are counted (CIFAR-10 has ten)
COUNTS = {2: "two", 3: "three", 4: "four"}


def known_classes(classes: list[str]) -> str:
    """That every picture gets one of these classes, a frog or a car too: a classifier has
    no "none of these", which surprises a newcomer. "" for no classes."""
    if not classes:
        return ""
    if len(classes) == 1:
        return f"This model knows only {classes[0]}: any picture gets that answer."
    if len(classes) <= LISTED_CLASSES:
        names = ", ".join(classes[:-1]) + f" and {classes[-1]}"
        return f"This model knows only {names}: any picture gets one of the {COUNTS[len(classes)]}."
    shown = ", ".join(classes[:LISTED_CLASSES])
    return (
        f"This model knows only its {len(classes)} classes ({shown}, …): any picture gets "
        "one of them."
    )


def _recorded_architecture(path: str | Path, record: dict[str, Any]) -> Architecture | None:
    """The architecture a sidecar or run config.json records, checked; None where it
    records none (written before there was one: the book's Net)."""
    from .architecture import Architecture

    if record.get("architecture") is None:
        return None
    try:
        return Architecture.from_dict(record["architecture"])
    except ConfigError as error:
        raise WeightsError(f"{path}: the recorded architecture cannot be used: {error}") from None


def _run_config_hint(path: str | Path) -> dict[str, Any]:
    """The model, classes, data source and architecture named by config.json beside a
    run's last.pt or best.pt.

    Those checkpoints have no sidecar, and keys alone cannot tell net-res from net-depth.
    """
    data = read_small_json(Path(path).parent / "config.json")
    if not isinstance(data, dict) or not isinstance(data.get("model"), str):
        return {}
    classes = data.get("classes")
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        classes = None
    source = data.get("data_source")
    return {
        "model": data["model"],
        "classes": classes,
        "data_source": source if isinstance(source, str) else None,
        "architecture": data.get("architecture"),
    }


def load_model(
    path: str | Path, model: str | None = None, num_classes: int | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Build the right model and load a file into it, or raise WeightsError saying why.

    Returns the model in eval mode and its metadata (model, num_classes, classes, ...).
    """
    state = read_state_dict(path)
    if num_classes_of(state) < 1:
        raise WeightsError(
            f"{path}: its last layer has 0 outputs: weights for no class at all, so they "
            "cannot predict"
        )
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
    hint = _run_config_hint(path)
    if "data_source" not in meta and hint.get("data_source"):
        meta = {**meta, "data_source": hint["data_source"]}  # a run's checkpoint
    architecture = _recorded_architecture(path, meta)
    if name is None:
        architecture = architecture or _recorded_architecture(path, hint)
        try:
            name, found_classes, n_blocks = infer_model(state, hint.get("model"), architecture)
        except WeightsError as error:
            raise WeightsError(f"{path}: {error}") from None
        if name == "net" and architecture is None:  # told by the tensors alone
            architecture = net_architecture_of(state)
        num_classes = num_classes or found_classes
        if name == hint.get("model") and classes is None:
            classes = hint.get("classes")
    num_classes = num_classes or num_classes_of(state)
    if name != "net":
        architecture = None  # the other models' shapes are their own
    elif architecture is None:  # a net named with no architecture (an older file): the book's
        architecture = BOOK_NET
    try:
        net = build_model(name, int(num_classes), n_blocks, architecture=architecture)
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
    meta.pop("architecture", None)
    if architecture is not None:
        meta["architecture"] = architecture.to_dict()
    return net, meta


def save_weights(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> Path:
    """Write a plain state_dict (the book's code loads it) and its sidecar, atomically.

    The sidecar says cnn-tui wrote it (written_by), so a later save can tell it from a
    user's own file of the same name.
    """
    path = Path(path)
    torch_save_atomic(path, model.state_dict())
    write_json_atomic(sidecar_path(path), {**meta, "written_by": WRITTEN_BY})
    return path
