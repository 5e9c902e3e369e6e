"""A process's slow imports (torch, torch._dynamo) without the garbage collections that
their millions of new objects set off.

Used where a process imports torch to train: cnn-tui train, a detached trainer, and the
app's engine worker (where a full collection, holding Python's lock, also stalls the UI).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def import_for_training() -> None:
    """The slow imports of a training process, with the garbage collector paused: torch,
    torch._dynamo (which a torch optimizer imports as it is made: about a second), ours."""
    with collector_paused("torch._dynamo"):
        import torch._dynamo  # noqa: F401
        import torch.nn.functional  # noqa: F401
        import torch.optim  # noqa: F401
        from cnn_tui.core import evaluate, models, restore  # noqa: F401


@contextmanager
def collector_paused(module: str) -> Iterator[None]:
    """No garbage collection while the block imports module, then the imported objects
    frozen.

    torch and torch._dynamo make millions of objects, and the full collections that their
    numbers set off walk all of them: five or six during the imports, 0.65 s in all on a
    busy 2-core machine, and each later one 0.2 s. Imports leave next to no cyclic garbage,
    so nothing is lost by not looking; once frozen (gc.freeze), the objects are out of
    every later collection's way. The collector's state is the whole process's, but no
    result depends on it, and the collector is on again after the block. A process that
    has the module already (a test calling main) is left as it is.
    """
    if module in sys.modules:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
