"""Image files the Model and Predict tests make: good ones of every kind, and bad ones.

No tests here; test modules import these helpers.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def pixels(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def write_png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height, with almost no pixel data (a 'bomb')."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    return path


def write_odd_images(folder: Path) -> dict[str, Path]:
    """Images the network can still read after a conversion: name -> path.

    grayscale, alpha, 16-bit, animated, a wide photo, and a plain 32x32 RGB.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(pixels(48, 64))
    made = {
        "plain": (Image.fromarray(pixels(32, 32, seed=7)), "plain.png"),
        "grayscale": (rgb.convert("L"), "gray.png"),
        "alpha": (rgb.convert("RGBA"), "alpha.png"),
        "photo": (Image.fromarray(pixels(200, 300, seed=1)), "photo.jpg"),
    }
    out = {}
    for key, (image, name) in made.items():
        image.save(folder / name)
        out[key] = folder / name
    sixteen = Image.fromarray(np.random.default_rng(3).integers(0, 65535, (40, 30), np.uint16))
    sixteen.save(folder / "sixteen.png")
    out["16-bit"] = folder / "sixteen.png"
    frames = [Image.fromarray(pixels(32, 32, seed=s)).convert("P") for s in (4, 5, 6)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    out["animated"] = folder / "anim.gif"
    return out


def write_bad_images(folder: Path) -> dict[str, Path]:
    """Files that are refused: not an image, truncated, huge, empty: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.jpg").write_text("hello, this is text\n")
    Image.fromarray(pixels(64, 64)).save(folder / "full.jpg", quality=90)
    data = (folder / "full.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    (folder / "full.jpg").unlink()
    write_png_header_only(folder / "huge.png", 20000, 20000)
    (folder / "empty.png").write_bytes(b"")
    return {
        "not an image": folder / "notes.jpg",
        "truncated": folder / "cut.jpg",
        "huge": folder / "huge.png",
        "empty": folder / "empty.png",
    }
