"""Helpers for the tests that run the `cnn-tui` console script as a user does (no tests here).

Where the script is, a way to run it in a pipe or on a pseudo-terminal, and the one error
line a failed command writes.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("cnn-tui")
needs_cli = pytest.mark.skipif(
    not CLI.exists(), reason=f"the console script is not installed at {CLI} (pip install -e .)"
)
# Terminal escapes: CSI sequences (colours, cursor moves) and OSC ones (titles, links).
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run(
    *args: object, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the console script in a pipe; env defaults to this test's (isolated) environment."""
    return subprocess.run(
        [str(CLI), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def error_line(stderr: str) -> str:
    """The one line a failed command writes to stderr (and nothing else there)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[:2000]
    assert lines[0].startswith("cnn-tui: error: "), lines[0][:2000]
    return lines[0]


def on_a_terminal(
    *args: object,
    rows: int = 40,
    columns: int = 200,
    timeout: float = 90,
    cwd: str | os.PathLike[str] | None = None,
) -> tuple[int, str]:
    """Run the console script on a pseudo-terminal (Rich draws there), in cwd (default:
    this one); its status and all it wrote, escapes included. Skips the test where there
    are no pseudo-terminals."""
    pty = pytest.importorskip("pty")
    import fcntl
    import termios

    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(
        [str(CLI), *map(str, args)],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=cwd,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)},
        close_fds=True,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(parent, 65536)
        except OSError:  # the other side closed
            break
        if not data:
            break
        chunks.append(data)
    status = process.wait(timeout=timeout)
    os.close(parent)
    return status, b"".join(chunks).decode("utf-8", "replace")
