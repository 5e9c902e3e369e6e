"""CIFAR-2 and CIFAR-10 as one uint8 tensor per split, from wherever the user has them.

Sources, tried in this order for a data folder: torchvision's CIFAR-10 files
(cifar-10-batches-py), an image-folder tree (train/<class>/*, test/<class>/*), a download
of CIFAR-10 into an empty folder, and last the small sample shipped in the package, which
is always named as such. Images stay uint8 in memory; `normalize` turns a batch into the
book's normalised floats when it is used.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import DATASETS
from .errors import CnnTuiError
from .images import IMAGE_SUFFIXES
from .paths import cache_dir, default_data_dir
from .safe_files import FileRefused, open_regular, regular_stat
from .states import LogLevel

if TYPE_CHECKING:
    import numpy as np
    import torch

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
CIFAR2_CLASSES = ["airplane", "bird"]

# The CIFAR-10 training set's statistics, used for train and validation alike (the book's).
MEAN = (0.4915, 0.4823, 0.4468)
STD = (0.2470, 0.2435, 0.2616)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_FILES = (*(f"data_batch_{n}" for n in range(1, 6)), "test_batch", "batches.meta")
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # the archive is 170 MB, each batch 31 MB
VAL_FOLDERS = ("test", "val", "valid", "validation")
SAMPLE_FILE = "cifar2_sample.npz"

Log = Callable[[str, LogLevel], None]  # (message, level)
DownloadProgress = Callable[[int, int], None]  # (bytes done, bytes total or 0)


class DataError(CnnTuiError):
    """The data cannot be read as asked; the message says why in one line."""


@dataclass
class Split:
    images: torch.Tensor  # (N, 3, 32, 32) uint8
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class DataSet:
    name: str  # says plainly what the data are, e.g. "CIFAR-2 (bundled sample, ...)"
    kind: str  # torchvision, folder, sample or memory
    classes: list[str]
    train: Split
    val: Split
    source: str = ""  # the folder read, or "package" for the sample
    notes: list[str] = field(default_factory=list)  # warnings met while loading

    @property
    def is_sample(self) -> bool:
        return self.kind == "sample"


_CONSTANTS: dict = {}  # device -> (mean, std) as (1, 3, 1, 1) tensors, made once


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float32 normalised with the book's constants."""
    constants = _CONSTANTS.get(images.device)
    if constants is None:
        import torch

        constants = tuple(
            torch.tensor(values, device=images.device).view(1, 3, 1, 1) for values in (MEAN, STD)
        )
        _CONSTANTS[images.device] = constants
    mean, std = constants
    # In place after the one copy: the training loop calls this for every batch.
    return images.float().div_(255.0).sub_(mean).div_(std)


def _log_nothing(message: str, level: LogLevel) -> None:
    pass


def load_dataset(
    dataset: str = "cifar2",
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    on_log: Log | None = None,
    on_download: DownloadProgress | None = None,
    train: bool = True,
) -> DataSet:
    """Load a data set from data_dir (default: CNN_TUI_DATA, else the user's data folder).

    A folder without the expected layout raises DataError; a missing data set that cannot
    be downloaded falls back to the bundled sample with a warning through on_log.
    train=False reads the validation split only and leaves train empty: for what looks at
    validation images alone (the Predict screen, `fooled`, `attack --models`), which would
    otherwise read and hold CIFAR-10's 50,000 training images (150 MB) for nothing. The
    bundled sample is read whole (it is small).
    """
    if dataset not in DATASETS:
        raise DataError(f"unknown data set {dataset!r}: choose cifar2 or cifar10")
    log = on_log or _log_nothing
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    if root.exists() and not root.is_dir():
        raise DataError(f"data folder {root} is a file, not a folder")
    layout = detect_layout(root)
    if layout == "torchvision":
        return _load_torchvision(dataset, root, train)
    if layout == "folder":
        return load_image_folder(root, dataset, log, train=train)
    if layout == "unknown":
        raise DataError(
            f"data folder {root} holds neither CIFAR-10's {CIFAR10_FOLDER}/ nor an image "
            "folder (train/<class>/*, test/<class>/*)"
        )
    # Nothing there yet: download, else fall back to the sample.
    if download:
        try:
            download_cifar10(root, on_download)
            return _load_torchvision(dataset, root, train)
        except (OSError, DataError, tarfile.TarError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            log(f"could not download CIFAR-10 into {root} ({reason})", "warning")
    else:
        log(f"no CIFAR-10 in {root} and downloading is off", "warning")
    sample = load_sample(dataset, log)
    log(f"using the {sample.name}", "warning")
    return sample


def detect_layout(root: Path) -> str:
    """torchvision, folder, empty (nothing usable yet: download) or unknown."""
    if not root.is_dir():
        return "empty"
    if (root / CIFAR10_FOLDER).is_dir():
        return "torchvision"
    if (root / "train").is_dir() and any(p.is_dir() for p in (root / "train").iterdir()):
        return "folder"
    entries = [p for p in root.iterdir() if not p.name.startswith(".")]
    if all(p.name == CIFAR10_ARCHIVE for p in entries):
        return "empty"
    return "unknown"


def describe_source(data_dir: str | Path | None = None) -> str:
    """One line for the app's form: what training would read from this folder."""
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    try:
        layout = detect_layout(root)
    except OSError as error:
        return f"{root}: cannot be read ({error.strerror or error})"
    return {
        "torchvision": f"full CIFAR-10 (torchvision files) in {root}",
        "folder": f"image folder {root}",
        "empty": f"nothing in {root}: download CIFAR-10, else the bundled sample",
        "unknown": f"{root} has no CIFAR-10 layout",
    }[layout]


def download_cifar10(root: Path, on_download: DownloadProgress | None = None) -> None:
    """Fetch and unpack torchvision's CIFAR-10 archive into root, checking its MD5."""
    root.mkdir(parents=True, exist_ok=True)
    archive = root / CIFAR10_ARCHIVE
    if os.path.lexists(archive):
        try:
            regular_stat(archive, MAX_ARCHIVE_BYTES)
        except FileRefused as error:  # never read, nor downloaded over: it is not ours
            raise DataError(f"{archive}: {error}") from None
    if not (archive.exists() and _md5(archive) == CIFAR10_MD5):
        partial = archive.with_suffix(".part")
        with (
            urllib.request.urlopen(CIFAR10_URL, timeout=15) as response,
            open(partial, "wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if on_download:
                    on_download(done, total)
        if _md5(partial) != CIFAR10_MD5:
            partial.unlink(missing_ok=True)
            raise DataError("the downloaded archive failed its MD5 check")
        os.replace(partial, archive)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(root, filter="data")


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open_regular(path, MAX_ARCHIVE_BYTES) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _load_torchvision(dataset: str, root: Path, train: bool = True) -> DataSet:
    import torch
    from torchvision.datasets import CIFAR10

    folder = root / CIFAR10_FOLDER
    for name in CIFAR10_FILES:  # torchvision would call any of these "not found or corrupted"
        try:
            regular_stat(folder / name, MAX_ARCHIVE_BYTES)
        except FileRefused as error:
            raise DataError(f"cannot read CIFAR-10 in {root}: {name}: {error}") from None
    splits = []
    for is_train in (True, False):
        if is_train and not train:
            splits.append(_empty_split())
            continue
        try:
            data = CIFAR10(str(root), train=is_train, download=False)
        except Exception as error:  # torchvision raises RuntimeError or pickle errors
            raise DataError(f"cannot read CIFAR-10 in {root}: {error}") from None
        images = torch.from_numpy(data.data).permute(0, 3, 1, 2).contiguous()
        labels = torch.tensor(data.targets, dtype=torch.int64)
        splits.append(Split(images, labels))
    train_split, val_split = splits
    if dataset == "cifar2":
        train_split, val_split = _cifar2_subset(train_split), _cifar2_subset(val_split)
        return DataSet(
            "CIFAR-2 (full, torchvision)",
            "torchvision",
            CIFAR2_CLASSES,
            train_split,
            val_split,
            str(root),
        )
    return DataSet(
        "CIFAR-10 (full, torchvision)",
        "torchvision",
        CIFAR10_CLASSES,
        train_split,
        val_split,
        str(root),
    )


def _empty_split() -> Split:
    """No images: the train split of a data set read with train=False."""
    import torch

    return Split(torch.empty(0, 3, 32, 32, dtype=torch.uint8), torch.empty(0, dtype=torch.int64))


def _cifar2_subset(split: Split) -> Split:
    import torch

    keep = (split.labels == 0) | (split.labels == 2)
    labels = split.labels[keep]
    return Split(split.images[keep].contiguous(), torch.where(labels == 2, 1, 0))


def check_image_folder(
    root: Path, dataset: str = "cifar2"
) -> tuple[list[str], dict[str, list[tuple[Path, int]]], Path]:
    """An image folder's classes, its (file, label) lists per split and its validation
    folder, or DataError saying what is wrong with it; nothing is decoded (cheap enough to
    check a folder before a detached run starts, core/detach.py)."""
    val_dir = next((root / name for name in VAL_FOLDERS if (root / name).is_dir()), None)
    if val_dir is None:
        raise DataError(f"image folder {root} has train/ but no test/ or val/ beside it")
    train_classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    if dataset == "cifar2":
        missing = [c for c in CIFAR2_CLASSES if c not in train_classes]
        if missing:
            raise DataError(
                f"image folder {root} has no {' or '.join(missing)} class for CIFAR-2 "
                f"(found {', '.join(train_classes[:6]) or 'none'}); use --dataset cifar10 "
                "to train on all its classes"
            )
        classes = list(CIFAR2_CLASSES)
    else:
        classes = train_classes
    files: dict[str, list[tuple[Path, int]]] = {}
    for split, split_dir in (("train", root / "train"), ("val", val_dir)):
        files[split] = []
        for label, name in enumerate(classes):
            found = _image_files(split_dir / name)
            if not found:
                raise DataError(
                    f"class folder {split_dir / name} has no images: every class needs "
                    "training and validation images"
                )
            files[split] += [(path, label) for path in found]
    return classes, files, val_dir


def load_image_folder(
    root: Path, dataset: str = "cifar2", on_log: Log | None = None, train: bool = True
) -> DataSet:
    """Read train/<class>/* and test/<class>/* (or val/), decoding once and caching; with
    train=False the validation images only (both folders are still checked)."""
    log = on_log or _log_nothing
    classes, files, val_dir = check_image_folder(root, dataset)
    splits = {
        split: _decode_cached(root, split, items, classes, split_dir, log)
        if train or split == "val"
        else _empty_split()
        for (split, items), split_dir in zip(files.items(), (root / "train", val_dir), strict=True)
    }
    count = f"{len(splits['train'])} train / {len(splits['val'])} val"
    if not train:
        count = f"{len(splits['val'])} val"
    label = "CIFAR-2" if dataset == "cifar2" else f"{len(classes)} classes"
    if dataset != "cifar2" and sorted(classes) == sorted(CIFAR10_CLASSES):
        label = "CIFAR-10"  # (its ten class folders: what a user who made it calls it)
    return DataSet(
        f"{label} (image folder {root.resolve()}, {count})",
        "folder",
        classes,
        splits["train"],
        splits["val"],
        str(root),
    )


def _image_files(folder: Path) -> list[Path]:
    """The entries of a class folder named like images (whatever they turn out to be: a
    named pipe or a broken link is listed, then skipped and counted when decoded)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _fingerprint(path: Path) -> str:
    """What the cache key holds of a file: its size and time, or why it cannot be read."""
    try:
        info = os.stat(path)
    except OSError as error:  # a broken link or a link loop: skipped when decoded
        return f"unreadable {error.errno}"
    return f"{info.st_mode >> 12}|{info.st_size}|{info.st_mtime_ns}"


def _decode_cached(
    root: Path,
    split: str,
    items: list[tuple[Path, int]],
    classes: list[str],
    split_dir: Path,
    log: Log,
) -> Split:
    import numpy as np

    digest = hashlib.sha1(str(root.resolve()).encode())
    for path, label in items:
        digest.update(f"{path.name}|{label}|{_fingerprint(path)}\n".encode())
    cache = cache_dir() / f"folder-{split}-{digest.hexdigest()[:20]}.npz"
    if os.path.lexists(cache):
        cached = _read_cache(cache, len(items), len(classes), log)
        if cached is not None:
            return _as_split(*cached)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        decoded = list(pool.map(_decode_32, (path for path, _ in items)))
    good = [
        (pixels, label)
        for pixels, (_, label) in zip(decoded, items, strict=True)
        if not isinstance(pixels, str)
    ]
    bad = [
        (path, why) for why, (path, _) in zip(decoded, items, strict=True) if isinstance(why, str)
    ]
    if bad:
        first, why = bad[0]
        log(
            f"skipped {len(bad)} unreadable image file(s) in {root} "
            f"(first: {first.relative_to(root)}: {why})",
            "warning",
        )
    found = {label for _, label in good}
    for label, name in enumerate(classes):
        if label not in found:
            raise DataError(
                f"no readable images in class folder {split_dir / name}: every class needs "
                "training and validation images"
            )
    images = np.stack([pixels for pixels, _ in good]).transpose(0, 3, 1, 2).copy()
    labels = np.array([label for _, label in good], dtype=np.int64)
    try:
        from .atomic import write_atomic

        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache, lambda handle: np.savez(handle, images=images, labels=labels))
    except OSError as error:
        log(f"could not cache decoded images ({error.strerror or error})", "warning")
    log(f"decoded {len(good)} {split} images in {time.perf_counter() - started:.1f}s", "info")
    return _as_split(images, labels)


def _as_split(images: np.ndarray, labels: np.ndarray) -> Split:
    """Numpy arrays as a Split. torch is imported here, after the folder is listed and the
    cache read, so that cnn-tui train can do those while another thread imports torch."""
    import torch

    return Split(torch.from_numpy(images), torch.from_numpy(labels))


def _read_cache(cache: Path, count: int, num_classes: int, log: Log):
    """(images, labels) from a decode cache that holds what it should, else None after a
    warning naming the file (it is rebuilt: written to a temporary name and renamed).

    At most `count` images can be in it, so its size is bounded before anything is read;
    pickles are refused (allow_pickle=False)."""
    import zipfile

    import numpy as np

    bound = count * 3 * 32 * 32 + count * 8 + 64 * 1024  # pixels, labels, zip and npy headers
    try:
        with open_regular(cache, bound) as handle, np.load(handle, allow_pickle=False) as stored:
            images, labels = stored["images"], stored["labels"]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (3, 32, 32):
            raise ValueError(f"images are {images.dtype} {images.shape}")
        if labels.dtype != np.int64 or labels.shape != (len(images),):
            raise ValueError(f"labels are {labels.dtype} {labels.shape}")
        if len(images) == 0 or len(images) > count:
            raise ValueError(f"{len(images)} images for {count} files")
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError("labels out of range")
        return images, labels
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        log(f"ignoring a damaged cache file {cache} ({reason}); decoding again", "warning")
        return None


def _decode_32(path: Path):
    """An image file as (32, 32, 3) uint8, or why it cannot be read (one line)."""
    from .images import ImageError, load_image_array

    try:
        return load_image_array(path)
    except ImageError as error:
        return str(error)


def load_sample(dataset: str = "cifar2", on_log: Log | None = None) -> DataSet:
    """The small real CIFAR-2 subset shipped in the package."""
    from importlib.resources import files

    import numpy as np
    import torch

    if dataset != "cifar2" and on_log:
        on_log("the bundled sample holds CIFAR-2 only (airplane, bird)", "warning")
    resource = files("cnn_tui.core.sample").joinpath(SAMPLE_FILE)
    with resource.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
        arrays = {key: torch.from_numpy(stored[key].copy()) for key in stored.files}
    train = Split(arrays["train_images"], arrays["train_labels"].long())
    val = Split(arrays["val_images"], arrays["val_labels"].long())
    name = (
        f"CIFAR-2 bundled sample ({len(train)} train / {len(val)} val images, "
        "not the full data set)"
    )
    return DataSet(name, "sample", list(CIFAR2_CLASSES), train, val, "package")
