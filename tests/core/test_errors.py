"""Every error the engine raises on purpose derives from one base, CnnTuiError, so a front
end tells a refusal (shown in one line) from a bug with one except clause."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import cnn_tui.core
from cnn_tui.core.errors import CnnTuiError
from cnn_tui.core.safe_files import FileRefused


def _core_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.iter_modules(cnn_tui.core.__path__, "cnn_tui.core."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_public_core_error_derives_from_cnn_tui_error():
    errors = [e for e in _core_exceptions() if not e.__name__.startswith("_")]
    assert len(errors) >= 10, errors  # the scan finds them
    assert [e.__name__ for e in errors if not issubclass(e, CnnTuiError)] == []


def test_errors_keep_their_second_base():
    from cnn_tui.core.config import ConfigError
    from cnn_tui.core.features import FeatureError
    from cnn_tui.core.kernels import KernelError

    assert all(issubclass(e, ValueError) for e in (ConfigError, FeatureError, KernelError))
    refused = FileRefused("not a regular file", "/x")
    assert isinstance(refused, OSError) and refused.filename == "/x" and str(refused)
