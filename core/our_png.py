"""The PNGs cnn-tui writes for a user (`attack`'s adversarial image, `predict --explain`'s
overlay): 8-bit RGB, written atomically, and marked as ours in their Software text, so that
a later run may replace its own file but never a picture cnn-tui did not write."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import CnnTuiError

MARK = "cnn-tui"  # every Software text we write starts with this word


class PngFileError(CnnTuiError):
    """A PNG cannot or may not be written where asked; the message says why."""


def check_writable(out: Path, option: str = "--out") -> None:
    """Refuse, before any work, an `out` that is a folder, in a missing folder, or a file
    cnn-tui did not write (a user's own picture is never replaced); option names the
    command-line option that chose `out`."""
    if out.is_dir():
        raise PngFileError(f"{out} is a folder; give a file name such as {out / 'out.png'}")
    if not out.parent.is_dir():
        raise PngFileError(f"cannot write {out}: the folder {out.parent} does not exist")
    if os.path.lexists(out) and not written_by_cnn_tui(out):
        raise PngFileError(
            f"{out} exists already (not written by cnn-tui); remove it or give another {option}"
        )


def written_by_cnn_tui(path: Path) -> bool:
    """Whether path is a PNG that cnn-tui wrote (its Software text says so)."""
    from PIL import Image

    from .images import MAX_FILE_BYTES
    from .safe_files import FileRefused, open_regular

    try:
        with open_regular(path, MAX_FILE_BYTES) as handle, Image.open(handle) as image:
            software = str(image.info.get("Software", ""))
            return image.format == "PNG" and software.split(" ")[0] == MARK
    except (FileRefused, OSError, ValueError, SyntaxError):
        return False


def write_png(out: Path, pixels: Any, software: str) -> Path:
    """Write (H, W, 3) uint8 pixels as an 8-bit RGB PNG, atomically, its Software text
    `software` (which starts with MARK: a file we may replace later)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from .atomic import write_atomic

    assert software.split(" ")[0] == MARK, software
    info = PngInfo()
    info.add_text("Software", software)
    image = Image.fromarray(pixels, "RGB")
    try:
        return write_atomic(out, lambda handle: image.save(handle, "PNG", pnginfo=info))
    except OSError as error:
        raise PngFileError(f"cannot write {out}: {error.strerror or error}") from None
