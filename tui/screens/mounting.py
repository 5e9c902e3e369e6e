"""A screen closed before it mounted: Textual still runs its on_mount, on widgets that are gone.

A key on its way (escape, a screen key, a dialog's answer) can pop a screen in the same
moment it is pushed; its on_mount and ScreenResume handlers then run while its widgets are
being removed, and a query_one there ended the app (found by tui-monkey: NoMatches
'#layer-table' on the Model screen). Such a screen is in no mode's screen stack any more.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol, cast, runtime_checkable

from textual import events
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.screen import Screen


@runtime_checkable
class MayBeClosing(Protocol):
    """An app that says when it has been asked to exit (the App's `closing`)."""

    @property
    def closing(self) -> bool: ...


def closed_before_mounting(screen: Screen) -> bool:
    """True when the screen will not be shown: it is in no screen stack (it was popped),
    or the app is closing (a screen opened as the app quits is closed at once: tui-monkey
    seed 321 met a Runs screen whose widgets were already being removed)."""
    app = screen.app
    if not app.is_running or (isinstance(app, MayBeClosing) and app.closing):
        return True
    return screen not in stacked_screens(app)


def stacked_screens(app: App[Any]) -> list[Screen[Any]]:
    """The screens in every mode's screen stack (a mode not yet opened has none)."""
    screens: list[Screen[Any]] = []
    for mode in dict.fromkeys((app.DEFAULT_MODE, *app.MODES)):
        with contextlib.suppress(KeyError):
            screens.extend(app.get_screen_stack(mode))
    return screens


class SkipsStaleResizes:
    """For every screen of the app (a Screen first in the bases after this): a Resize whose
    size is no longer the app's is skipped.

    The App sends each screen the terminal's size after a change; when the UI thread falls
    behind (a loaded machine, a window dragged through many sizes), screens were laid out,
    their breakpoint classes restyled and the screens beneath laid out again, for sizes the
    window had already left, one after the other: tui-monkey saw the app do nothing else for
    minutes (seeds 404, 414). A newer Resize always follows a stale one."""

    async def _on_resize(self, event: events.Resize) -> None:
        screen = cast(Screen[Any], self)
        if event.size != screen.app.size:
            event.prevent_default()  # Screen's own _on_resize (the layout) is not run
            event.stop()


class DismissOnce(SkipsStaleResizes):
    """For dialogs (a ModalScreen first in the bases after this): a dismissal of a dialog
    that is no longer the screen on top does nothing.

    Textual's dismiss pops whatever screen is on top. Two gestures on their way (two Enters
    in the command palette, Enter then Escape) dismissed a dialog twice, and the second
    popped the screen under it, or ended the app with `ScreenStackError: Can't pop screen`
    (found by tui-monkey, seeds 408 and 417)."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        screen = cast(Screen[Any], self)
        if screen.app.screen is not screen:
            return AwaitComplete()
        return super().dismiss(result)  # type: ignore[misc]
