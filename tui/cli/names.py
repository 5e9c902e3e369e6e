"""File names as a terminal shows them: relative to the current folder where they lie
below it, and shortened to fit a column without losing what tells them apart.

`cnn-tui predict` on an 80-column terminal used to cut every long path at its right end,
so two files in different folders with the same name both read `/home/me/pictures/…`.
The end of a path (its folder and name) is what a user reads: names are shortened from
the left, and where that would make two of them the same, from the middle, keeping the
first character that differs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

ELLIPSIS = "…"


def relative_name(path: str, cwd: str | None = None) -> str:
    """path relative to the current folder when it lies below it, else as given."""
    if not os.path.isabs(path):
        return path
    cwd = cwd if cwd is not None else os.getcwd()
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith(os.pardir) else relative


def shorten_left(text: str, width: int) -> str:
    """text, or its last width - 1 characters after an ellipsis when it is longer."""
    if len(text) <= width:
        return text
    return ELLIPSIS + text[len(text) - max(width - 1, 0) :]


def shorten_middle(text: str, width: int, keep: int) -> str:
    """text cut in the middle to width, keeping its first `keep` characters (where it
    differs from another name) and as much of its end as fits."""
    if len(text) <= width:
        return text
    head = text[: min(keep, max(width - 2, 0))]
    tail = width - len(head) - 1
    return head + ELLIPSIS + (text[len(text) - tail :] if tail > 0 else "")


def distinct_names(paths: Sequence[str], width: int, cwd: str | None = None) -> list[str]:
    """The paths as a column of at most width characters shows them, told apart.

    Relative to the current folder, then shortened from the left; a name that would then
    read the same as another's is shortened from the middle instead, keeping everything
    up to the first character where it differs from the others.
    """
    names = [relative_name(p, cwd) for p in paths]
    left = [shorten_left(name, width) for name in names]
    shown = []
    for name, short in zip(names, left, strict=True):
        clashes = [o for o, s in zip(names, left, strict=True) if s == short and o != name]
        if clashes:
            keep = max(_common_prefix(name, other) for other in clashes) + 1
            short = shorten_middle(name, width, keep)
        shown.append(short)
    return shown


def _common_prefix(a: str, b: str) -> int:
    return len(os.path.commonprefix([a, b]))
