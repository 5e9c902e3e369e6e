"""Messages that carry the session's work done off the UI thread back to the App.

Workers post these with `App.post_message`, which is thread-safe and does not block the
worker, so training never waits for the screen. They share one base class, so the App has
one handler that hands them all to the session (Session.handle).
"""

from __future__ import annotations

from cnn_tui.core.events import Event
from cnn_tui.tui.state import CurrentModel
from textual.message import Message


class SessionMessage(Message):
    """Something a session worker reports; the App passes it to Session.handle."""


class EngineReady(SessionMessage):
    """torch and the training code are imported; training can start."""

    def __init__(
        self, device: str, current_model: CurrentModel | None = None, refused: str | None = None
    ) -> None:
        super().__init__()
        self.device = device
        self.current_model = current_model
        self.refused = refused  # why the weights file was not used, in one line


class EngineFailed(SessionMessage):
    """torch could not be imported; the app still runs, training cannot."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class TrainEvent(SessionMessage):
    """One event from core.train.train, from the training worker."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class TrainCrashed(SessionMessage):
    """train() raised instead of returning (bad data folder, unwritable runs folder...)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class TrainDone(SessionMessage):
    """The training worker has returned; its thread is gone."""
