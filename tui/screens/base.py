"""The base of the app's own screens: how a screen reaches the session, and the two calls
the App makes on the screen shown."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from cnn_tui.tui.screens.mounting import SkipsStaleResizes
from cnn_tui.tui.session import Session, session_of
from textual.screen import Screen


class AppScreen(SkipsStaleResizes, Screen):
    """A screen that draws from the session and asks its work of it.

    The App calls `sync` when the session changed (a run ended, the engine loaded) and
    `build` once the first frame is on the terminal; a screen overrides what it needs.
    """

    @property
    def session(self) -> Session:
        return session_of(self.app)

    def sync(self) -> None:
        """Draw what changed in the session (nothing to draw by default)."""

    async def build(self) -> None:
        """Mount what the first frame did without (nothing by default)."""

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """Run callback on the UI thread (from a thread worker); quietly nothing if the app
        has gone meanwhile."""
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(callback, *args)
