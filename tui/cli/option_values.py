"""An option's value checked by core's own check, so the command line refuses a value with
the words the app uses (core.refused.ConfigError becomes argparse's one-line error)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from cnn_tui.core.refused import ConfigError


def checked(check: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """argparse's `type` for an option whose value core's check(text) validates."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name
    return convert
