"""The Textual app: one screen per job, around one Session; torch loaded late.

The first frame paints before torch is imported: nothing imported here loads torch at
module level, and the session's thread worker imports it after the first refresh. The
session (tui/session) owns what the screens share and the work behind them (the engine,
training, the current model); the App hosts it, routes its messages back to it, and
owns the keys, the command palette, quitting and crashes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cnn_tui.tui.errors import ReportsWorkerErrors, describe, record_error, where_logged
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.screens.catalog import SCREENS, ScreenEntry
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.mounting import stacked_screens
from cnn_tui.tui.screens.train import TrainScreen
from cnn_tui.tui.session import Session
from cnn_tui.tui.session.messages import SessionMessage
from cnn_tui.tui.state import AppOptions
from textual import on, work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widget import AwaitMount, Widget
from textual.widgets import OptionList

if TYPE_CHECKING:
    from cnn_tui.core.data import DataSet
    from textual.command import CommandListItem
    from textual.notifications import SeverityLevel

PALETTE_ID = "--command-palette"  # Textual's own id for its palette
SCREEN_KEYS = Binding.Group("Screens", compact=True)
FIRST_FRAME_SECONDS = 0.02  # lets the screen's first update reach the terminal


class LazyScreen:
    """A MODES entry that imports its screen's module when the screen is first made.

    Only the Train screen is imported up front: the other screens' modules take about
    0.1 s to import, which the first frame would otherwise wait for.
    """

    def __init__(self, entry: ScreenEntry) -> None:
        self.module = entry.module
        self.name = entry.cls

    def resolve(self) -> type[Screen]:
        from importlib import import_module

        return getattr(import_module(f"cnn_tui.tui.screens.{self.module}"), self.name)

    def __call__(self) -> Screen:
        return self.resolve()()


class Modes(dict):
    """MODES whose lazy entries read as their screen classes (`MODES["model"]` is the
    ModelScreen class), while Textual, which copies the dict, gets the factories."""

    def __getitem__(self, mode: str):
        entry = super().__getitem__(mode)
        return entry.resolve() if isinstance(entry, LazyScreen) else entry


class CnnTuiApp(ReportsWorkerErrors, App[None]):
    """Train, inspect and query the chapter's network from a terminal."""

    TITLE = "cnn-tui"
    # Every screen's stylesheet is a .tcss file beside this module, read once here as the
    # app starts (one way for all: what styles a screen is found in one place, and a
    # screen opened late restyles nothing). A reusable widget keeps its own look in
    # DEFAULT_CSS, which any of these files may override.
    CSS_PATH = [
        "app.tcss",
        "train.tcss",
        "model.tcss",
        "predict.tcss",
        "runs.tcss",
        "explore.tcss",
    ]
    ENABLE_COMMAND_PALETTE = True
    MODES = Modes(
        {
            entry.mode: TrainScreen if entry.cls == "TrainScreen" else LazyScreen(entry)
            for entry in SCREENS
        }
    )
    DEFAULT_MODE = "train"
    BINDINGS = [
        *(
            Binding(entry.key, f"switch_mode('{entry.mode}')", entry.title, group=SCREEN_KEYS)
            for entry in SCREENS
        ),
        Binding("q", "quit", "Quit", tooltip="Quit (asks first while training)"),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            show=False,
            tooltip="This screen's keys, the global ones, what each screen is for",
        ),
    ]

    def __init__(
        self,
        options: AppOptions | argparse.Namespace | None = None,
        *,
        dataset: DataSet | None = None,
    ) -> None:
        """options: the command line's presets. dataset: data to train on instead of
        loading some (tests and benchmarks pass made-up data here)."""
        super().__init__()
        if not isinstance(options, AppOptions):
            options = AppOptions.from_namespace(options)
        self.session = Session(self, options, dataset)
        self._quitting = False
        self._exit_asked = False  # exit() was called (see closing)
        self._remember_theme = False  # save the user's theme picks (run_app only)
        self._theme_shown: str | None = None
        self.crash: str | None = None  # what ended the app, when an error did (note_crash)
        self.crash_log: Path | None = None  # where its traceback went

    def open_with_theme(self, theme: str, remember: bool = False, why: str = "") -> None:
        """Open with this theme; remember: save the user's later picks (the real app only,
        so that tests never write the user's settings); why: said in the log."""
        self.theme = theme
        self._remember_theme = remember
        self._theme_shown = theme
        if why:
            self.session.train.write(f"theme {theme}: {why} (ctrl+p Theme changes it)")

    def _theme_picked(self, theme: Theme) -> None:
        from cnn_tui.tui.terminal_theme import save_theme

        if theme.name != self._theme_shown:  # not the one opened with
            self._theme_shown = theme.name
            save_theme(theme.name)

    def on_mount(self) -> None:
        from cnn_tui.core.run_lock import refuse_stop_signals

        if self._remember_theme:
            self.theme_changed_signal.subscribe(self, self._theme_picked)

        # `cnn-tui watch --stop` on a run trained here must stop the run, not end the app
        # (SIGTERM would, without restoring the terminal): it asks by file instead.
        refuse_stop_signals(True)
        for note in self.session.startup_notes:
            self.session.train.write(note, "warning")

    def on_ready(self) -> None:
        """The first frame is on the terminal (Textual's Ready event).

        Only now does the first screen mount its heavier widgets, and only after them is
        torch imported: the import holds the interpreter for seconds, and either would
        otherwise hold back that first frame.
        """
        self.session.first_frame_shown = True
        self.set_timer(FIRST_FRAME_SECONDS, self._after_first_frame)

    async def _after_first_frame(self) -> None:
        # (core.data's import, which describing the data needs, waited till now)
        self.session.train.write(f"data: {self.session.source_text}")
        if self.screen_stack and isinstance(self.screen, AppScreen):
            await self.screen.build()
        self.call_after_refresh(self.session.start_engine)

    @on(SessionMessage)
    def _session_message(self, message: SessionMessage) -> None:
        """A session worker reported: the session takes it in on this (the UI) thread."""
        if self.session.handle(message):
            self._changed()

    def _changed(self) -> None:
        """Something the user waits for happened: redraw now, not at the next tick. A
        report that comes back after the screens closed (the app quitting) has nothing to
        redraw, and Textual's refresh_bindings would raise for the missing screen."""
        if not self.screen_stack:
            return
        self.refresh_bindings()
        if isinstance(self.screen, AppScreen):
            self.screen.sync()

    # -- keys, commands and quitting ----------------------------------------------------

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Textual's run_action, except a page key in an option list with no room to draw:
        Textual's OptionList._move_page then reads a line map it never filled, and its
        `KeyError: 0` ended the app (tui-monkey seed 326: a Select's menu). Nothing to page,
        so nothing happens."""
        if (
            isinstance(default_namespace, OptionList)
            and action in ("page_down", "page_up")
            and not default_namespace.scrollable_content_region
        ):
            return True
        return await super().run_action(action, default_namespace, namespaces)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Behind a question (quit?), screen keys and q wait for the answer; help opens
        # over a screen, never over a dialog or over itself.
        modal = isinstance(self.screen, ModalScreen)
        return not (modal and action in ("switch_mode", "quit", "help"))

    def action_help(self) -> None:
        """Open the help over the current screen (not over a dialog, nor over itself)."""
        from cnn_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, ModalScreen) or self.closing:
            return
        titles = {entry.mode: entry.title for entry in SCREENS}
        self.push_screen(HelpScreen(self.screen, titles.get(self.current_mode, "")))

    @property
    def closing(self) -> bool:
        """True from the moment the app is asked to exit: screens opened now are never
        shown (see screens/mounting.py)."""
        return self._exit_asked or not self.is_running

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self._exit_asked = True
        super().exit(*args, **kwargs)

    def switch_mode(self, mode: str) -> AwaitMount:
        """Textual's switch_mode, except once the app is asked to exit: then a screen key
        still on its way, or a background run's start coming back, does nothing. Textual
        closes every mode's screens in a loop over its screen stacks, and opening a new mode
        inside it ended the app (tui-monkey seed 316: `dictionary changed size during
        iteration`); a mode opened just before was closed as it opened (seed 321)."""
        if self.closing:
            # Nothing to wait for: an AwaitMount of no widgets never reads its parent,
            # and there may be no screen left to name.
            return AwaitMount(cast(Widget, None), [])
        return super().switch_mode(mode)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's "Keys" (a side panel that lists Scroll Up/Down before any key of the
        # app) is replaced by the help screen.
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        yield SystemCommand(
            "Keys",
            "This screen's keys, the global ones, and what each screen is for (? or F1)",
            self.action_help,
        )
        for entry in SCREENS:
            yield SystemCommand(
                f"Screen: {entry.title}",
                f"Show the {entry.title} screen ({entry.key})",
                partial(self.switch_mode, entry.mode),
            )
        helps = getattr(screen, "COMMANDS_HELP", {})
        for action, (title, help_text) in helps.items():
            if screen.check_action(action, ()):
                yield SystemCommand(title, help_text, partial(screen.run_action, action))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify, never reading markup: the app's messages hold file, folder,
        class and run names, and an error's text, as they are (`[/oops]` raised MarkupError,
        `[bold red]y.png` lost its brackets). Screens' notify comes here too."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # The palette is ours (tui/palette.py: a Textual bug worked around) wherever Textual
    # would open its own: ctrl+p, the Theme command and search_commands.

    def action_command_palette(self) -> None:
        from cnn_tui.tui.palette import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            # Textual names its palette by id; one left open on another screen's stack (a
            # switch made under it) made a second one a DuplicateIds crash (tui-monkey
            # seed 513): a second palette goes without the id.
            taken = any(screen.id == PALETTE_ID for screen in stacked_screens(self))
            self.push_screen(CommandPalette(id=None if taken else PALETTE_ID))

    def search_themes(self) -> None:
        from cnn_tui.tui.palette import CommandPalette
        from textual.theme import ThemeProvider

        self.push_screen(
            CommandPalette(providers=[ThemeProvider], placeholder="Search for themes…")
        )

    def search_commands(
        self, commands: Sequence[CommandListItem], placeholder: str = "Search for commands…"
    ) -> AwaitMount:
        from cnn_tui.tui.palette import CommandPalette
        from textual.command import SimpleProvider

        return self.push_screen(
            CommandPalette(
                providers=[SimpleProvider(self.screen, commands)], placeholder=placeholder
            )
        )

    async def action_quit(self) -> None:
        """Quit; while training, ask first, then stop the run and let it save."""
        if self._quitting:
            return
        if not self.session.train.active:
            self.exit()
            return
        self.push_screen(
            ConfirmScreen(
                "Training is running. Stop it (its last checkpoint is kept) and quit?",
                yes="Stop and quit",
                no="Keep training",
            ),
            self._quit_answered,
        )

    def _quit_answered(self, yes: bool | None) -> None:
        if yes:
            self._stop_and_exit()

    @work(exclusive=True, group="quit")
    async def _stop_and_exit(self) -> None:
        self._quitting = True
        self.session.stop_training()
        self.notify("Stopping training and saving its checkpoint...", timeout=30)
        await self.session.training_ended()
        self.exit()

    # -- unexpected errors --------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """An exception nothing handled: the app ends (Textual's way), but not silently and
        not as the user's stop: its traceback goes to the error log, and a run in progress
        ends `failed` with the error (its last checkpoint kept), not "stopped by the user".

        (Textual's private hook: every unhandled exception of the app, its screens and its
        workers comes here.)"""
        self.note_crash(error, "the app")
        super()._handle_exception(error)

    def note_crash(self, error: BaseException, where: str) -> None:
        """Log error's traceback and fail the run in progress, once (the first error is the
        cause; what follows is its consequence)."""
        if self.crash is not None:
            return
        self.crash_log = record_error(error, where)
        self.crash = f"{where} crashed: {describe(error)}"
        self.session.fail_training(self.crash)

    def crash_report(self) -> str:
        """The line said after the app died: what, where the details are, the run's fate."""
        lines = f"cnn-tui: {self.crash} ({where_logged(self.crash_log)})"
        train = self.session.train
        if train.started is not None and train.finished is None:
            lines += f"\nthe run in progress ends failed: {train.started.run_dir}"
        return lines

    def on_unmount(self) -> None:
        # Any way out (ctrl+c in a driver, an error) must not leave the trainer running:
        # the thread would keep the process alive. After an error, note_crash has already
        # told it to end `failed`; a stop does not undo that.
        self.session.end_training()
        from cnn_tui.core.run_lock import refuse_stop_signals

        refuse_stop_signals(False)


def run_app(args: argparse.Namespace | None = None) -> int:
    """Open the app (the `cnn-tui` command with no subcommand); returns the exit status."""
    from cnn_tui.tui.cli.output import EXIT_USAGE, print_error
    from cnn_tui.tui.errors import dump_threads_on_signal
    from cnn_tui.tui.terminal_theme import choose_theme

    dump_threads_on_signal()  # kill -USR1 PID: where every thread is, in threads.log
    app = CnnTuiApp(args)
    try:
        theme, why = choose_theme(app.session.options.theme, set(app.available_themes))
    except ValueError as error:
        print_error(error)
        return EXIT_USAGE
    app.open_with_theme(theme, remember=True, why=why)
    try:
        app.run()
    except Exception as error:  # said, logged, and raised again
        app.note_crash(error, "the app")
        raise
    finally:
        app.session.end_training()
        if app.crash is not None:
            print(app.crash_report(), file=sys.stderr)
    return app.return_code or 0


__all__ = ["CnnTuiApp", "run_app"]
