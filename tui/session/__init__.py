"""The seam between the app's screens and core: one typed service, the Session.

The rule for screens (tui/screens) and widgets (tui/widgets):
- They reach core's work only through the Session (`AppScreen.session`): training, the
  engine, the current model, the predictor, the data set, loading and saving weights,
  feature maps. They never import a core module that loads torch, and never cache a
  model, a predictor or a data set of their own.
- They may import core's plain typed records and constants: config records and their
  checks (core.config), events (core.events), registry names (core.registry), kernel
  names and parsing (core.kernels' constants), result records they are handed.
- Work that takes time runs in the Session's thread workers or in functions it offers to
  be called from a screen's worker; what a worker reports reaches the UI thread as a
  SessionMessage (tui/session/messages.py) or through `call_from_thread`.
- Nothing here or in a screen patches process-wide state while a thread runs a model.

One training setting (say the learning rate) on its way to the loop, and where it is
checked: widgets/train_form.py (the field, checked by core/config.py's check_lr, the one
place values are validated) -> screens/train.py (the start key reads the form's
TrainConfig) -> session/service.py (start_training, the worker) -> session/engine.py
(run_training) -> core/train.py.

The Session is modelled on Harlequin's adapter/connection seam (screens talk to one
object, not to the engine's modules) and Posting's typed app state (records with types,
not attributes found by name).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cnn_tui.tui.session.service import Session


@runtime_checkable
class SessionHost(Protocol):
    """What holds the session: the App."""

    session: Session


def session_of(app: object) -> Session:
    """The session of the app a screen belongs to."""
    if isinstance(app, SessionHost):
        return app.session
    raise TypeError(f"{type(app).__name__} holds no session")


__all__ = ["Session", "SessionHost", "session_of"]
