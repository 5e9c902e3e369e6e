"""The Session driven alone: a bare App hosts it, no screen is shown.

What the screens rely on is checked here at the seam itself: the engine loads in a worker
and says so, a run trains, pauses, resumes and ends, its weights become the current model
(and the signal says so), and a second start is refused while one runs; the parts the
screens' workers call (predicting, models, exploring) answer and refuse as they say.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from app_support import options, tiny_dataset, wait_for
from cnn_tui.core.events import EpochEnd, Finished
from cnn_tui.tui.session import Session, session_of
from cnn_tui.tui.session.errors import SessionError, TargetExists
from cnn_tui.tui.session.exploring import Exploring, ModelRef, apply, image_chw
from cnn_tui.tui.session.messages import SessionMessage, TrainEvent
from cnn_tui.tui.session.models import Models
from cnn_tui.tui.session.predicting import Predicting
from cnn_tui.tui.session.service import initial_config
from cnn_tui.tui.state import AppOptions, CurrentModel, PickedImage
from textual import on
from textual.app import App


class Host(App[None]):
    """The least an App does for a Session: host its workers and hand back its messages."""

    def __init__(self, opts: AppOptions, dataset=None) -> None:
        super().__init__()
        self.session = Session(self, opts, dataset)
        self.redraws = 0

    @on(SessionMessage)
    def _session_message(self, message: SessionMessage) -> None:
        if self.session.handle(message):
            self.redraws += 1


def test_initial_config_says_which_options_it_could_not_use() -> None:
    config, notes = initial_config(AppOptions(model="nope", preset="fast?", epochs=3))
    assert (config.model, config.preset, config.epochs) == ("net", "book", 3)
    assert notes == ["unknown model 'nope'; showing net", "unknown preset 'fast?'; showing book"]
    config, notes = initial_config(AppOptions(dataset="mnist", data="/data"))
    assert config.dataset == "cifar2" and config.data_dir == "/data"
    assert notes == ["unknown data set 'mnist'; showing cifar2"]


async def test_the_engine_loads_in_a_worker_and_refused_weights_are_said(tmp_path) -> None:
    app = Host(options(tmp_path, weights=str(tmp_path / "missing.pt")))
    async with app.run_test() as pilot:
        session = session_of(app)
        assert session is app.session and session.engine_state == "loading"
        session.start_engine()
        session.start_engine()  # once only
        await wait_for(pilot, lambda: session.engine_state == "ready", timeout=60)
        assert session.train.device and session.current_model is None
        assert any("missing.pt" in line.message for line in session.train.log)
        assert app.redraws == 1


async def test_a_run_trains_pauses_resumes_and_its_weights_become_current(tmp_path) -> None:
    app = Host(options(tmp_path), tiny_dataset())
    async with app.run_test() as pilot:
        session = app.session
        session.start_engine()
        await wait_for(pilot, lambda: session.engine_state == "ready", timeout=60)
        heard: list[CurrentModel] = []
        session.current_model_changed.subscribe(app, heard.append)
        config = session.initial_config.with_changes(epochs=3, batch_size=16)
        assert session.start_training(config)
        assert not session.start_training(config)  # one run at a time
        session.pause_training()
        assert session.train.phase == "paused" and session.train.control.paused
        session.resume_training()
        assert session.train.phase == "running"
        await wait_for(pilot, lambda: session.train.phase == "finished", timeout=60)
        await session.training_ended()
    assert [r.epoch for r in session.train.history] == [1, 2, 3]
    weights = Path(session.train.finished.weights)
    assert session.current_model == CurrentModel(weights, session.current_model.meta, "run")
    assert heard == [session.current_model]


async def test_stop_ends_the_run_stopped_and_events_are_taken_on_the_ui_thread(tmp_path) -> None:
    app = Host(options(tmp_path), tiny_dataset(256, 32))
    async with app.run_test() as pilot:
        session = app.session
        session.start_engine()
        await wait_for(pilot, lambda: session.engine_state == "ready", timeout=60)
        session.start_training(session.initial_config.with_changes(epochs=1000, batch_size=16))
        await wait_for(pilot, lambda: len(session.train.history) >= 1, timeout=60)
        session.stop_training()
        assert session.train.phase == "stopping"
        await wait_for(pilot, lambda: session.train.phase == "stopped", timeout=60)
        assert session.train.control is None
        # A message posted as the worker would is taken in by handle, in order.
        epochs = len(session.train.history)
        record = EpochEnd(epochs + 1, 0.5, 0.5, 0.5, 0.5, 1.0, 100.0)
        app.post_message(TrainEvent(record))
        await wait_for(pilot, lambda: len(session.train.history) == epochs + 1)
    assert isinstance(session.train.finished, Finished)


def shipped() -> CurrentModel:
    from cnn_tui.core.paths import default_weights

    return CurrentModel(default_weights(), {"model": "net"}, "shipped")


def test_predicting_scores_the_given_data_and_builds_one_predictor() -> None:
    data = tiny_dataset(8, 12)
    predicting = Predicting(None, lambda: data)
    assert predicting.classes == []
    validation = predicting.validate(shipped())
    assert len(validation.results) == 12 and validation.pixels.shape == (12, 32, 32, 3)
    assert (validation.pixels[3] == data.val.images[3].permute(1, 2, 0).numpy()).all()
    assert predicting.predictor(shipped()) is predicting.predictor(shipped())
    assert predicting.classes == ["airplane", "bird"]


def test_predicting_reads_the_data_folders_validation_images_only(image_folder) -> None:
    """The Predict screen looks at validation images only, so its data set holds no
    training split (CIFAR-10's would be 150 MB held for the whole session)."""
    from cnn_tui.core.data import load_dataset

    predicting = Predicting(str(image_folder), lambda: None)
    data = predicting.data("cifar2")
    assert len(data.train) == 0 and len(data.val) == 4
    assert torch.equal(data.val.images, load_dataset("cifar2", image_folder).val.images)
    validation = predicting.validate(shipped())
    assert len(validation.results) == 4 and predicting.data("cifar2") is data  # read once


def test_predicting_says_why_in_one_session_error(tmp_path) -> None:
    predicting = Predicting(None, lambda: tiny_dataset(8, 4))
    with pytest.raises(SessionError, match="missing"):
        predicting.classify_folder(shipped(), tmp_path / "missing")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(SessionError):
        predicting.validate(CurrentModel(bad, {}, "file"))


def test_models_load_save_and_refuse_to_replace_without_asking(tmp_path) -> None:
    models = Models(None, str(tmp_path / "runs"))
    assert models.load(shipped().path, "net")["model"] == "net"
    target = tmp_path / "copy.pt"
    written, sidecar = models.save(shipped().path, target)
    assert written == target and sidecar == tmp_path / "copy.json" and sidecar.is_file()
    with pytest.raises(TargetExists, match="copy.pt"):
        models.save(shipped().path, target)
    assert models.save(shipped().path, target, overwrite=True)[0] == target
    with pytest.raises(SessionError):
        models.load(sidecar, "net")


def test_exploring_computes_maps_and_kernels_for_a_picked_or_sample_image() -> None:
    import numpy as np

    exploring = Exploring(lambda: None)
    ref = ModelRef.of(shipped(), "net")
    picture, side = exploring.compute(ref, ("index", 1), None, 1, None, lambda: False)
    assert picture.label.startswith("sample val #1 (") and picture.pixels.shape == (3, 32, 32)
    assert side.label == "net from birds_vs_airplanes.pt (shipped)" and side.layers
    assert side.kernel_layer == "conv1" and len(side.kernel_tiles) == len(side.kernel_bias)
    pixels = np.full((32, 32, 3), 7, dtype=np.uint8)
    picked = PickedImage(pixels, "cat.png")
    again = exploring.compute(ref, ("picked", 1), picked, 0, picture, lambda: False)
    assert again[0].label == "picked: cat.png" and int(again[0].pixels.max()) == 7
    assert exploring.compute(ref, ("index", 0), None, 0, None, lambda: True) is None
    untrained = ModelRef.of(None, "net-width")
    assert exploring.compute(untrained, ("index", 0), None, 0, None, lambda: False)[1].label == (
        "net-width with untrained random weights (no weights file)"
    )
    view = apply(picture, [[0, 0, 0], [0, 1, 0], [0, 0, 0]], padding=False, pool="max")
    assert view.output_shape[2:] == (15, 15) and len(view.output) == 15
    assert image_chw(np.zeros((32, 32), dtype=np.uint8)) is None
