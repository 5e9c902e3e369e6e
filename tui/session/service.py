"""The Session: what the app's screens share, and the work they ask of core.

One Session lives as long as the App (`App.session`). It owns the options, the data set,
the current model and its signal, the picked image, the engine (torch, loaded in a thread
worker after the first frame) and the training worker (start, pause, resume, stop). Its
workers report through SessionMessages posted to the App, which hands each back to
`Session.handle` on the UI thread; so the state below changes only on that thread.
The work screens run in their own workers goes through its parts: `predicting` (the
current weights' predictor and validation data), `models` (weights files, layers),
`exploring` (feature maps and kernels of the current weights), `tricking` (the attack
view and the Grad-CAM overlay) and `capacity` (how easily each shipped model is tricked).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import cnn_tui.tui.session.engine as engine
from cnn_tui.core.config import DATASETS, PRESETS, TrainConfig, preset_config
from cnn_tui.core.control import TrainControl
from cnn_tui.core.events import Event, Finished, Progress, Started
from cnn_tui.core.registry import MODELS
from cnn_tui.tui.errors import describe
from cnn_tui.tui.session.capacity import Capacity
from cnn_tui.tui.session.exploring import Exploring
from cnn_tui.tui.session.messages import (
    EngineFailed,
    EngineReady,
    SessionMessage,
    TrainCrashed,
    TrainDone,
    TrainEvent,
)
from cnn_tui.tui.session.models import Models
from cnn_tui.tui.session.predicting import Predicting
from cnn_tui.tui.session.tricking import Tricking
from cnn_tui.tui.state import AppOptions, CurrentModel, EngineState, PickedImage, TrainState
from textual.app import App
from textual.signal import Signal
from textual.worker import Worker

if TYPE_CHECKING:
    from cnn_tui.core.architecture import Architecture
    from cnn_tui.core.data import DataSet
    from cnn_tui.core.resume import Resume

TRAIN_SWITCH_SECONDS = 0.0005  # sys.setswitchinterval while a run trains (see _train_job)
PROGRESS_SECONDS = 0.25  # the fastest the Train screen redraws (REDRAW_SECONDS)


class Session:
    """The app's shared state and the work behind it, reached by screens as `.session`."""

    def __init__(
        self, host: App[None], options: AppOptions, dataset: DataSet | None = None
    ) -> None:
        """host: the App whose workers run the jobs and whose queue gets the messages.
        dataset: data to train on instead of loading some (tests and benchmarks)."""
        self.host = host
        self.options = options
        self.dataset = dataset
        self.train = TrainState()
        self.engine_state: EngineState = "loading"
        self.current_model: CurrentModel | None = None
        self.current_model_changed: Signal[CurrentModel] = Signal(host, "current-model")
        self.first_frame_shown = False  # the first screen has been drawn (App.on_ready)
        self.picked_image: PickedImage | None = None  # on Predict, for Explore
        # The Model screen's Lab sends the Train form an architecture (t); the form takes
        # each once, when the Train screen is shown (chosen counts the sendings).
        self.chosen_architecture: Architecture | None = None
        self.architectures_chosen = 0
        self.predicting = Predicting(options.data, lambda: self.dataset)
        self.models = Models(options.data, options.runs)
        self.capacity = Capacity(lambda: self.predicting.data("cifar2"))
        self.exploring = Exploring(lambda: self.dataset)
        self.tricking = Tricking()
        self.initial_config, self.startup_notes = initial_config(options)
        self._source_text: str | None = None
        self._engine_started = False
        self._train_worker: Worker[None] | None = None

    @property
    def runs_dir(self) -> str | None:
        """The --runs folder, or None for the default one."""
        return self.options.runs

    @property
    def source_text(self) -> str:
        """What training would read, in words (looked up once, after the first frame)."""
        if self._source_text is None:
            if self.dataset is not None:
                self._source_text = f"in memory: {self.dataset.name}"
            else:
                from cnn_tui.core.data import describe_source

                self._source_text = "reads " + describe_source(self.options.data)
        return self._source_text

    @property
    def data_folder(self) -> str | None:
        """The folder training reads (--data, else CNN_TUI_DATA, else the user's data
        folder); None for a data set given in memory."""
        if self.dataset is not None:
            return None
        if self.options.data:
            return str(Path(self.options.data).expanduser())
        from cnn_tui.core.paths import default_data_dir

        return str(default_data_dir())

    # -- messages from the workers ------------------------------------------------------

    def handle(self, message: SessionMessage) -> bool:
        """Take in what a worker reported (on the UI thread); True when the screens should
        redraw now rather than at their next tick."""
        if isinstance(message, TrainEvent):
            self.train.apply(message.event)
            if isinstance(message.event, Started) and message.event.sample:
                self._on_sample(message.event)
            if isinstance(message.event, Finished):
                self._finished(message.event)
                return True
            return False
        if isinstance(message, EngineReady):
            self._engine_ready(message)
        elif isinstance(message, EngineFailed):
            self.engine_state = "failed"
            self.train.write(f"cannot load torch: {message.reason}", "error")
        elif isinstance(message, TrainCrashed):
            self.train.fail(message.reason)
            self.host.notify(message.reason, title="Training could not run", severity="error")
        elif isinstance(message, TrainDone) and self.train.active:
            self.train.fail("the training worker ended unexpectedly")  # no Finished event
        return True

    def _on_sample(self, event: Started) -> None:
        """Say plainly, where it cannot scroll away, that the run trains on the sample."""
        folder = self.data_folder or "the data folder"
        self.host.notify(
            f"This run trains on the bundled sample ({event.train_size} train / "
            f"{event.val_size} val images), not on CIFAR-2 (10,000 / 2,000): its accuracies "
            f"are not the book's. For the full data, start with a network (CIFAR-10 is "
            f"downloaded into {folder}) or put torchvision's cifar-10-batches-py there.",
            title="Bundled sample, not CIFAR-2",
            severity="warning",
            timeout=20,
        )

    # -- the engine ---------------------------------------------------------------------

    def start_engine(self) -> None:
        """Import torch and the training code in a thread worker (once)."""
        if self._engine_started:
            return
        self._engine_started = True
        self.host.run_worker(
            self._engine_job, thread=True, group="engine", name="engine", exit_on_error=False
        )

    def _engine_job(self) -> None:
        try:
            device, current, refused = engine.load_engine(self.options.weights)
        except Exception as error:  # the app goes on without training
            self.host.post_message(EngineFailed(describe(error)))
            return
        self.host.post_message(EngineReady(device, current, refused))

    def _engine_ready(self, message: EngineReady) -> None:
        self.engine_state = "ready"
        if not self.train.device:
            self.train.device = message.device
        if message.current_model is not None and self.current_model is None:
            self.set_current_model(message.current_model)
        elif message.refused:
            self.train.write(f"weights not loaded: {message.refused}", "warning")
        self.train.version += 1

    def choose_architecture(self, architecture: Architecture) -> None:
        """The net the Train form should train next (the Model screen's Lab, key t)."""
        self.chosen_architecture = architecture
        self.architectures_chosen += 1

    # -- the current model --------------------------------------------------------------

    def set_current_model(self, model: CurrentModel) -> None:
        """The weights the screens use from now on; subscribers hear of it."""
        self.current_model = model
        self.current_model_changed.publish(model)

    # -- training -----------------------------------------------------------------------

    def start_training(
        self, config: TrainConfig, resume: str | Path | Resume | None = None
    ) -> bool:
        """Start a run in a thread worker; False (with a notice) when one is going.

        resume: a run folder to continue from its last checkpoint, or core.resume's Resume
        saying how (the Runs screens).
        """
        if self.train.active:
            self.host.notify("A run is already going.", severity="warning")
            return False
        control = TrainControl()
        self.train.begin(config, control)
        self.train.write(
            f"{'resume' if resume else 'start'}: {config.model}"
            + (f" ({config.architecture.describe()})" if config.architecture else "")
            + f", preset {config.preset}, "
            f"{config.epochs} epochs, lr {config.lr:g}, batch {config.batch_size}, "
            f"{config.optimizer}{', flips' if config.augment else ''}"
            + (f"; run folder {resume}" if resume else "")
        )
        self._train_worker = self.host.run_worker(
            partial(self._train_job, config, control, resume),
            thread=True,
            group="train",
            name="train",
            exclusive=True,
            exit_on_error=False,
        )
        self.host.refresh_bindings()
        return True

    def _train_job(
        self, config: TrainConfig, control: TrainControl, resume: str | Path | Resume | None
    ) -> None:
        """Runs in the worker thread: every event becomes a message to the App.

        While it runs, the interpreter hands its lock between threads every 0.5 ms instead
        of Python's 5 ms: the training thread needs the lock between two torch calls, and
        would otherwise wait up to 5 ms each time the UI thread is drawing (measured: 97%
        of headless throughput instead of 95%; the UI thread keeps its pace).
        """
        switch = sys.getswitchinterval()
        sys.setswitchinterval(TRAIN_SWITCH_SECONDS)
        try:
            reason = engine.run_training(
                config,
                self._event_poster(),
                control,
                self.options.runs,
                self.dataset,
                resume=resume,
            )
            if reason is not None:
                self.host.post_message(TrainCrashed(reason))
        finally:
            sys.setswitchinterval(switch)
            self.host.post_message(TrainDone())

    def _event_poster(self) -> Callable[[Event], None]:
        """The callback the training loop calls: each event becomes a message to the App.

        Progress comes ten times a second; the screen shows it four times a second at most,
        so Progress events closer than that are held back here (the last of an epoch is
        always sent), their per-batch losses carried by the next one sent: fewer wake-ups
        of the UI thread, more interpreter time for training.
        """
        last = 0.0
        held: list[Progress] = []

        def post(event: Event) -> None:
            nonlocal last
            if isinstance(event, Progress):
                now = time.monotonic()
                if event.batch < event.batches and now - last < PROGRESS_SECONDS:
                    held.append(event)
                    return
                last = now
                if held:
                    event = with_held_batches(held, event)
                    held.clear()
            self.host.post_message(TrainEvent(event))

        return post

    def pause_training(self) -> None:
        control = self.train.control
        if control is not None and self.train.phase in ("starting", "running"):
            control.pause()
            self.train.set_phase("paused")
            self.train.write("paused between two batches; p resumes")
            self.host.refresh_bindings()

    def resume_training(self) -> None:
        control = self.train.control
        if control is not None and self.train.phase == "paused":
            control.resume()
            self.train.set_phase("running")
            self.train.write("resumed")
            self.host.refresh_bindings()

    def stop_training(self) -> None:
        control = self.train.control
        if control is not None and self.train.active:
            control.stop()
            if self.train.phase != "stopping":
                self.train.set_phase("stopping")
                self.train.write("stopping after this batch; the last epoch's checkpoint is kept")
            self.host.refresh_bindings()

    async def training_ended(self) -> None:
        """Wait until the training worker (if any) has returned."""
        if self._train_worker is not None:
            await self._train_worker.wait()

    def fail_training(self, reason: str) -> None:
        """The app is going down with an error: the run in progress ends `failed`."""
        if self.train.control is not None:
            self.train.control.fail(reason)

    def end_training(self) -> None:
        """However the app ends, a run still going must stop (its thread would keep the
        process alive); after fail_training, a stop does not undo that."""
        if self.train.control is not None:
            self.train.control.stop()

    def _finished(self, event: Finished) -> None:
        if event.weights:
            from cnn_tui.core.weights import read_sidecar

            path = Path(event.weights)
            current = CurrentModel(path, read_sidecar(path), "run")
            self.set_current_model(current)
            note = f" ({current.trained_on})" if current.trained_on else ""
            self.train.write(f"its weights are now the current model{note}: {path}")
        title = {"finished": "Training finished", "stopped": "Training stopped"}.get(
            event.state, "Training failed"
        )
        self.host.notify(
            f"Run folder: {event.run_dir}",
            title=title,
            severity="error" if event.state == "failed" else "information",
        )


def with_held_batches(held: list[Progress], event: Progress) -> Progress:
    """event, carrying the per-batch figures of the Progress events held back before it,
    and the newest machine figures among them where it has none of its own."""
    losses = tuple(loss for before in held for loss in before.losses)
    lrs = tuple(lr for before in held for lr in before.lrs)
    machine = event.machine
    for before in reversed(held):
        machine = machine or before.machine
    return replace(event, losses=losses + event.losses, lrs=lrs + event.lrs, machine=machine)


def initial_config(options: AppOptions) -> tuple[TrainConfig, list[str]]:
    """The form's first values: the preset, changed by the command line's options, and
    notes on the options that were not used.

    Bad numbers stay in the form (refused there with the reason), so nothing is lost.
    """
    notes = []
    model = options.model or "net"
    if model not in MODELS:
        notes.append(f"unknown model {model!r}; showing net")
        model = "net"
    preset = options.preset or "book"
    if preset not in PRESETS:
        notes.append(f"unknown preset {preset!r}; showing book")
        preset = "book"
    config = preset_config(preset, model=model)
    dataset = options.dataset if options.dataset in DATASETS else None
    if options.dataset and dataset is None:
        notes.append(f"unknown data set {options.dataset!r}; showing cifar2")
    config = replace(
        config.with_changes(
            epochs=options.epochs, lr=options.lr, batch_size=options.batch_size, dataset=dataset
        ),
        data_dir=options.data,
    )
    return config, notes
