"""The command palette (ctrl+p), with a work-around for a bug in Textual's.

Textual's OptionList._move_page reads the line map of a list that has drawn no lines: in a
window so small that the palette's list is 0 rows high, PageDown or PageUp raised
`KeyError: 0` and ended the app. Here a page move in a list with no room does nothing.

And its command-gathering worker can run after the palette's list has gone (the palette
closing as a search starts: found by tui-monkey), where `NoMatches` on `CommandList` ended
the app: a search for a list that is gone is dropped here.
"""

from __future__ import annotations

import inspect

from cnn_tui.tui.screens.mounting import DismissOnce
from textual import work
from textual.command import CommandList
from textual.command import CommandPalette as TextualCommandPalette
from textual.css.query import NoMatches

PAGE_ACTIONS = ("page_down", "page_up")


class CommandPalette(DismissOnce, TextualCommandPalette):
    """Textual's command palette; page keys in a list with no rows to page do nothing."""

    def _action_command_list(self, action: str) -> None:
        if action in PAGE_ACTIONS:
            lists = self.query(CommandList)
            if not lists or lists.first().scrollable_content_region.height < 1:
                return
        super()._action_command_list(action)

    @work(exclusive=True, group=TextualCommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        gather = inspect.unwrap(TextualCommandPalette._gather_commands)  # Textual's, unwrapped
        if not self.query(CommandList):
            return  # the palette is closing
        try:
            await gather(self, search_value)
        except NoMatches:
            if self.query(CommandList):
                raise  # not the list gone: a real error, reported as such
