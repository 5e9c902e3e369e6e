"""Any image a user has becomes 32x32 RGB, and bad files give one clear ImageError."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from cnn_tui.core.images import (
    MAX_PIXELS,
    ImageError,
    load_image_array,
    load_image_tensor,
    open_image,
)
from PIL import Image

WHITE = (255, 255, 255)


def _centre(array: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in array[16, 16])


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 3) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _check(array: np.ndarray) -> None:
    assert array.shape == (32, 32, 3) and array.dtype == np.uint8


def test_rgb_png_keeps_its_pixels(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(tmp_path / "a.png")
    assert np.array_equal(load_image_array(tmp_path / "a.png"), pixels)


def test_tensor_is_channels_first_uint8(tmp_path):
    Image.new("RGB", (32, 32), (10, 20, 30)).save(tmp_path / "a.png")
    tensor = load_image_tensor(tmp_path / "a.png")
    assert tensor.shape == (3, 32, 32) and tensor.dtype == torch.uint8
    assert tensor[:, 5, 5].tolist() == [10, 20, 30]


def test_rgba_transparent_is_white_and_opaque_keeps_colour(tmp_path):
    image = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 32, 16))
    image.save(tmp_path / "a.png")
    array = load_image_array(tmp_path / "a.png")
    _check(array)
    assert tuple(array[4, 16]) == (0, 0, 255)
    assert tuple(array[28, 16]) == WHITE


def test_la_transparent_is_white(tmp_path):
    Image.new("LA", (40, 40), (0, 0)).save(tmp_path / "a.png")
    array = load_image_array(tmp_path / "a.png")
    _check(array)
    assert _centre(array) == WHITE


def test_greyscale_becomes_three_equal_channels(tmp_path):
    Image.new("L", (32, 32), 77).save(tmp_path / "a.png")
    array = load_image_array(tmp_path / "a.png")
    _check(array)
    assert _centre(array) == (77, 77, 77)


def test_palette_with_transparency(tmp_path):
    image = Image.new("P", (32, 32), 0)
    image.putpalette([0, 255, 0] + [0, 0, 0] * 255)  # index 0 is green
    image.paste(1, (0, 0, 32, 16))  # index 1 (black) on the top half
    image.save(tmp_path / "a.png", transparency=0)  # green is transparent
    array = load_image_array(tmp_path / "a.png")
    _check(array)
    assert tuple(array[4, 16]) == (0, 0, 0)
    assert tuple(array[28, 16]) == WHITE


def test_sixteen_bit_greyscale_is_scaled_to_eight_bits(tmp_path):
    pixels = np.full((32, 32), 65535, dtype=np.uint16)
    pixels[:16] = 32768
    Image.fromarray(pixels).save(tmp_path / "a.png")  # 16-bit greyscale
    with Image.open(tmp_path / "a.png") as check:
        assert check.mode.startswith("I")
    array = load_image_array(tmp_path / "a.png")
    _check(array)
    assert tuple(array[28, 16]) == WHITE
    assert _close(tuple(array[4, 16]), (127, 127, 127), 2)


def test_float_image(tmp_path):
    pixels = np.full((32, 32), 200.0, dtype=np.float32)
    Image.fromarray(pixels, "F").save(tmp_path / "a.tiff")
    array = load_image_array(tmp_path / "a.tiff")
    _check(array)
    assert _centre(array) == (200, 200, 200)


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (32, 32), (0, 0, 0, 0)).save(tmp_path / "a.jpg")
    array = load_image_array(tmp_path / "a.jpg")
    _check(array)
    assert _close(_centre(array), WHITE)


def test_animated_gif_gives_its_first_frame(tmp_path):
    red = Image.new("RGB", (32, 32), (255, 0, 0))
    blue = Image.new("RGB", (32, 32), (0, 0, 255))
    red.save(tmp_path / "a.gif", save_all=True, append_images=[blue], duration=100, loop=0)
    with Image.open(tmp_path / "a.gif") as check:
        assert check.n_frames == 2
    array = load_image_array(tmp_path / "a.gif")
    _check(array)
    assert _centre(array) == (255, 0, 0)


def test_non_square_is_centre_cropped(tmp_path):
    image = Image.new("RGB", (400, 200), (255, 0, 0))
    image.paste((0, 255, 0), (100, 0, 300, 200))  # the centre square is green
    image.save(tmp_path / "wide.png")
    array = load_image_array(tmp_path / "wide.png")
    _check(array)
    assert (array == np.array([0, 255, 0], dtype=np.uint8)).all()


def test_big_jpeg_is_reduced(tmp_path):
    Image.new("RGB", (3000, 2000), (30, 60, 90)).save(tmp_path / "big.jpg", quality=95)
    array = load_image_array(tmp_path / "big.jpg")
    _check(array)
    assert _close(_centre(array), (30, 60, 90))


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width x height, with no real pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)


@pytest.mark.parametrize("side", [20000, 9000])
def test_huge_image_is_refused_from_its_header(tmp_path, side):
    assert side * side > MAX_PIXELS
    path = tmp_path / "bomb.png"
    _png_header_only(path, side, side)
    assert path.stat().st_size < 1000
    with pytest.raises(ImageError, match="too large"):
        open_image(path)


def test_truncated_jpeg(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or damaged"):
        load_image_array(tmp_path / "cut.jpg")


def test_truncated_png(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError):
        load_image_array(tmp_path / "cut.png")


@pytest.mark.parametrize(
    "content", [b"hello, this is text\n", b"", b"\x00" * 100, b"\xff\xd8\xff garbage"]
)
def test_non_image_files(tmp_path, content):
    path = tmp_path / "notes.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageError) as caught:
        load_image_array(path)
    message = str(caught.value)
    assert message and "\n" not in message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        open_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="folder"):
        open_image(tmp_path)
