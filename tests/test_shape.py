"""The code stays in pieces a reader can hold: no module in core/ or tui/ over 500 lines and
no function over 80 (issue 10's measures).

Read from the source with ast, like tests/test_layers.py: nothing is imported. A function's
length runs from its `def` line to its last line; a nested function's lines count in its
parent's, and it is measured on its own as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("core", "tui")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    return [path for folder in FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))]


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def long_modules(limit: int = MAX_MODULE_LINES) -> list[str]:
    """'path: N lines' for each module longer than limit."""
    found = []
    for path in _sources():
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit:
            found.append(f"{_name(path)}: {count} lines")
    return found


def long_functions(limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """'path:line name: N lines' for each function or method longer than limit."""
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                count = (node.end_lineno or node.lineno) - node.lineno + 1
                if count > limit:
                    found.append(f"{_name(path)}:{node.lineno} {node.name}: {count} lines")
    return found


def test_the_measures_see_the_project():
    """The walk finds the modules and functions it is meant to measure."""
    names = [_name(path) for path in _sources()]
    assert {name.split("/")[0] for name in names} == set(FOLDERS) and len(names) > 20
    assert long_modules(limit=0) and long_functions(limit=0)


def test_no_module_is_over_500_lines():
    assert long_modules() == []


def test_no_function_is_over_80_lines():
    assert long_functions() == []
