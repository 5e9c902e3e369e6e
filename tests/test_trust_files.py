"""Hostile files (issue 9, items 8, 11 and parts of 14): only regular files are opened,
every read of a user's file is bounded, a damaged decode cache is rebuilt, and odd image
folders and file names get one clear line.

The corpus: a FIFO, /dev/zero, a symlink loop, a broken symlink and a folder, each named
like an image. Every test here runs under a short timeout, so a hang fails it instead of
hanging the suite.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("cnn-tui")
needs_cli = pytest.mark.skipif(
    not CLI.exists(), reason=f"the console script is not installed at {CLI} (pip install -e .)"
)
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")


def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, the words its refusal must hold), every path named like an image."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "fifo.png")
    os.symlink("/dev/zero", folder / "zero.png")
    os.symlink("loop-b.png", folder / "loop-a.png")
    os.symlink("loop-a.png", folder / "loop-b.png")
    os.symlink("nowhere.png", folder / "broken.png")
    (folder / "dir.png").mkdir()
    return {
        "fifo": (folder / "fifo.png", "not a regular file (a named pipe)"),
        "/dev/zero": (folder / "zero.png", "not a regular file (a character device)"),
        "symlink loop": (folder / "loop-a.png", "symbolic link loop"),
        "broken symlink": (folder / "broken.png", "broken symbolic link"),
        "folder": (folder / "dir.png", "a folder"),
    }


# ---- the helper ---------------------------------------------------------------------------


@posix_only
@pytest.mark.timeout(20)
def test_open_regular_refuses_every_special_file_with_one_line(tmp_path):
    from cnn_tui.core.safe_files import FileRefused, open_regular

    for name, (path, words) in hostile_files(tmp_path).items():
        with pytest.raises(FileRefused) as caught:
            open_regular(path, 1024)
        assert words in str(caught.value), name
        assert "\n" not in str(caught.value)
    with pytest.raises(FileRefused, match="no such file"):
        open_regular(tmp_path / "missing.png", 1024)


@pytest.mark.timeout(20)
def test_open_regular_bounds_the_read(tmp_path):
    from cnn_tui.core.safe_files import FileRefused, open_regular, read_regular

    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 100)
    assert read_regular(small, 100) == b"x" * 100
    with pytest.raises(FileRefused, match=r"too large \(100 bytes; at most 99 bytes\)"):
        read_regular(small, 99)
    # a file that grows after it was opened is read no further than the bound
    with open_regular(small, 150) as handle:
        with open(small, "ab") as grow:
            grow.write(b"y" * 1000)
        assert len(handle.read()) == 150
        handle.seek(140)
        assert handle.read() == b"y" * 10
