"""Keep the C allocator's freed blocks for the next batch instead of the kernel's.

glibc serves a block above its mmap threshold (128 KiB at first) with fresh pages from the
kernel and hands them back when it is freed, and gives back the top of its heap beyond its
trim threshold. A training step of the book's Net at batch 64 allocates and frees several
MiB of activations and gradients (conv1's output alone is 4 MiB), so each step faulted in
about 1,700 fresh pages (ru_minflt), each one zeroed by the kernel on first touch: the
zero-fill of max pooling's backward was the slowest op of the profile. With both
thresholds high, a freed block stays in the heap and the next step reuses it: 1.3x
faster epochs at one thread, the same results (tests/bench/bench_speed.py). Peak memory
does not grow (the freed blocks are the ones the next step needs); the process keeps up
to TRIM_THRESHOLD of freed heap instead of returning it.

It is the whole process's setting (like torch's thread count), though one that changes no
result: only a process's set-up calls it, before any model runs (cnn-tui train, a detached
run, the app's engine). Elsewhere than glibc there is no mallopt, and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 1024 * 1024  # blocks below this come from the heap, and are reused
TRIM_THRESHOLD = 256 * 1024 * 1024  # free heap kept before any is returned to the system


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; False where there is no glibc mallopt."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl, macOS or Windows: no such setting
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
