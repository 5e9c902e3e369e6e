"""Turning any image file a user has into the 32x32 RGB the network reads.

Any size or mode is accepted: alpha is composited on white, 16-bit and float images are
scaled to 8 bits, animations give their first frame, and a non-square picture is centre-
cropped to a square before it is resized; a photo's EXIF orientation is applied first,
so a picture taken with the camera turned is seen upright. Huge images are refused from
their header, before any pixel is decoded.

Only regular files are opened (core.safe_files): a named pipe, a device, a folder, a broken
link or a link loop named like an image gets one line instead of a hang, and a file over
MAX_FILE_BYTES is refused before it is read.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import CnnTuiError

MAX_PIXELS = 64_000_000  # 8000x8000; a 20000x20000 "image" is refused before decoding
# 64 MB: several times the largest photo a phone or camera writes as JPEG, PNG or WebP
# (a 100-megapixel JPEG is 30-50 MB) and an uncompressed 8-bit RGB BMP/TIFF up to about
# 4,600x4,600, while the network sees 32x32; larger files are refused before any read,
# so a hostile or mistaken file (a disk image named .png) costs nothing.
MAX_FILE_BYTES = 64 * 1024 * 1024
SIZE = 32
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}


class ImageError(CnnTuiError):
    """The file cannot be used as an image; the message says why in one line."""


def open_image(path: str | Path):
    """Open and fully decode an image as an RGB PIL image of its own size."""
    from PIL import Image, UnidentifiedImageError

    from .quiet import quiet_pillow
    from .safe_files import FileRefused, open_regular

    quiet_pillow()

    try:
        handle = open_regular(path, MAX_FILE_BYTES)
    except FileRefused as error:
        if "(a folder)" in str(error):
            raise ImageError("is a folder, not an image") from None
        raise ImageError(str(error)) from None
    try:
        with handle:
            image = Image.open(handle)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"image too large ({width}x{height} pixels; at most {MAX_PIXELS:,})"
                )
            if width < 1 or height < 1:
                raise ImageError("image has no pixels")
            image.seek(0)  # first frame of an animation
            if image.format == "JPEG":
                image.draft("RGB", (SIZE * 4, SIZE * 4))  # decode big JPEGs at a reduced scale
            image.load()
            return _to_rgb(_upright(image))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("not an image file (or a format Pillow cannot read)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow refuses the largest images in Image.open itself, before we see their size.
        size = re.search(r"\((\d+) pixels\)", str(error))
        pixels = f"{int(size.group(1)):,} pixels; " if size else ""
        raise ImageError(f"image too large ({pixels}at most {MAX_PIXELS:,})") from None
    except OSError as error:
        text = str(error)
        if "truncated" in text or "broken data stream" in text:
            raise ImageError("truncated or damaged image file") from None
        raise ImageError(f"cannot read image: {error.strerror or text}") from None
    except (ValueError, SyntaxError, EOFError, IndexError, TypeError) as error:
        raise ImageError(f"damaged image file ({error})") from None
    except MemoryError:
        raise ImageError("image too large to decode in memory") from None


def _upright(image):
    """The image turned as its EXIF orientation says (a photo taken with the camera turned);
    an orientation tag that cannot be read leaves the image as stored."""
    import struct

    from PIL import ImageOps

    try:
        if image.getexif().get(0x0112, 1) not in range(2, 9):  # 1: stored upright
            return image  # (exif_transpose would copy it: 15% of a small JPEG's decode)
        return ImageOps.exif_transpose(image)
    except (ValueError, SyntaxError, struct.error, KeyError, TypeError, OSError):
        return image


def _to_rgb(image):
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        array = np.clip(array / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(array, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def to_32(image):
    """Centre-crop a PIL image to a square and resize it to 32x32."""
    from PIL import Image

    width, height = image.size
    if (width, height) != (SIZE, SIZE):
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        image = image.resize((SIZE, SIZE), Image.Resampling.BICUBIC, reducing_gap=3.0)
    return image


def load_image_array(path: str | Path):
    """An image file as a (32, 32, 3) uint8 numpy array."""
    import numpy as np

    return np.asarray(to_32(open_image(path)), dtype=np.uint8)


def load_image_tensor(path: str | Path):
    """An image file as a (3, 32, 32) uint8 tensor."""
    import torch

    return torch.from_numpy(load_image_array(path).transpose(2, 0, 1).copy())
