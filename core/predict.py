"""Asking a trained model what is in a picture: `cnn-tui predict` and the app's Predict screen.

A Predictor holds a model in eval mode, its class names and its device. Image files go
through core/images.py (any size or mode; huge, broken or non-image files refused with one
line), so one bad file never stops the others from getting their answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class Predictor:
    """A model ready to answer: eval mode, class names, device."""

    model: nn.Module
    classes: list[str]
    device: Any = None  # torch.device; None: the model's own
    meta: dict[str, Any] | None = None  # the weights file's metadata, when loaded from one

    def __post_init__(self) -> None:
        if self.device is None:
            self.device = next(self.model.parameters()).device
        self.model.to(self.device).eval()

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        *,
        model: str | None = None,
        num_classes: int | None = None,
        device: str = "cpu",
    ) -> Predictor:
        """Load a weights file (default: the shipped weights); raises WeightsError."""
        from .paths import default_weights
        from .weights import WeightsError, load_model

        path = Path(path) if path is not None else default_weights()
        if not path.exists() and path == default_weights():
            raise WeightsError(f"{path}: the shipped weights are missing; pass --weights FILE")
        net, meta = load_model(path, model=model, num_classes=num_classes)
        from .models import pick_device

        return cls(net, list(meta["classes"]), pick_device(device), meta)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, 32, 32) images -> (N, classes) probabilities on the CPU."""
        import torch

        from .data import normalize

        shape = tuple(images.shape)
        if images.dtype != torch.uint8 or len(shape) != 4 or shape[1:] != (3, 32, 32):
            raise ValueError(
                f"expected uint8 images shaped (N, 3, 32, 32), got {images.dtype} {shape}"
            )
        if len(images) == 0:
            return torch.zeros(0, len(self.classes))
        with torch.inference_mode():
            logits = self.model(normalize(images.to(self.device)))
            return logits.softmax(dim=1).float().cpu()

    def answer(self, probabilities: torch.Tensor) -> tuple[str, dict[str, float]]:
        """The top class and every class's probability for one image's row."""
        values = [float(p) for p in probabilities.tolist()]
        top = max(range(len(values)), key=values.__getitem__)
        return self.classes[top], dict(zip(self.classes, values, strict=True))

    def classify_file(self, path: str | Path) -> FileAnswer:
        """One file's answer with what was done to it and its 32x32 pixels; never raises
        for a bad image (the answer's error says why in one line)."""
        import torch

        from .images import ImageError, load_image_array

        path = str(path)
        try:
            pixels = load_image_array(path)
        except ImageError as error:
            return FileAnswer(path, error=_one_line(error))
        tensor = torch.from_numpy(pixels.transpose(2, 0, 1).copy())
        top, table = self.answer(self.predict(tensor.unsqueeze(0))[0])
        return FileAnswer(path, top, table, note=describe_image(path), pixels=pixels)

    def classify_folder(
        self, folder: str | Path, *, recursive: bool = False, batch_size: int = 16
    ) -> Iterator[FileAnswer]:
        """Answers for every image file in a folder, a few at a time, in name order.

        A generator, so a caller (the app's thread worker) shows rows as they come and can
        stop between batches. A bad file gives an answer with its error; the rest go on.
        Raises FileNotFoundError or NotADirectoryError (one line) for a bad folder.
        """
        import torch

        from .images import ImageError, load_image_tensor

        for chunk in _chunks(image_files(folder, recursive=recursive), batch_size):
            answers: list[FileAnswer] = []
            good: list[tuple[int, torch.Tensor]] = []
            for path in chunk:
                try:
                    good.append((len(answers), load_image_tensor(path)))
                    answers.append(FileAnswer(str(path)))
                except ImageError as error:
                    answers.append(FileAnswer(str(path), error=_one_line(error)))
            if good:
                probabilities = self.predict(torch.stack([image for _, image in good]))
                for (index, _), row in zip(good, probabilities, strict=True):
                    top, table = self.answer(row)
                    answers[index] = FileAnswer(answers[index].path, top, table)
            yield from answers

    def predict_files(self, paths: Iterable[str | Path]) -> list[dict[str, Any]]:
        """One object per path, in order: {path, class, probabilities} or {path, error}.

        "path" is always valid UTF-8 text: bytes of a file name that are not UTF-8 are
        written as \\xNN (core.safe_files.printable_path), so the JSON can be printed.
        """
        import torch

        from .images import ImageError, load_image_tensor
        from .safe_files import printable_path

        paths = [str(p) for p in paths]
        shown = [printable_path(p) for p in paths]
        results: list[dict[str, Any]] = []
        good: list[tuple[int, torch.Tensor]] = []
        for index, path in enumerate(paths):
            try:
                good.append((index, load_image_tensor(path)))
                results.append({"path": shown[index]})
            except ImageError as error:
                results.append({"path": shown[index], "error": _one_line(error)})
        if good:
            probabilities = self.predict(torch.stack([image for _, image in good]))
            for (index, _), row in zip(good, probabilities, strict=True):
                top, table = self.answer(row)
                results[index] = {"path": shown[index], "class": top, "probabilities": table}
        return results


@dataclass
class FileAnswer:
    """What the model made of one file: its class and probabilities, or why it failed."""

    path: str
    label: str | None = None
    probabilities: dict[str, float] | None = None
    error: str | None = None
    note: str = ""  # what was done to the image to make it 32x32 RGB
    pixels: Any = field(default=None, repr=False)  # (32, 32, 3) uint8 numpy, when kept

    @property
    def confidence(self) -> float | None:
        if self.probabilities is None or self.label is None:
            return None
        return self.probabilities[self.label]


def image_files(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    """The files with an image suffix in a folder (and below, if recursive), sorted."""
    from .images import IMAGE_SUFFIXES

    folder = Path(folder).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def _chunks(items: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]


def describe_image(path: str | Path) -> str:
    """One line on what a file was and what was done to make it the network's 32x32 RGB:
    size and format, grayscale, transparency, 16-bit, animation, crop and resize."""
    from PIL import Image

    from .images import MAX_FILE_BYTES
    from .quiet import quiet_pillow
    from .safe_files import open_regular

    quiet_pillow()
    try:
        with open_regular(path, MAX_FILE_BYTES) as handle, Image.open(handle) as image:
            mode, (width, height) = image.mode, image.size
            fmt = image.format or "image"
            frames = int(getattr(image, "n_frames", 1) or 1)
            transparent = "transparency" in image.info
            orientation = image.getexif().get(0x0112, 1)
    except Exception:  # a note only; the load itself reports real errors
        return ""
    notes = [f"{width}x{height} {fmt} {mode}"]
    if orientation in (5, 6, 7, 8):
        notes.append("turned upright as its EXIF orientation says")
        width, height = height, width
    elif orientation in (2, 3, 4):
        notes.append("turned upright as its EXIF orientation says")
    if mode in ("1", "L"):
        notes.append("grayscale, copied to 3 channels")
    elif mode in ("LA", "RGBA", "PA", "La", "RGBa") or (mode == "P" and transparent):
        notes.append("transparency composited on white")
    elif mode.startswith("I;16") or mode == "I":
        notes.append("16-bit, scaled to 8 bits")
    elif mode == "F":
        notes.append("floating point, scaled to 8 bits")
    elif mode not in ("RGB", "P"):
        notes.append(f"{mode} converted to RGB")
    if frames > 1:
        notes.append(f"animated ({frames} frames), first frame used")
    if (width, height) != (32, 32):
        side = min(width, height)
        if width != height:
            notes.append(f"centre-cropped to {side}x{side}")
        notes.append("resized to 32x32")
    return "; ".join(notes)


def predict_files(
    paths: Sequence[str | Path],
    weights: str | Path | None = None,
    *,
    model: str | None = None,
    num_classes: int | None = None,
) -> list[dict[str, Any]]:
    """The `cnn-tui predict --json` array for these files (weights default: the shipped).

    A bad weights file raises WeightsError; a bad image gives an {path, error} object.
    """
    predictor = Predictor.from_weights(weights, model=model, num_classes=num_classes)
    return predictor.predict_files(paths)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
