"""The epochs of a run: the book's loop, made fast, observable, pausable and stoppable.

Each epoch shuffles (and flips, with augment) by the run's generator, steps the optimizer
batch by batch, reports Progress a few times a second (and after the run's first batch,
whose time cnn-tui train reports), validates, and has the run folder
record it (core/run_writer.py). Between batches it obeys the TrainControl and the run's
stop request. A stop, a non-finite loss or a failed write ends the loop with an Ending;
anything else is recorded as a failure in state.json and raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .events import EpochEnd, Event, Log, Progress
from .layer_watch import Inside, start_watch
from .run_writer import Ending, RunWriter
from .states import EndState

if TYPE_CHECKING:
    import torch

    from .config import TrainConfig
    from .control import TrainControl
    from .data import DataSet
    from .restore import Trainee
    from .threads import ThreadTuner

PROGRESS_INTERVAL = 0.1  # seconds between Progress events at most


class _Stop(Exception):
    """The run ends before its last epoch: state (stopped or failed) and why."""

    def __init__(self, state: EndState, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.message = message


@dataclass
class _Pass:
    """One epoch's training pass: its summed loss and correct count (on the device), when
    it started (moved on by pauses) and the seconds it trained; each batch's loss (on the
    device, read when reported) and learning rate, and the first batch not reported yet."""

    loss_sum: torch.Tensor
    correct: torch.Tensor
    started: float
    batch_losses: torch.Tensor
    lrs: list[float] = field(default_factory=list)
    reported: int = 0
    seconds: float = 0.0


class EpochLoop:
    """Trains trainee on dataset for the config's remaining epochs, on device."""

    def __init__(
        self,
        config: TrainConfig,
        trainee: Trainee,
        dataset: DataSet,
        device: torch.device,
        control: TrainControl,
        writer: RunWriter,
        emit: Callable[[Event], None],
        tuner: ThreadTuner | None = None,
        measure: bool = True,
    ) -> None:
        self.config, self.trainee, self.dataset, self.device = config, trainee, dataset, device
        self.control, self.writer, self.emit = control, writer, emit
        self.tuner = tuner  # picks the CPU thread count as the batches run (core/threads.py)
        self.images = dataset.train.images.to(device)
        self.labels = dataset.train.labels.to(device)
        self.n = len(dataset.train)
        self.steps = math.ceil(self.n / config.batch_size)
        self.params = list(trainee.model.parameters())
        self.run_started = time.perf_counter()
        # Small validation batches stay in a CPU's caches (2x faster than 1000 at a time).
        self.eval_options = {"batch_size": 128} if device.type == "cpu" else {}
        # each layer's figures and the machine's, per epoch (core/layer_watch.py)
        self.watch = start_watch(trainee, device, emit) if measure else None

    def run(self) -> Ending:
        """Every remaining epoch, or up to the stop or failure that ends the run."""
        trainee = self.trainee
        ending = Ending(trainee.start_epoch, trainee.plain_state(clone=True))
        try:
            for epoch in range(trainee.start_epoch + 1, self.config.epochs + 1):
                record = self._epoch(epoch)
                ending.good_state = trainee.plain_state(clone=True)
                ending.good_epoch = epoch
                self.emit(record)
        except _Stop as stop:
            ending.state, ending.message = stop.state, stop.message
            self.emit(Log(stop.message, "error" if stop.state == "failed" else "warning"))
        except OSError as error:
            good = ending.good_epoch
            kept = f"the checkpoint of epoch {good} is kept" if good else "no epoch saved"
            where = error.filename or self.writer.run_dir
            ending.state, ending.message = "failed", f"{error.strerror or error}: {where}; {kept}"
            self.emit(Log(ending.message, "error"))
            self.writer.cut_after(good)  # the epoch whose checkpoint failed keeps no line
        except BaseException as error:
            self.writer.crashed(error)
            raise
        finally:
            if self.watch is not None:
                self.watch.close()
        return ending

    def _epoch(self, epoch: int) -> EpochEnd:
        """Train and validate one epoch, and have the run folder record it."""
        from .evaluate import evaluate

        done = self._train_pass(epoch)
        if self.tuner is not None:
            self.tuner.epoch_done(self.n / max(done.seconds, 1e-9))
        if self.watch is not None:
            self.watch.before_validation()  # its activations' saturation, on the way
        val = evaluate(
            self.trainee.model, self.dataset.val, len(self.dataset.classes), **self.eval_options
        )
        if not math.isfinite(val.loss):
            raise _Stop("failed", f"the validation loss became {val.loss} in epoch {epoch}")
        inside = self.watch.epoch_end() if self.watch is not None else Inside()
        record = EpochEnd(
            epoch=epoch,
            train_loss=done.loss_sum.item() / self.n,
            train_accuracy=done.correct.item() / self.n,
            val_loss=val.loss,
            val_accuracy=val.accuracy,
            epoch_seconds=time.perf_counter() - done.started,
            images_per_second=self.n / max(done.seconds, 1e-9),
            layers=inside.layers,
            machine=inside.machine,
            histograms=inside.histograms,
        )
        trainee = self.trainee
        best = trainee.best_acc is None or val.accuracy > trainee.best_acc
        if best:
            trainee.best_acc, trainee.best_epoch = val.accuracy, epoch
        self.writer.end_epoch(record, trainee, best)
        return record

    def _train_pass(self, epoch: int) -> _Pass:
        """One pass over the training split in the generator's order, batch by batch."""
        import torch
        import torch.nn.functional as F

        from .data import normalize

        config, trainee, device, n = self.config, self.trainee, self.device, self.n
        trainee.model.train()
        done = _Pass(
            torch.zeros((), device=device),
            torch.zeros((), device=device, dtype=torch.int64),
            time.perf_counter(),
            torch.empty(self.steps, device=device),
        )
        group = trainee.optimizer.param_groups[0]
        last_report = done.started
        order = torch.randperm(n, generator=trainee.generator).to(device)
        flips = None
        if config.augment:
            flips = torch.rand(n, generator=trainee.generator).lt(0.5).to(device)
        tuner = self.tuner
        for batch in range(self.steps):
            self._obey_control(done)
            if tuner is not None:
                tuner.before_batch()
            index = order[batch * config.batch_size : (batch + 1) * config.batch_size]
            images = normalize(self.images[index])
            labels = self.labels[index]
            if flips is not None:
                flip = flips[index].view(-1, 1, 1, 1)
                images = torch.where(flip, images.flip(3), images)
            logits = trainee.model(images)
            loss = F.cross_entropy(logits, labels)
            if config.l2:
                loss = loss + config.l2 * sum(p.pow(2).sum() for p in self.params)
            trainee.optimizer.zero_grad(set_to_none=True)
            done.lrs.append(float(group["lr"]))  # (the rate this step uses)
            loss.backward()
            trainee.optimizer.step()
            if trainee.scheduler is not None:
                trainee.scheduler.step()
            done.loss_sum += loss.detach() * len(index)
            done.batch_losses[batch] = loss.detach()  # a copy on the device, no sync
            done.correct += (logits.detach().argmax(dim=1) == labels).sum()
            if tuner is not None:
                tuner.after_batch()
            now = time.perf_counter()
            run_first = batch == 0 and epoch == self.trainee.start_epoch + 1
            if run_first or now - last_report >= PROGRESS_INTERVAL or batch + 1 == self.steps:
                last_report = now
                self._report(epoch, batch, loss, done, now)
        done.seconds = time.perf_counter() - done.started
        return done

    def _obey_control(self, done: _Pass) -> None:
        """Wait out a pause (its time not counted in the epoch's); raise _Stop on a stop."""
        control = self.control
        if control.paused:
            paused_at = time.perf_counter()
            control.wait_while_paused(self.writer.stop_requested)
            done.started += time.perf_counter() - paused_at
            if self.tuner is not None:
                self.tuner.restart_block()  # the pause is no batch's time
        if control.stopped:
            if control.failure is not None:
                raise _Stop("failed", control.failure)
            raise _Stop("stopped", "stopped by the user")

    def _report(self, epoch: int, batch: int, loss: torch.Tensor, done: _Pass, now: float) -> None:
        """Look for a stop request and a non-finite loss, and send a Progress event."""
        if self.writer.stop_requested():  # core.runs.stop_run, from any process
            self.control.stop()
        if not math.isfinite(loss.item()):
            raise _Stop(
                "failed",
                f"the loss became {loss.item()} in epoch {epoch}; try a smaller learning rate",
            )
        size, n = self.config.batch_size, self.n
        finished = min((batch + 1) * size, n)
        rate = finished / max(now - done.started, 1e-9)
        first, done.reported = done.reported, batch + 1
        self.emit(
            Progress(
                epoch,
                self.config.epochs,
                batch + 1,
                self.steps,
                rate,
                (n - finished) / rate,
                now - self.run_started,
                step=(epoch - 1) * self.steps + batch + 1,
                losses=tuple(done.batch_losses[first : batch + 1].tolist()),
                lrs=tuple(done.lrs[first : batch + 1]),
                epoch_seconds=now - done.started,
                machine=self.watch.live_machine() if self.watch is not None else None,
            )
        )
