"""A screen closed before it mounted: Textual still runs its on_mount, on widgets that are gone.

A key on its way (escape, a screen key, a dialog's answer) can pop a screen in the same
moment it is pushed; its on_mount and ScreenResume handlers then run while its widgets are
being removed, and a query_one there ended the app (found by tui-monkey: NoMatches
'#layer-table' on the Model screen). Such a screen is in no mode's screen stack any more.
"""

from __future__ import annotations

from typing import Any, Protocol, cast, runtime_checkable

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
    for mode in (app.DEFAULT_MODE, *app.MODES):
        try:
            if screen in app.get_screen_stack(mode):
                return False
        except KeyError:  # a mode not yet opened has no stack
            continue
    return True


class DismissOnce:
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
