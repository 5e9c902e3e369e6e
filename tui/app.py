"""The Textual app: one screen per job, a training worker the App owns, torch loaded late.

The first frame paints before torch is imported: nothing imported here loads torch at
module level, and a thread worker imports it after the first refresh. Training runs in a
thread worker owned by the App and reports through messages, so screens can come and go
while it runs; its state lives in `App.train` (see state.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, cast

from cnn_tui.core.config import DATASETS, PRESETS, TrainConfig, preset_config
from cnn_tui.core.events import Progress
from cnn_tui.core.registry import MODELS
from cnn_tui.tui.engine import load_engine, run_training
from cnn_tui.tui.errors import ReportsWorkerErrors, describe, record_error, where_logged
from cnn_tui.tui.messages import EngineFailed, EngineReady, TrainCrashed, TrainDone, TrainEvent
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.train import TrainScreen
from cnn_tui.tui.state import AppOptions, CurrentModel, TrainState
from cnn_tui.tui.widgets.nav import SCREENS
from textual import on, work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.widget import AwaitMount, Widget
from textual.widgets import OptionList
from textual.worker import Worker

SCREEN_KEYS = Binding.Group("Screens", compact=True)
TRAIN_SWITCH_SECONDS = 0.0005  # sys.setswitchinterval while a run trains (see _train_job)
PROGRESS_SECONDS = 0.25  # the fastest the Train screen redraws (REDRAW_SECONDS)
FIRST_FRAME_SECONDS = 0.02  # lets the screen's first update reach the terminal


class LazyScreen:
    """A MODES entry that imports its screen's module when the screen is first made.

    Only the Train screen is imported up front: the other screens' modules take about
    0.1 s to import, which the first frame would otherwise wait for.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

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
    CSS_PATH = ["app.tcss", "train.tcss", "model.tcss", "predict.tcss", "runs.tcss"]
    ENABLE_COMMAND_PALETTE = True
    MODES = Modes(
        train=TrainScreen,
        model=LazyScreen("model", "ModelScreen"),
        predict=LazyScreen("predict", "PredictScreen"),
        explore=LazyScreen("explore", "ExploreScreen"),
        runs=LazyScreen("runs", "RunsScreen"),
    )
    DEFAULT_MODE = "train"
    BINDINGS = [
        *(
            Binding(key, f"switch_mode('{mode}')", title, group=SCREEN_KEYS)
            for mode, key, title in SCREENS
        ),
        Binding("q", "quit", "Quit", tooltip="Quit (asks first while training)"),
    ]

    def __init__(
        self,
        options: AppOptions | argparse.Namespace | None = None,
        *,
        dataset: Any = None,
    ) -> None:
        """options: the command line's presets. dataset: a core.data.DataSet to train on
        instead of loading one (tests and benchmarks pass made-up data here)."""
        super().__init__()
        if not isinstance(options, AppOptions):
            options = AppOptions.from_namespace(options)
        self.options = options
        self.dataset = dataset
        self.train = TrainState()
        self.engine_state = "loading"  # loading, ready, failed
        self.current_model: CurrentModel | None = None
        self.current_model_changed: Signal[CurrentModel] = Signal(self, "current-model")
        self.initial_config = self._initial_config()
        self._source_text: str | None = None
        self._train_worker: Worker | None = None
        self._quitting = False
        self._exit_asked = False  # exit() was called (see closing)
        self._engine_started = False
        self.first_frame_shown = False
        self._remember_theme = False  # save the user's theme picks (run_app only)
        self._theme_shown: str | None = None
        self.crash: str | None = None  # what ended the app, when an error did (note_crash)
        self.crash_log: Path | None = None  # where its traceback went

    # -- start-up -----------------------------------------------------------------------

    def _initial_config(self) -> TrainConfig:
        """The form's first values: the preset, changed by the command line's options.

        Bad values stay in the form (refused there with the reason), so nothing is lost.
        """
        opts = self.options
        notes = []
        model = opts.model or "net"
        if model not in MODELS:
            notes.append(f"unknown model {model!r}; showing net")
            model = "net"
        preset = opts.preset or "book"
        if preset not in PRESETS:
            notes.append(f"unknown preset {preset!r}; showing book")
            preset = "book"
        config = preset_config(preset, model=model)
        dataset = opts.dataset if opts.dataset in DATASETS else None
        if opts.dataset and dataset is None:
            notes.append(f"unknown data set {opts.dataset!r}; showing cifar2")
        config = replace(
            config.with_changes(
                epochs=opts.epochs, lr=opts.lr, batch_size=opts.batch_size, dataset=dataset
            ),
            data_dir=opts.data,
        )
        self._startup_notes = notes
        return config

    @property
    def source_text(self) -> str:
        """What training would read, in words (looked up once, after the first frame)."""
        if self._source_text is None:
            self._source_text = self._describe_source()
        return self._source_text

    def _describe_source(self) -> str:
        if self.dataset is not None:
            return f"in memory: {self.dataset.name}"
        from cnn_tui.core.data import describe_source

        return "reads " + describe_source(self.options.data)

    def open_with_theme(self, theme: str, remember: bool = False, why: str = "") -> None:
        """Open with this theme; remember: save the user's later picks (the real app only,
        so that tests never write the user's settings); why: said in the log."""
        self.theme = theme
        self._remember_theme = remember
        self._theme_shown = theme
        if why:
            self.train.write(f"theme {theme}: {why} (ctrl+p Theme changes it)")

    def _theme_picked(self, theme: Any) -> None:
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
        for note in self._startup_notes:
            self.train.write(note, "warning")

    def on_ready(self) -> None:
        """The first frame is on the terminal (Textual's Ready event).

        Only now does the first screen mount its heavier widgets, and only after them is
        torch imported: the import holds the interpreter for seconds, and either would
        otherwise hold back that first frame.
        """
        self.first_frame_shown = True
        self.set_timer(FIRST_FRAME_SECONDS, self._after_first_frame)

    async def _after_first_frame(self) -> None:
        self.train.write(f"data: {self.source_text}")  # (core.data's import waited till now)
        build = getattr(self.screen, "build", None)
        if callable(build):
            await build()
        self.call_after_refresh(self.start_engine)

    def start_engine(self) -> None:
        """Import torch and the training code in a thread worker (once)."""
        if self._engine_started:
            return
        self._engine_started = True
        self.run_worker(
            self._engine_job, thread=True, group="engine", name="engine", exit_on_error=False
        )

    def _engine_job(self) -> None:
        try:
            device, current, refused = load_engine(self.options.weights)
        except Exception as error:  # the app goes on without training
            self.post_message(EngineFailed(f"{type(error).__name__}: {error}"))
            return
        self.post_message(EngineReady(device, current, refused))

    @on(EngineReady)
    def _engine_ready(self, message: EngineReady) -> None:
        self.engine_state = "ready"
        if not self.train.device:
            self.train.device = message.device
        if message.current_model is not None and self.current_model is None:
            self.set_current_model(message.current_model)
        elif message.refused:
            self.train.write(f"weights not loaded: {message.refused}", "warning")
        self.train.version += 1
        self._changed()

    @on(EngineFailed)
    def _engine_failed(self, message: EngineFailed) -> None:
        self.engine_state = "failed"
        self.train.write(f"cannot load torch: {message.reason}", "error")
        self._changed()

    def _changed(self) -> None:
        """Something the user waits for happened: redraw now, not at the next tick."""
        self.refresh_bindings()
        sync = getattr(self.screen, "sync", None)
        if callable(sync):
            sync()

    def set_current_model(self, model: CurrentModel) -> None:
        """The weights the other screens use from now on; subscribers hear of it."""
        self.current_model = model
        self.current_model_changed.publish(model)

    # -- training -----------------------------------------------------------------------

    @property
    def runs_dir(self) -> str | None:
        return self.options.runs

    def start_training(self, config: TrainConfig, resume: str | Path | None = None) -> bool:
        """Start a run in a thread worker; False (with a notice) when one is going.

        resume: a run folder to continue from its last checkpoint (the Runs screen).
        """
        if self.train.active:
            self.notify("A run is already going.", severity="warning")
            return False
        from cnn_tui.core.train import TrainControl

        control = TrainControl()
        self.train.begin(config, control)
        self.train.write(
            f"{'resume' if resume else 'start'}: {config.model}, preset {config.preset}, "
            f"{config.epochs} epochs, lr {config.lr:g}, batch {config.batch_size}, "
            f"{config.optimizer}{', flips' if config.augment else ''}"
            + (f"; run folder {resume}" if resume else "")
        )
        self._train_worker = self.run_worker(
            partial(self._train_job, config, control, resume),
            thread=True,
            group="train",
            name="train",
            exclusive=True,
            exit_on_error=False,
        )
        self.refresh_bindings()
        return True

    def _train_job(self, config: TrainConfig, control: Any, resume: Any = None) -> None:
        """Runs in the worker thread: every event becomes a message to the App.

        While it runs, the interpreter hands its lock between threads every 0.5 ms instead
        of Python's 5 ms: the training thread needs the lock between two torch calls, and
        would otherwise wait up to 5 ms each time the UI thread is drawing (measured: 97%
        of headless throughput instead of 95%; the UI thread keeps its pace).
        """
        switch = sys.getswitchinterval()
        sys.setswitchinterval(TRAIN_SWITCH_SECONDS)
        try:
            reason = run_training(
                config,
                self._event_poster(),
                control,
                self.runs_dir,
                self.dataset,
                resume=resume,
            )
            if reason is not None:
                self.post_message(TrainCrashed(reason))
        finally:
            sys.setswitchinterval(switch)
            self.post_message(TrainDone())

    def _event_poster(self):
        """The callback the training loop calls: each event becomes a message to the App.

        Progress comes ten times a second; the screen shows it four times a second at most,
        so Progress events closer than that are dropped here (the last of an epoch is
        always sent): fewer wake-ups of the UI thread, more interpreter time for training.
        """
        last = 0.0

        def post(event: Any) -> None:
            nonlocal last
            if isinstance(event, Progress) and event.batch < event.batches:
                now = time.monotonic()
                if now - last < PROGRESS_SECONDS:
                    return
                last = now
            self.post_message(TrainEvent(event))

        return post

    def pause_training(self) -> None:
        if self.train.control is not None and self.train.phase in ("starting", "running"):
            self.train.control.pause()
            self.train.set_phase("paused")
            self.train.write("paused between two batches; p resumes")
            self.refresh_bindings()

    def resume_training(self) -> None:
        if self.train.control is not None and self.train.phase == "paused":
            self.train.control.resume()
            self.train.set_phase("running")
            self.train.write("resumed")
            self.refresh_bindings()

    def stop_training(self) -> None:
        if self.train.control is not None and self.train.active:
            self.train.control.stop()
            if self.train.phase != "stopping":
                self.train.set_phase("stopping")
                self.train.write("stopping after this batch; the last epoch's checkpoint is kept")
            self.refresh_bindings()

    @on(TrainEvent)
    def _train_event(self, message: TrainEvent) -> None:
        from cnn_tui.core.events import Finished

        event = message.event
        self.train.apply(event)
        if isinstance(event, Finished):
            self._finished(event)
            self._changed()

    def _finished(self, event: Any) -> None:
        if event.weights:
            from cnn_tui.core.weights import read_sidecar

            path = Path(event.weights)
            self.set_current_model(CurrentModel(path, read_sidecar(path), "run"))
            self.train.write(f"its weights are now the current model: {path}")
        title = {"finished": "Training finished", "stopped": "Training stopped"}.get(
            event.state, "Training failed"
        )
        self.notify(
            f"Run folder: {event.run_dir}",
            title=title,
            severity="error" if event.state == "failed" else "information",
        )

    @on(TrainCrashed)
    def _train_crashed(self, message: TrainCrashed) -> None:
        self.train.fail(message.reason)
        self.notify(message.reason, title="Training could not run", severity="error")
        self._changed()

    @on(TrainDone)
    def _train_done(self) -> None:
        if self.train.active:  # the worker ended without a Finished event
            self.train.fail("the training worker ended unexpectedly")
        self._changed()

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
        # Behind a question (quit?), screen keys and q wait for the answer.
        modal = isinstance(self.screen, ModalScreen)
        return not (modal and action in ("switch_mode", "quit"))

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
        yield from super().get_system_commands(screen)
        for mode, key, title in SCREENS:
            yield SystemCommand(
                f"Screen: {title}",
                f"Show the {title} screen ({key})",
                partial(self.switch_mode, mode),
            )
        helps = getattr(screen, "COMMANDS_HELP", {})
        for action, (title, help_text) in helps.items():
            if screen.check_action(action, ()):
                yield SystemCommand(title, help_text, partial(screen.run_action, action))

    def notify(self, message: str, *args: Any, markup: bool = True, **kwargs: Any) -> None:
        """Textual's notify, never reading markup: the app's messages hold file, folder,
        class and run names, and an error's text, as they are (`[/oops]` raised MarkupError,
        `[bold red]y.png` lost its brackets). Screens' notify comes here too."""
        super().notify(message, *args, markup=False, **kwargs)

    # The palette is ours (tui/palette.py: a Textual bug worked around) wherever Textual
    # would open its own: ctrl+p, the Theme command and search_commands.

    def action_command_palette(self) -> None:
        from cnn_tui.tui.palette import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette"))

    def search_themes(self) -> None:
        from cnn_tui.tui.palette import CommandPalette
        from textual.theme import ThemeProvider

        self.push_screen(
            CommandPalette(providers=[ThemeProvider], placeholder="Search for themes…")
        )

    def search_commands(self, commands: Any, placeholder: str = "Search for commands…") -> Any:
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
        if not self.train.active:
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
        self.stop_training()
        self.notify("Stopping training and saving its checkpoint...", timeout=30)
        if self._train_worker is not None:
            await self._train_worker.wait()
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
        if self.train.control is not None:
            self.train.control.fail(self.crash)

    def crash_report(self) -> str:
        """The line said after the app died: what, where the details are, the run's fate."""
        lines = f"cnn-tui: {self.crash} ({where_logged(self.crash_log)})"
        if self.train.started is not None and self.train.finished is None:
            lines += f"\nthe run in progress ends failed: {self.train.started.run_dir}"
        return lines

    def on_unmount(self) -> None:
        # Any way out (ctrl+c in a driver, an error) must not leave the trainer running:
        # the thread would keep the process alive. After an error, note_crash has already
        # told it to end `failed`; a stop does not undo that.
        if self.train.control is not None:
            self.train.control.stop()
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
        theme, why = choose_theme(app.options.theme, set(app.available_themes))
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
        if app.train.control is not None:
            app.train.control.stop()
        if app.crash is not None:
            print(app.crash_report(), file=sys.stderr)
    return app.return_code or 0


__all__ = ["CnnTuiApp", "run_app"]
