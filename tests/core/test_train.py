"""The training loop on ~128 random images: run files, stop, pause, NaN, resume, eval mode,
and the book's recipe step for step."""

from __future__ import annotations

import json
import math
import threading
import time

import pytest
import torch
import torch.nn.functional as F
from app_support import tiny_dataset
from cnn_tui.core.config import ConfigError, TrainConfig, preset_config
from cnn_tui.core.data import DataSet, Split, load_sample, normalize
from cnn_tui.core.evaluate import evaluate
from cnn_tui.core.events import EpochEnd, Finished, Log, Progress, Started
from cnn_tui.core.models import build_model
from cnn_tui.core.restore import build_optimizer
from cnn_tui.core.run_files import RunError
from cnn_tui.core.run_records import read_metrics, read_state
from cnn_tui.core.train import TrainControl, train
from cnn_tui.core.weights import load_model, sidecar_path
from runs_support import EPOCH_KEYS, INSIDE_KEYS


@pytest.fixture
def tiny() -> DataSet:
    return tiny_dataset(128, 64, name="random test images")


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "batch_size": 16, **changes})


def test_two_epochs_write_every_run_file(tmp_path, tiny):
    events = Recorder()
    finished = train(_config(), events, runs_dir=tmp_path / "runs", dataset=tiny)

    assert finished.state == "finished" and finished.epochs_done == 2
    assert finished.message == ""
    run = tmp_path / "runs" / finished.run_dir.split("/")[-1]
    assert str(run) == finished.run_dir
    names = sorted(p.name for p in run.iterdir())
    assert names == sorted(
        [
            "config.json",
            "metrics.jsonl",
            "histograms.jsonl",
            "last.pt",
            "best.pt",
            "weights.pt",
            "weights.json",
            "state.json",
        ]
    ), "unexpected or temporary files in the run folder"

    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "net" and config["epochs"] == 2 and config["lr"] == 1e-2
    assert config["classes"] == ["airplane", "bird"]
    # "dataset" stays the config's value so a resume can rebuild the config from this file.
    assert config["dataset"] == "cifar2" and config["dataset_name"] == "random test images"
    assert TrainConfig.from_dict(config) == _config()

    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert [r["epoch"] for r in records] == [1, 2]
    for record in records:
        assert set(record) == EPOCH_KEYS | INSIDE_KEYS
        assert 0 <= record["train_accuracy"] <= 1 and 0 <= record["val_accuracy"] <= 1
        assert record["train_loss"] > 0 and record["val_loss"] > 0
        assert record["epoch_seconds"] > 0 and record["images_per_second"] > 0
    assert [e.to_record() for e in events.of(EpochEnd)] == records

    state = read_state(run)
    assert state["state"] == "finished" and state["epochs_done"] == 2
    assert state["ended"] >= state["started"]
    assert state["best_val_accuracy"] == max(r["val_accuracy"] for r in records)

    for name in ("last.pt", "best.pt"):
        checkpoint = torch.load(run / name, weights_only=True)
        assert {"model", "optimizer", "epoch"} <= set(checkpoint)
        model, meta = load_model(run / name, model="net")
        assert meta["num_classes"] == 2
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 2
    assert torch.load(run / "best.pt", weights_only=True)["epoch"] == state["best_epoch"]

    # weights.pt is a plain state_dict with a sidecar saying what it is.
    plain = torch.load(run / "weights.pt", weights_only=True)
    assert list(plain) == list(build_model("net").state_dict())
    side = json.loads(sidecar_path(run / "weights.pt").read_text())
    assert side["model"] == "net" and side["epochs"] == 2
    # the data they were trained on, so weights trained on the bundled sample are labelled
    assert side["data_source"] == "memory" and side["train_images"] == 128
    assert side["val_accuracy"] == records[-1]["val_accuracy"]
    assert finished.weights == str(run / "weights.pt")

    started = events.of(Started)
    assert len(started) == 1 and started[0].train_size == 128 and started[0].val_size == 64
    assert started[0].dataset == "random test images" and started[0].device == "cpu"
    assert not started[0].sample
    progress = events.of(Progress)
    assert progress and all(p.batches == 8 and 1 <= p.batch <= 8 for p in progress)
    # every batch's loss and rate, once, in order: each epoch's mean is its train loss
    for epoch, record in ((1, records[0]), (2, records[1])):
        reports = [p for p in progress if p.epoch == epoch]
        losses = [loss for p in reports for loss in p.losses]
        assert len(losses) == 8 and reports[-1].step == 8 * epoch
        assert sum(losses) / 8 == pytest.approx(record["train_loss"], rel=1e-5)
        assert [lr for p in reports for lr in p.lrs] == [1e-2] * 8
        assert all(len(p.lrs) == len(p.losses) and p.epoch_seconds > 0 for p in reports)
    assert events.events[-1] == finished and isinstance(finished, Finished)


def test_same_seed_same_result(tmp_path, tiny):
    first = train(_config(), runs_dir=tmp_path, dataset=tiny)
    second = train(_config(), runs_dir=tmp_path, dataset=tiny)
    a = torch.load(first.weights, weights_only=True)
    b = torch.load(second.weights, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_data_loads_from_the_data_dir(tmp_path, image_folder):
    events = Recorder()
    finished = train(
        _config(epochs=1, data_dir=str(image_folder)), events, runs_dir=tmp_path / "runs"
    )
    assert finished.state == "finished"
    started = events.of(Started)[0]
    assert "image folder" in started.dataset
    assert started.train_size == 8 and started.val_size == 4


def test_stop_leaves_loadable_checkpoints(tmp_path, tiny):
    control = TrainControl()
    events = Recorder()

    def on_event(event):
        events(event)
        if isinstance(event, EpochEnd) and event.epoch == 1:
            control.stop()

    finished = train(_config(epochs=5), on_event, control=control, runs_dir=tmp_path, dataset=tiny)
    assert finished.state == "stopped" and finished.epochs_done == 1
    assert "stopped" in finished.message
    run = tmp_path / finished.run_dir.split("/")[-1]
    assert read_state(run)["state"] == "stopped"
    assert [r.epoch for r in read_metrics(run).epochs] == [1]
    assert torch.load(run / "last.pt", weights_only=True)["epoch"] == 1
    load_model(run / "last.pt", model="net")
    load_model(run / "weights.pt")
    assert any(isinstance(e, Log) and "stopped" in e.message for e in events.events)


def test_stop_before_any_epoch_saves_no_weights(tmp_path, tiny):
    control = TrainControl()
    control.stop()
    finished = train(_config(), control=control, runs_dir=tmp_path, dataset=tiny)
    assert finished.state == "stopped" and finished.epochs_done == 0
    assert finished.weights is None
    run = tmp_path / finished.run_dir.split("/")[-1]
    assert read_state(run)["state"] == "stopped"
    assert not (run / "last.pt").exists()


def test_pause_and_resume_from_another_thread(tmp_path, tiny):
    control = TrainControl()
    events = Recorder()
    reached, acknowledged = threading.Event(), threading.Event()
    result: dict = {}

    def on_event(event):
        events(event)
        if isinstance(event, EpochEnd) and event.epoch == 1:
            reached.set()
            assert acknowledged.wait(10)  # hold until the main thread has paused us

    def run():
        try:
            result["finished"] = train(
                _config(epochs=3), on_event, control=control, runs_dir=tmp_path, dataset=tiny
            )
        except BaseException as error:  # shown by the main thread's failure
            result["error"] = error
            reached.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    if not reached.wait(60):
        worker.join(1)
        pytest.fail(f"epoch 1 never ended: {result or events.events[-1:]}")
    control.pause()
    assert control.paused
    acknowledged.set()
    time.sleep(0.3)  # let the loop reach its next batch boundary
    seen = len(events.events)
    pause_started = time.perf_counter()
    time.sleep(0.7)
    assert worker.is_alive(), "training finished although paused"
    assert len(events.events) == seen, "training went on while paused"
    assert events.of(EpochEnd)[-1].epoch == 1
    paused_for = time.perf_counter() - pause_started
    control.resume()
    worker.join(60)
    assert not worker.is_alive()
    finished = result["finished"]
    assert finished.state == "finished" and finished.epochs_done == 3
    # The pause is not counted in the epoch's time.
    second = events.of(EpochEnd)[1]
    assert second.epoch_seconds < paused_for


def test_nan_loss_fails_clearly_and_keeps_the_last_good_checkpoint(tmp_path, tiny, monkeypatch):
    real = F.cross_entropy
    calls = {"train": 0}

    def poisoned(logits, labels, *args, **kwargs):
        loss = real(logits, labels, *args, **kwargs)
        if kwargs.get("reduction", "mean") == "mean":  # training batches, not evaluation
            calls["train"] += 1
            if calls["train"] > 8:  # epoch 1 has 8 batches; epoch 2 goes wrong
                return loss * math.nan
        return loss

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", poisoned)
    events = Recorder()
    finished = train(_config(epochs=4), events, runs_dir=tmp_path, dataset=tiny)
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", real)

    assert finished.state == "failed"
    assert finished.message == "the loss became nan in epoch 2; try a smaller learning rate"
    assert finished.epochs_done == 1
    run = tmp_path / finished.run_dir.split("/")[-1]
    state = read_state(run)
    assert state["state"] == "failed" and "nan" in state["message"]
    assert [r.epoch for r in read_metrics(run).epochs] == [1]
    checkpoint = torch.load(run / "last.pt", weights_only=True)
    assert checkpoint["epoch"] == 1
    for path in (run / "last.pt", run / "weights.pt"):
        model, _ = load_model(path, model="net")
        assert all(torch.isfinite(p).all() for p in model.parameters())
    errors = [e for e in events.of(Log) if e.level == "error"]
    assert errors and "loss became nan" in errors[0].message


def test_huge_learning_rate_fails_with_a_clear_message(tmp_path, tiny):
    finished = train(_config(epochs=5, lr=10, l2=1.0), runs_dir=tmp_path, dataset=tiny)
    assert finished.state == "failed"
    assert "the loss became" in finished.message and "smaller learning rate" in finished.message
    run = tmp_path / finished.run_dir.split("/")[-1]
    assert read_state(run)["state"] == "failed"
    if finished.epochs_done:
        load_model(run / "last.pt", model="net")
        load_model(run / "weights.pt")


def test_resume_continues_from_the_last_epoch(tmp_path, tiny):
    straight = train(_config(epochs=3), runs_dir=tmp_path / "a", dataset=tiny)

    first = train(_config(epochs=2), runs_dir=tmp_path / "b", dataset=tiny)
    events = Recorder()
    resumed = train(_config(epochs=3), events, resume=first.run_dir, dataset=tiny)
    assert resumed.run_dir == first.run_dir
    assert resumed.state == "finished" and resumed.epochs_done == 3
    assert events.of(Started)[0].start_epoch == 2
    assert [e.epoch for e in events.of(EpochEnd)] == [3]
    assert [r.epoch for r in read_metrics(first.run_dir).epochs] == [1, 2, 3]
    assert torch.load(f"{first.run_dir}/last.pt", weights_only=True)["epoch"] == 3

    # Model, optimizer and shuffling state all came back: 2 + 1 epochs == 3 epochs.
    a = torch.load(straight.weights, weights_only=True)
    b = torch.load(resumed.weights, weights_only=True)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_resume_reads_the_data_again_from_the_runs_config(tmp_path, image_folder):
    first = train(_config(epochs=1, data_dir=str(image_folder)), runs_dir=tmp_path)
    events = Recorder()
    resumed = train(_config(epochs=2), events, resume=first.run_dir)
    assert resumed.state == "finished" and resumed.epochs_done == 2
    assert "image folder" in events.of(Started)[0].dataset


def test_resume_after_stop(tmp_path, tiny):
    control = TrainControl()

    def on_event(event):
        if isinstance(event, EpochEnd):
            control.stop()

    stopped = train(_config(epochs=3), on_event, control=control, runs_dir=tmp_path, dataset=tiny)
    assert stopped.state == "stopped" and stopped.epochs_done == 1
    resumed = train(_config(epochs=3), resume=stopped.run_dir, dataset=tiny)
    assert resumed.state == "finished" and resumed.epochs_done == 3
    assert read_state(stopped.run_dir)["state"] == "finished"


def test_resume_with_a_damaged_checkpoint_says_so(tmp_path, tiny):
    first = train(_config(epochs=1), runs_dir=tmp_path, dataset=tiny)
    last = tmp_path / first.run_dir.split("/")[-1] / "last.pt"
    last.write_bytes(last.read_bytes()[:100])
    with pytest.raises(RunError, match="its last.pt is damaged"):  # before the data load
        train(_config(epochs=2), resume=first.run_dir, dataset=tiny)


def test_resume_of_a_folder_that_is_not_a_run(tmp_path, tiny):
    with pytest.raises(RunError, match="is not a run folder"):
        train(_config(), resume=tmp_path, dataset=tiny)


def test_bad_config_is_refused_before_any_folder_is_made(tmp_path, tiny):
    with pytest.raises(ConfigError, match="epochs must be at least 1"):
        train(_config(epochs=0), runs_dir=tmp_path / "runs", dataset=tiny)
    assert not (tmp_path / "runs").exists()


def test_unwritable_runs_folder_is_refused(tmp_path, tiny):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunError, match="cannot write runs folder"):
        train(_config(), runs_dir=blocker / "runs", dataset=tiny)


def test_validation_uses_eval_mode(tmp_path, tiny):
    # evaluate() itself: a dropout model gives the same answer twice and keeps its mode.
    torch.manual_seed(0)
    model = build_model("net-dropout").train()
    first, second = evaluate(model, tiny.val, 2), evaluate(model, tiny.val, 2)
    assert first.loss == second.loss and torch.equal(first.probabilities, second.probabilities)
    assert model.training, "evaluate restores the model's mode"
    with torch.no_grad():
        noisy = F.cross_entropy(model(normalize(tiny.val.images)), tiny.val.labels).item()
    assert noisy != pytest.approx(first.loss, abs=1e-6), "dropout was active in train mode"

    # The training loop's reported validation matches an eval-mode evaluation of its weights.
    finished = train(_config(model="net-dropout", epochs=1), runs_dir=tmp_path, dataset=tiny)
    trained, _ = load_model(finished.weights)
    record = read_metrics(finished.run_dir).epochs[0]
    check = evaluate(trained, tiny.val, 2)
    assert record.val_loss == pytest.approx(check.loss, rel=1e-5)
    assert record.val_accuracy == check.accuracy


def test_evaluate_confusion_matrix():
    split = Split(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.tensor([0, 1, 1, 1]))

    class Always(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.tensor([0.0, 5.0]))

        def forward(self, x):
            return self.bias.expand(x.shape[0], 2)

    result = evaluate(Always(), split, 2)
    assert result.confusion == [[0, 1], [0, 3]]  # rows are true classes
    assert result.accuracy == 0.75
    assert result.predictions.tolist() == [1, 1, 1, 1]
    assert result.probabilities.shape == (4, 2)


def test_book_preset_optimizer_is_plain_sgd():
    config = preset_config("book")
    model = build_model("net")
    optimizer, scheduler = build_optimizer(config, model, steps_per_epoch=157)
    assert type(optimizer) is torch.optim.SGD and scheduler is None
    group = optimizer.param_groups[0]
    assert group["lr"] == 1e-2 and group["momentum"] == 0 and group["weight_decay"] == 0
    assert group["nesterov"] is False and group["dampening"] == 0


def test_fast_preset_adam_is_fused_where_torch_has_it_and_steps_as_plain_adam():
    """The fast preset's Adam is torch's fused kernel on a CPU (torch >= 2.4); its steps
    are Adam's, to float rounding, and its state loads into plain Adam and back."""
    config = preset_config("fast")
    model = build_model("net").to(memory_format=torch.channels_last)
    fused, scheduler = build_optimizer(config, model, steps_per_epoch=157)
    assert type(fused) is torch.optim.Adam and scheduler is not None
    has_kernel = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 4)
    assert bool(fused.defaults.get("fused")) is has_kernel  # CPU's fused Adam: torch 2.4
    twin = build_model("net").to(memory_format=torch.channels_last)
    twin.load_state_dict(model.state_dict())
    group = fused.param_groups[0]  # one-cycle's rate and betas at its start
    plain = torch.optim.Adam(twin.parameters(), lr=group["lr"], betas=group["betas"])
    images, labels = torch.randn(8, 3, 32, 32), torch.tensor([0, 1] * 4)
    for net, optimizer in ((model, fused), (twin, plain)):
        for _ in range(3):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(images), labels).backward()
            optimizer.step()
    for ours, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)
    plain.load_state_dict(fused.state_dict())  # a checkpoint moves between the two
    fused.load_state_dict(plain.state_dict())
    assert fused.state_dict()["state"][0]["step"].item() == 3


def test_book_preset_step_equals_the_books_loop(tmp_path, tiny):
    """One full-batch epoch of the book preset equals the book's loop by hand."""
    config = preset_config("book", epochs=1, batch_size=128)
    finished = train(config, runs_dir=tmp_path, dataset=tiny)
    ours = torch.load(finished.weights, weights_only=True)

    torch.manual_seed(config.seed)
    model = build_model("net")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    outputs = model(normalize(tiny.train.images))
    loss = loss_fn(outputs, tiny.train.labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(ours[key], value, rtol=1e-5, atol=1e-6)
    assert read_metrics(finished.run_dir).epochs[0].train_loss == pytest.approx(
        loss.item(), rel=1e-5
    )


def test_train_control_flags():
    control = TrainControl()
    assert not control.paused and not control.stopped
    control.pause()
    assert control.paused
    control.resume()
    assert not control.paused
    control.pause()
    control.stop()
    assert control.stopped and not control.paused, "stop wakes a paused loop"


def test_the_runs_time_left_is_one_estimate_and_the_sample_is_flagged(tmp_path):
    # this epoch's rest, then each epoch to come at the last epoch's time...
    assert Progress(2, 5, 3, 10, 100.0, 7.0, 20.0).run_seconds_left(10.0) == 7.0 + 3 * 10.0
    # ...or, before one ended, at this epoch's own estimate (elapsed + left)
    assert Progress(1, 5, 3, 10, 100.0, 7.0, 3.0).run_seconds_left() == 7.0 + 4 * 10.0
    events = Recorder()
    train(_config(epochs=1, batch_size=250), events, runs_dir=tmp_path, dataset=load_sample())
    (started,) = events.of(Started)
    assert started.sample and (started.train_size, started.val_size) == (500, 100)


def test_progress_json_keeps_the_figures_not_each_batch(tmp_path):
    from cnn_tui.core.detach import ProgressWriter
    from cnn_tui.core.run_records import read_progress

    ProgressWriter(lambda event: None, tmp_path)(
        Progress(1, 2, 4, 4, 10.0, 0.0, 1.0, 4, (0.5,) * 4, (0.01,) * 4, 1.0)
    )
    data = json.loads((tmp_path / "progress.json").read_text())
    assert "losses" not in data and "lrs" not in data and data["step"] == 4
    assert read_progress(tmp_path) == Progress(1, 2, 4, 4, 10.0, 0.0, 1.0)
