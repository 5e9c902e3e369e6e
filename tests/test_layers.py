"""The layers stay apart: core/ (the engine) prints nothing and knows no front end, and no
project module imports, directly or round a loop, one that imports it back.

Read from the source with ast (no imports run), so a lazy import inside a function counts
as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"core": "cnn_tui.core", "tui": "cnn_tui.tui", "weights": "cnn_tui.weights"}
FRONT_END_ONLY = ("rich", "argparse", "textual")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts[0] = PACKAGES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for folder in PACKAGES
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def _imports(name: str, path: Path) -> set[str]:
    """Every module `path` imports, absolute (relative imports resolved against `name`)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {other for other in _imports(name, path) if other in modules and other != name}
        for name, path in modules.items()
    }


def test_the_graph_is_read_from_the_project():
    graph = _graph()
    assert "cnn_tui.core.train" in graph and "cnn_tui.tui.cli.parser" in graph
    assert "cnn_tui.core.config" in graph["cnn_tui.tui.cli.parser"]
    assert "cnn_tui.core.runs" in graph["cnn_tui.core.watch"]  # a relative import, resolved


def test_core_imports_no_front_end_library():
    offending = []
    for name, path in _modules().items():
        if not name.startswith("cnn_tui.core"):
            continue
        for imported in _imports(name, path):
            top = imported.split(".")[0]
            if top in FRONT_END_ONLY or imported.startswith("cnn_tui.tui"):
                offending.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not offending, offending


def test_the_command_line_imports_no_textual():
    offending = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for name, path in _modules().items()
        if name.startswith("cnn_tui.tui.cli")
        for imported in _imports(name, path)
        if imported.split(".")[0] == "textual" or imported.startswith("cnn_tui.tui.app")
    ]
    assert not offending, offending


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules, as a list of names, or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                stack.pop()
                continue
            if nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_no_import_cycle_among_project_modules():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_tests_import_their_helpers_as_pytest_puts_them_on_the_path() -> None:
    """`from tests.x import` works under `python -m pytest` (the current folder is on the
    path) but not under plain `pytest`, the README's and CI's command: a clean checkout's
    CI failed to collect three files. Helpers are imported by their own name."""
    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            wrong += [
                f"{path.name}:{node.lineno}"
                for n in names
                if n == "tests" or n.startswith("tests.")
            ]
    assert wrong == []
