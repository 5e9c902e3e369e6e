"""Opening a user's file only when it is a regular file, and reading no more than a bound.

A FIFO named `photo.png` blocks an `open` forever, `/dev/zero` never ends, a symlink loop
or a broken link raise confusing errors: every file the program reads on a user's behalf
(images, data folders, the decode cache, weights, JSON beside them) goes through
`open_regular`, which

- stats the path first (os.stat follows symlinks: a link to a regular file is fine) and
  refuses anything but a regular file, or one larger than the caller's bound, with one line;
- then opens it with O_NONBLOCK (so a FIFO swapped in after the stat cannot block the open)
  and checks with fstat that what it opened is that regular file;
- returns a reader that ends at the bound even if the file grows while it is read.

Refusals raise FileRefused, an OSError whose str() is the one-line reason without the path
(callers add the path where their message needs it).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import BinaryIO

from .errors import CnnTuiError

MAX_JSON_BYTES = 16 * 1024 * 1024  # a config, state or sidecar file is a few KB


class FileRefused(OSError, CnnTuiError):
    """A file that will not be read; str() is the reason in one line (no path)."""

    def __init__(self, reason: str, path: str | os.PathLike[str] | None = None, code: int = 0):
        super().__init__(code or errno.EINVAL, reason)
        self.reason = reason
        self.filename = os.fspath(path) if path is not None else None

    def __str__(self) -> str:
        return self.reason

    @property
    def missing(self) -> bool:
        """No file at all (nothing there, or a link to nothing)."""
        return self.errno == errno.ENOENT


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def describe_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MB"


def regular_stat(path: str | os.PathLike[str], max_bytes: int | None = None) -> os.stat_result:
    """The stat of a regular file (following symlinks), or FileRefused saying why not."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileRefused("no such file (a broken symbolic link)", path, errno.ENOENT) from None
        raise FileRefused("no such file", path, errno.ENOENT) from None
    except OSError as error:
        raise FileRefused(_reason(error), path, error.errno or 0) from None
    except ValueError as error:  # a NUL in the name
        raise FileRefused(f"not a usable file name ({error})", path) from None
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(f"not a regular file ({kind_of(info.st_mode)})", path)
    if max_bytes is not None and info.st_size > max_bytes:
        raise FileRefused(
            f"too large ({describe_size(info.st_size)}; at most {describe_size(max_bytes)})", path
        )
    return info


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether path is (a link to) a regular file; never raises."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def open_regular(path: str | os.PathLike[str], max_bytes: int) -> BinaryIO:
    """A binary reader of a regular file of at most max_bytes, or FileRefused.

    Reads end at max_bytes even if the file grows after the checks; the reader seeks.
    """
    regular_stat(path, max_bytes)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise FileRefused(_reason(error), path, error.errno or 0) from None
    try:
        info = os.fstat(fd)  # what was opened, not what the name pointed at a moment ago
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"not a regular file ({kind_of(info.st_mode)})", path)
        if info.st_size > max_bytes:
            size = describe_size(info.st_size)
            raise FileRefused(f"too large ({size}; at most {describe_size(max_bytes)})", path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        reader = io.BufferedReader(_Bounded(fd, max_bytes, os.fspath(path)))
    except BaseException:
        os.close(fd)
        raise
    return reader


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The whole of a regular file of at most max_bytes, or FileRefused."""
    with open_regular(path, max_bytes) as handle:
        return handle.read()


def read_text_regular(path: str | os.PathLike[str], max_bytes: int = MAX_JSON_BYTES) -> str:
    """A regular text file (UTF-8) of at most max_bytes; FileRefused, or ValueError for
    text that is not UTF-8."""
    return read_regular(path, max_bytes).decode("utf-8")


def printable_path(path: str | os.PathLike[str]) -> str:
    """A file name as text that is always valid UTF-8: bytes of the name that are not UTF-8
    are written as \\xNN (Python's backslashreplace), e.g. b'caf\\xe9.png' -> 'caf\\\\xe9.png'."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a symbolic link loop (too many levels of symbolic links)"
    if error.errno == errno.ENOENT:
        return "no such file"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.ENOTDIR:
        return "no such file (a part of the path is not a folder)"
    if error.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return f"cannot be read ({error.strerror or error})"


class _Bounded(io.RawIOBase):
    """A file descriptor read no further than `limit` bytes from its start."""

    def __init__(self, fd: int, limit: int, name: str | bytes) -> None:
        self._fd = fd
        self._limit = limit
        self._position = 0  # kept here: no lseek system call for every read
        self.name = name  # BufferedReader.name; Pillow and numpy show it

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer) -> int:  # a writable buffer
        left = self._limit - self._position
        if left <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        data = os.read(self._fd, min(len(view), left))
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_END:  # the end is the bound where the file is longer
            end = min(os.fstat(self._fd).st_size, self._limit)
            self._position = os.lseek(self._fd, end + offset, os.SEEK_SET)
        else:
            self._position = os.lseek(self._fd, offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                super().close()


__all__ = [
    "MAX_JSON_BYTES",
    "FileRefused",
    "describe_size",
    "format_size",
    "is_regular",
    "kind_of",
    "open_regular",
    "printable_path",
    "read_bytes",
    "read_regular",
    "read_text",
    "read_text_regular",
    "regular_stat",
]

# Shorter names for the same functions.
read_bytes = read_regular
read_text = read_text_regular
format_size = describe_size
