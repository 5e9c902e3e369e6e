"""How a refused setting is told: ConfigError, and a refused value echoed in a short line.

Apart from config.py so that the settings it validates in their own modules (the model's
architecture, core/architecture.py) refuse with the same error and words, without an
import loop.
"""

from __future__ import annotations

from typing import Any

from .errors import CnnTuiError

SHOWN = 20  # characters of a refused value that an error message echoes


class ConfigError(CnnTuiError, ValueError):
    """A setting that cannot be used; the message names the setting and why."""


def shown(value: Any, quote: bool = True) -> str:
    """A refused value as an error message echoes it (a string quoted, unless quote is
    False): a pasted 5,000-digit number becomes its first few characters and a count, so
    the message stays one short line."""
    if isinstance(value, str) and quote:
        if len(value) <= SHOWN:
            return repr(value)
        return f"{value[:SHOWN] + '…'!r} ({len(value):,} characters)"
    try:
        text = str(value)
    except ValueError:  # an int past Python's digit limit for str()
        return f"a number of {value.bit_length():,} bits"
    if len(text) <= SHOWN:
        return text
    return f"{text[:SHOWN]}… ({len(text):,} characters)"
