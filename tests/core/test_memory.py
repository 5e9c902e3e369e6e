"""core/memory.py: the allocator setting a training process makes at its start."""

from __future__ import annotations

import ctypes.util
import platform

from cnn_tui.core.memory import keep_freed_memory


def test_keep_freed_memory_is_set_on_glibc_and_harmless_elsewhere() -> None:
    set_it = keep_freed_memory()
    assert keep_freed_memory() == set_it  # a second call (a second run) changes nothing
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert ctypes.util.find_library("c") and set_it
