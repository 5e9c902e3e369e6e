"""A screen closed before it mounted: Textual still runs its on_mount, on widgets that are gone.

A key on its way (escape, a screen key, a dialog's answer) can pop a screen in the same
moment it is pushed; its on_mount and ScreenResume handlers then run while its widgets are
being removed, and a query_one there ended the app (found by tui-monkey: NoMatches
'#layer-table' on the Model screen). Such a screen is in no mode's screen stack any more.
"""

from __future__ import annotations

from textual.screen import Screen


def closed_before_mounting(screen: Screen) -> bool:
    """True when the screen is in no screen stack: it was popped, and will not be shown."""
    app = screen.app
    for mode in (app.DEFAULT_MODE, *app.MODES):
        try:
            if screen in app.get_screen_stack(mode):
                return False
        except KeyError:  # a mode not yet opened has no stack
            continue
    return True
