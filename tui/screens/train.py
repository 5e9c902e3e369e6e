"""The Train screen: the form, live charts, the progress of the epoch and the log.

The screen holds no training state of its own: it draws the session's TrainState a few
times a second (only what changed), so leaving it and coming back loses nothing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.widgets.chart_panel import ChartKeys, ChartPanel, chart_bindings, chart_help
from cnn_tui.tui.widgets.layers_view import LAYERS_BINDING, LAYERS_HELP, LayersView
from cnn_tui.tui.widgets.nav import NavBar
from cnn_tui.tui.widgets.train_log import TrainLog
from cnn_tui.tui.widgets.train_status import TrainStatus
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize, ScreenResume
from textual.widgets import Footer

if TYPE_CHECKING:
    from cnn_tui.tui.widgets.train_form import TrainForm

REDRAW_SECONDS = 0.25  # the screen redraws at most this often, however fast events come
BATCH_REDRAW_SECONDS = 1.0  # the charts redraw for new batches alone at most this often
NARROW_BELOW = 110  # columns: below, the charts stack, and a run hides the form
LAYERS_WAITING = "Each layer's figures come as each epoch ends (i: back to the charts)."


class TrainScreen(ChartKeys, AppScreen):
    """Start, pause and stop training; watch loss and accuracy as epochs end."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    # Below 36 rows a narrow screen shows one chart at a time (c switches), so each chart
    # keeps enough rows to be read; taller ones stack them, wide ones put them side by side.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("s", "start", "Start", tooltip="Start training with the form's settings"),
        Binding(
            "b",
            "background",
            "Background",
            tooltip="Train the form's settings in a process of its own",
        ),
        Binding("p", "pause", "Pause", tooltip="Pause training between two batches"),
        Binding("p", "resume", "Resume", tooltip="Resume the paused run"),
        Binding("x", "stop", "Stop", tooltip="Stop training, keeping the last checkpoint"),
        Binding("f", "toggle_form", "Form", tooltip="Show or hide the settings form"),
        Binding(
            "n",
            "book_net",
            "Book's Net",
            show=False,  # (the footer is full at 80 columns: the form says n)
            tooltip="Train the book's Net again, not the Model screen's Lab's",
        ),
        *chart_bindings(by_step=True),
        LAYERS_BINDING,
        Binding("escape", "leave_field", "Leave field", show=False),
    ]
    # What each action is called in the command palette (the App lists them there).
    COMMANDS_HELP = {
        "start": ("Train: start", "Start training with the form's settings (s)"),
        "background": (
            "Train: start in the background",
            "A process of its own that goes on when the app quits; the Runs screen follows it (b)",
        ),
        "pause": ("Train: pause", "Pause training between two batches (p)"),
        "resume": ("Train: resume", "Resume the paused run (p)"),
        "stop": ("Train: stop", "Stop training; the last checkpoint is kept (x)"),
        "toggle_form": ("Train: show or hide the form", "Give the charts more room (f)"),
        "book_net": (
            "Train: the book's Net",
            "Drop the architecture the Model screen's Lab sent (n)",
        ),
        **chart_help(by_step=True),
        **LAYERS_HELP,
    }

    def __init__(self) -> None:
        super().__init__(id="train-screen")
        self._seen_version = -1
        self._seen_charts: tuple[int, int] | None = None
        self._charted_at = 0.0  # monotonic time the charts were last handed the state
        self._seen_engine = ""
        self._seen_phase = ""
        self._form_auto_hidden = False
        self._narrow: bool | None = None  # the width class of the last Resize
        self.built = False  # the form and the charts are mounted (see on_mount)
        self._architectures_taken = 0  # of the session's architectures_chosen

    def compose(self) -> ComposeResult:
        yield NavBar("train")
        with Horizontal(id="train-body"), Vertical(id="main-pane"):
            yield TrainStatus(id="status")
            yield ChartPanel(
                id="charts",
                chart_ids=("loss-chart", "accuracy-chart"),
                shown="loss",
                later=True,
                axes=("epoch", "step", "time"),
            )
            yield LayersView(id="layers", waiting=LAYERS_WAITING)
            yield TrainLog(id="log")

    def on_mount(self) -> None:
        self.set_interval(REDRAW_SECONDS, self.sync)
        self.sync()
        # The form, the charts and the footer are most of this screen's work: the App has
        # them mounted (build) once the first frame is on the terminal, so that frame comes
        # sooner; a Train screen made later builds at once.
        if self.session.first_frame_shown:
            self.call_after_refresh(self.build)

    async def build(self) -> None:
        """Mount the form and the charts (once)."""
        if self.built:
            return
        self.built = True
        from cnn_tui.tui.widgets.train_form import TrainForm

        session = self.session
        form = TrainForm(
            session.initial_config, session.source_text, folder=session.data_folder, id="form"
        )
        await self.query_one("#train-body").mount(form, before="#main-pane")
        await self.chart_panel.mount_charts()
        await self.mount(Footer())  # the footer's keys alone cost the first frame ~0.15 s
        self._seen_version, self._seen_charts = -1, None  # draw everything once
        self._seen_phase = ""
        self._take_architecture()
        self.sync()

    @on(ScreenResume)
    def _resumed(self) -> None:
        self._take_architecture()
        self.sync()

    def _take_architecture(self) -> None:
        """Put into the form an architecture the Model screen's Lab sent since the last
        time (the form is locked while a run goes, but shows it for the next)."""
        chosen = self.session.architectures_chosen
        if self.built and chosen != self._architectures_taken:
            self._architectures_taken = chosen
            self._form().set_architecture(self.session.chosen_architecture)

    def on_resize(self, event: Resize) -> None:
        """A window made narrow while a run trains hides the form as a start in a narrow
        one does (`action_start`); made wide again, it shows the form it hid."""
        if event.size != self.app.size:
            return  # stale: a newer Resize follows (see SkipsStaleResizes)
        narrow = event.size.width < NARROW_BELOW
        if narrow == self._narrow:
            return
        self._narrow = narrow
        if not (self.built and self.session.train.active):
            return
        form = self._form()
        if narrow and form.display:
            form.display = False
            self._form_auto_hidden = True
        elif not narrow and self._form_auto_hidden:
            form.display = True
            self._form_auto_hidden = False

    # -- drawing from the session's state -----------------------------------------------

    def sync(self) -> None:
        """Draw what changed in the session's state since the last call (cheap when nothing
        did)."""
        if not self.is_current:
            return
        session = self.session
        state = session.train
        if state.version == self._seen_version and session.engine_state == self._seen_engine:
            return
        self._seen_version = state.version
        self._seen_engine = session.engine_state
        self.query_one(TrainStatus).show(state, session.engine_state)
        charted = (state.epochs_version, state.batches.version)  # (batches: per Progress)
        if charted != self._seen_charts and not self._batches_too_soon(charted):
            self._seen_charts, self._charted_at = charted, time.monotonic()
            best = state.best
            best_epoch = best.epoch if best is not None else None
            self.chart_panel.show(
                state.history, best_epoch, charted, state.batches, lr=state.one_cycle
            )
        self._show_layers()
        self.query_one(TrainLog).show(state.log)
        if state.phase != self._seen_phase:  # (not the progress: four times a second)
            self._seen_phase = state.phase
            for form in self.query("#form"):
                form.disabled = state.active
                if self._form_auto_hidden and not state.active:
                    self._form_auto_hidden = False
                    form.display = True
            self.refresh_bindings()

    def _show_layers(self) -> None:
        """The Layers view, when shown, gets the run's epochs (it redraws when they
        changed)."""
        layers = self.query_one(LayersView)
        if layers.display:
            state = self.session.train
            layers.show(state.history, state.epochs_version)

    def _batches_too_soon(self, charted: tuple[int, int]) -> bool:
        """Only batches came since the charts were drawn, less than a second ago: building
        the loss chart costs the UI thread (and the training thread, its interpreter lock)
        tens of milliseconds, too much four times a second."""
        seen = self._seen_charts
        only_batches = seen is not None and seen[0] == charted[0]
        return only_batches and time.monotonic() - self._charted_at < BATCH_REDRAW_SECONDS

    def _form(self) -> TrainForm:
        from cnn_tui.tui.widgets.train_form import TrainForm  # (imported by build already)

        return self.query_one("#form", TrainForm)

    # -- keys ---------------------------------------------------------------------------

    @property
    def chart_panel(self) -> ChartPanel:
        return self.query_one(ChartPanel)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        phase = self.session.train.phase
        if action in ("start", "background"):  # (b would not fit the footer while training)
            return not self.session.train.active
        if action == "pause":
            return phase in ("starting", "running")
        if action == "resume":
            return phase == "paused"
        if action == "stop":
            return phase in ("starting", "running", "paused")
        if action == "book_net":  # only while the form holds a Lab's architecture
            form_mounted = self.built and bool(self.query("#form"))
            return (
                form_mounted
                and self._form().architecture is not None
                and not self.session.train.active
            )
        return True

    def action_start(self) -> None:
        session = self.session
        if session.engine_state == "loading":
            self.notify(
                "The engine is still loading (importing torch); try again in a moment.",
                severity="warning",
            )
            return
        if session.engine_state == "failed":
            self.notify("The engine could not be loaded; see the log.", severity="error")
            return
        if not self.built:
            return
        config = self._form().config(session.options.data)
        if config is None:
            self.notify("Some settings are refused; the reasons are beside them.", severity="error")
            return
        if session.start_training(config) and self.has_class("-narrow"):
            # A narrow terminal gives the charts the whole width while the run goes;
            # the form is locked meanwhile anyway, and f shows it.
            form = self.query_one("#form")
            self._form_auto_hidden = form.display
            form.display = False
        self.sync()

    def action_background(self) -> None:
        """Train the form's settings detached (core.detach); the Runs screen follows it."""
        if not self.built:
            return
        config = self._form().config(self.session.options.data)
        if config is None:
            self.notify("Some settings are refused; the reasons are beside them.", severity="error")
            return
        from cnn_tui.tui.session.background import start_background_run

        start_background_run(self.app, self.session.options.runs, config)

    def action_pause(self) -> None:
        self.session.pause_training()
        self.sync()

    def action_resume(self) -> None:
        self.session.resume_training()
        self.sync()

    def action_stop(self) -> None:
        self.session.stop_training()
        self.sync()

    def action_book_net(self) -> None:
        if self.built and not self.session.train.active:
            self._form().set_architecture(None)

    def action_toggle_form(self) -> None:
        if not self.built:
            return
        form = self.query_one("#form")
        form.display = not form.display
        self._form_auto_hidden = False

    def action_toggle_layers(self) -> None:
        """The Layers view in the charts' place, or the charts again."""
        layers = self.query_one(LayersView)
        layers.display = not layers.display
        self.query_one(ChartPanel).display = not layers.display
        self._show_layers()

    def action_leave_field(self) -> None:
        self.set_focus(None)
