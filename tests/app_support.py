"""Helpers for the app's Pilot and snapshot tests (no tests here).

Made-up data in memory, a way to wait for the App's state, and the text a screen shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import RichLog, Static


def tiny_dataset(n_train: int = 64, n_val: int = 32, seed: int = 0, name: str | None = None):
    """A two-class DataSet of random uint8 images: nothing decoded, nothing downloaded."""
    import torch
    from cnn_tui.core.data import DataSet, Split

    generator = torch.Generator().manual_seed(seed)

    def split(count: int) -> Split:
        images = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)
        labels = torch.randint(0, 2, (count,), generator=generator)
        return Split(images, labels)

    return DataSet(
        name or f"made-up test data ({n_train} train / {n_val} val)",
        "memory",
        ["airplane", "bird"],
        split(n_train),
        split(n_val),
        "memory",
    )


def options(tmp_path, **changes):
    """App options as the console script gives them, with runs in tmp_path."""
    from cnn_tui.tui.state import AppOptions

    return AppOptions(runs=str(tmp_path / "runs"), **changes)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until condition() holds; fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        await pilot.pause(0.02)


async def ready(pilot: Pilot) -> None:
    """Wait until torch is imported and the Train screen has its form and charts."""
    app = pilot.app
    await wait_for(
        pilot, lambda: app.session.engine_state == "ready" and getattr(app.screen, "built", 1)
    )
    await pilot.pause()


def static_text(pilot: Pilot, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


def log_text(pilot: Pilot) -> str:
    log = pilot.app.screen.query_one("#log", RichLog)
    return "\n".join(line.text for line in log.lines)


async def burst(pilot: Pilot, text: str) -> None:
    """Keys that arrive in one read, as a quick typist's do over a slow SSH link (or tmux
    send-keys of a whole string): all posted to the app before it handles the first, then
    handled. pilot.press waits for each key's effect before the next. "\r" is enter."""
    from textual import events
    from textual.keys import _character_to_key

    for character in text:
        key = "enter" if character == "\r" else _character_to_key(character)
        pilot.app.post_message(events.Key(key, character))
    await pilot.pause()
    await pilot.pause()
