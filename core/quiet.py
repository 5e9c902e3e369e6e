"""Library warnings a user should not see, filtered once per process and never unfiltered.

`warnings.catch_warnings()` saves the process's whole filter list and puts it back on
exit: in a worker thread it can drop a filter that another thread added meanwhile, or leave
its "ignore" in force while another thread runs a model. The app loads images and weights
in worker threads while a run trains, so the filters are added once, the first time they
are needed, and stay.
"""

from __future__ import annotations

import functools
import warnings


@functools.cache
def quiet_pillow() -> None:
    """Pillow's warnings on odd files (a decompression bomb, odd EXIF, palette transparency).

    Every image Pillow calls a possible decompression bomb (over Image.MAX_IMAGE_PIXELS,
    89 million) is over images.MAX_PIXELS (64 million) too, and is refused in one line.
    """
    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    warnings.filterwarnings("ignore", module=r"PIL\.")


@functools.cache
def quiet_torch_load() -> None:
    """torch.load's notes on old files ("Detected pickle protocol 4", "Couldn't retrieve
    source code ...", endianness): noise to a user, whose file is checked by core.weights
    anyway. torch warns from its unpickler, or with stacklevel=2, so a note is attributed to
    torch.serialization, torch._weights_only_unpickler or the caller of torch.load."""
    warnings.filterwarnings("ignore", module=r"torch\.(serialization|_weights_only_unpickler)$")
    warnings.filterwarnings("ignore", module=r"cnn_tui\.core\.weights$")
