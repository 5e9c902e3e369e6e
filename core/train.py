"""The training loop: the book's loop, made fast, observable, pausable and resumable.

`train` reports what happens through one callback (see events.py) and writes the run
folder (see runs.py). It checks its TrainControl between batches, so a UI can pause,
resume or stop it from another thread.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import ConfigError, TrainConfig, validate
from .events import EpochEnd, Event, Finished, Log, Progress, Started
from .paths import default_runs_dir
from .resume import Resume, data_record
from .runs import (
    BEST,
    CONFIG,
    LAST,
    WEIGHTS,
    RunError,
    RunLock,
    append_metrics,
    clear_stop_request,
    new_run_dir,
    read_metrics,
    remove_stale_temp_files,
    stop_requested,
    truncate_metrics,
    write_state,
)

PROGRESS_INTERVAL = 0.1  # seconds between Progress events at most


class TrainControl:
    """Pause, resume, stop and fail, set from any thread, obeyed between batches."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self.failure: str | None = None  # why the run must end `failed` (see fail)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def fail(self, reason: str) -> None:
        """Stop, and end the run `failed` with this reason, not "stopped by the user": what
        drives the run went wrong (the app crashed). The last epoch's checkpoint is kept."""
        if self.failure is None:  # the first reason is the cause; later ones follow from it
            self.failure = reason
        self.stop()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, stop_asked: Callable[[], bool] | None = None) -> None:
        """Block until resumed or stopped; stop_asked() is polled meanwhile (a stop request)."""
        while not self._running.wait(0.2):
            if stop_asked is not None and stop_asked():
                self.stop()


class _Stop(Exception):
    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.message = message


def _build_optimizer(config: TrainConfig, model, steps_per_epoch: int):
    import torch

    params = model.parameters()
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    scheduler = None
    if config.schedule == "one-cycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
        )
    return optimizer, scheduler


def train(
    config: TrainConfig,
    on_event: Callable[[Event], None] | None = None,
    *,
    control: TrainControl | None = None,
    runs_dir: str | Path | None = None,
    resume: str | Path | Resume | None = None,
    dataset: Any = None,
    run_dir: str | Path | None = None,
    lock: RunLock | None = None,
) -> Finished:
    """Train config's model and write its run folder; returns how the run ended.

    resume: a run folder to continue from its last.pt (its config.json is used; config
    may raise the epoch count), or a core.resume.Resume saying how (from best.pt, on other
    data); see core/resume.py for what is refused. dataset: a DataSet to use instead of loading one.
    run_dir: a fresh, empty folder (core.runs.new_run_dir) to train into instead of making
    one, so a launcher knows the folder before training starts (core/detach.py).
    lock: a RunLock on the run folder that the caller already holds (and releases);
    otherwise train takes the folder's lock itself, so a folder has one writer.
    Raises ConfigError, DataError or RunError before training starts on bad input; RunError
    when another process is training the folder.
    """
    if resume is not None and run_dir is not None:
        raise ValueError("give resume (an existing run) or run_dir (a fresh folder), not both")
    taken: list[RunLock] = []
    try:
        return _train(
            config,
            on_event,
            control=control,
            runs_dir=runs_dir,
            resume=resume,
            dataset=dataset,
            fresh_dir=Path(run_dir) if run_dir is not None else None,
            lock=lock,
            taken=taken,
        )
    finally:
        for held in taken:
            held.release()


def _train(
    config: TrainConfig,
    on_event: Callable[[Event], None] | None,
    *,
    control: TrainControl | None,
    runs_dir: str | Path | None,
    resume: str | Path | Resume | None,
    dataset: Any,
    fresh_dir: Path | None,
    lock: RunLock | None,
    taken: list[RunLock],
) -> Finished:
    import torch
    import torch.nn.functional as F

    from .data import load_dataset, normalize
    from .evaluate import evaluate
    from .models import build_model, pick_device

    emit = on_event or (lambda event: None)
    control = control or TrainControl()

    def hold(folder: Path) -> None:
        """Become the folder's one writer (unless the caller already is)."""
        if lock is not None and lock.held and lock.run_dir.resolve() == folder.resolve():
            return
        taken.append(RunLock(folder).acquire())

    checkpoint = None
    plan = None
    if resume is not None:
        from .resume import Resume, ResumeRefused, load_checkpoint, plan_resume

        request = resume if isinstance(resume, Resume) else Resume(Path(resume), config.epochs)
        run_dir = Path(request.run_dir)
        hold(run_dir)  # before reading last.pt: a live trainer may be about to replace it
        plan = plan_resume(request)  # the checks the CLI and the app made, again under the lock
        config = plan.config
        if plan.checkpoint.exists():  # else a run that never saved an epoch: it starts over
            checkpoint = load_checkpoint(plan.checkpoint)
            behind = plan.epochs_done - checkpoint["epoch"]
            if behind > 1 and not request.from_best:
                raise ResumeRefused(
                    f"run {run_dir.name} cannot resume: its last.pt holds epoch "
                    f"{checkpoint['epoch']} but its metrics go to epoch {plan.epochs_done}; "
                    "nothing was changed",
                )
    else:
        config = validate(config)
        run_dir = fresh_dir
        if run_dir is not None:
            hold(run_dir)

    def log(message: str, level: str = "info") -> None:
        emit(Log(message, level))

    if dataset is None:
        # A run trained on the bundled sample (nothing in its folder) is not switched to a
        # fresh download on resume: that would be other data.
        download = plan is None or plan.recorded.get("data_source") != "sample"
        dataset = load_dataset(config.dataset, config.data_dir, download=download, on_log=log)
    other_data = None
    if plan is not None:
        from .resume import check_same_data

        other_data = check_same_data(plan, dataset)  # refused here, before anything is written
    num_classes = len(dataset.classes)
    try:
        device = pick_device(config.device)
    except RuntimeError as error:
        raise ConfigError(str(error)) from None

    torch.manual_seed(config.seed)
    # pool_first: each activation before a max pool runs after it, on a quarter of the
    # values (the same function; core/models.py). A flag of this model only: other threads
    # may be running other models (Predict, Explore, a second run).
    model = build_model(config.model, num_classes, config.n_blocks, pool_first=True).to(device)
    if device.type == "cpu":
        # Channels-last convolutions and pools run these small models about 1.6x faster on
        # a CPU (max_pool2d most of all; tests/bench/bench_train.py), with the same results
        # to float rounding. Model states are written out in the usual layout.
        model = model.to(memory_format=torch.channels_last)
    steps = math.ceil(len(dataset.train) / config.batch_size)
    optimizer, scheduler = _build_optimizer(config, model, steps)
    generator = torch.Generator().manual_seed(config.seed)
    start_epoch, best_acc, best_epoch = 0, None, None
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None and checkpoint.get("scheduler"):
            scheduler.load_state_dict(checkpoint["scheduler"])
        generator.set_state(checkpoint["generator"])
        start_epoch = int(checkpoint["epoch"])
        best_acc, best_epoch = checkpoint.get("best_val_accuracy"), checkpoint.get("best_epoch")
    meta = {
        "model": config.model,
        "num_classes": num_classes,
        "classes": list(dataset.classes),
        "n_blocks": config.n_blocks,
        "data": dataset.name,
    }

    if resume is None:
        if run_dir is None:
            run_dir = new_run_dir(runs_dir or default_runs_dir(), config.model)
            hold(run_dir)  # before config.json: a listing never sees it unlocked
        from .atomic import write_json_atomic

        # "dataset" stays the config's key (cifar2, cifar10) so --resume can rebuild the
        # config; the human name of the data goes beside it.
        write_json_atomic(
            run_dir / CONFIG,
            {**config.to_dict(), **meta, "dataset": config.dataset, **data_record(dataset, config)},
        )
        started_at = time.time()
        write_state(
            run_dir, state="running", pid=os.getpid(), started=started_at, epochs=config.epochs
        )
    else:
        # A killed writer may have left half-written temporaries and epoch lines past the
        # last complete checkpoint: drop both, so the run goes on from that checkpoint.
        remove_stale_temp_files(run_dir)
        clear_stop_request(run_dir)  # one that came as the last trainer ended
        cut = truncate_metrics(run_dir, start_epoch)
        assert plan is not None
        if plan.request.from_best:
            span = f"epochs {cut[0]}-{cut[-1]}" if len(cut) > 1 else f"epoch {cut[0]}"
            log(
                f"resuming from best.pt (epoch {start_epoch})"
                + (f": drops {span} from metrics.jsonl" if cut else ""),
                "warning",
            )
        elif cut:
            log(f"epoch {cut[0]} had no checkpoint: it is trained again", "info")
        if other_data is not None:
            log(other_data, "warning")
        if other_data is not None or "data_source" not in plan.recorded:
            from .atomic import write_json_atomic  # the data as recorded now (see resume.py)

            write_json_atomic(run_dir / CONFIG, {**plan.recorded, **data_record(dataset, config)})
        write_state(
            run_dir, state="running", pid=os.getpid(), resumed=time.time(), epochs=config.epochs
        )

    for note in dataset.notes:
        log(note, "warning")
    emit(
        Started(
            str(run_dir),
            config.model,
            dataset.name,
            str(device),
            config.epochs,
            start_epoch,
            len(dataset.train),
            len(dataset.val),
            list(dataset.classes),
        )
    )

    train_images = dataset.train.images.to(device)
    train_labels = dataset.train.labels.to(device)
    n = len(dataset.train)
    params = list(model.parameters())

    def plain_state(clone: bool = False) -> dict[str, Any]:
        # The model's state in the usual (contiguous) layout, whatever layout it trains in.
        return {
            k: v.detach().clone(memory_format=torch.contiguous_format) if clone else v.contiguous()
            for k, v in model.state_dict().items()
        }

    good_state = plain_state(clone=True)
    good_epoch = start_epoch
    run_started = time.perf_counter()
    # Small validation batches stay in a CPU's caches (2x faster than 1000 at a time).
    eval_options = {"batch_size": 128} if device.type == "cpu" else {}

    def save_checkpoint(name: str, epoch: int) -> None:
        from .atomic import torch_save_atomic

        torch_save_atomic(
            run_dir / name,
            {
                "model": plain_state(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "generator": generator.get_state(),
                "epoch": epoch,
                "best_val_accuracy": best_acc,
                "best_epoch": best_epoch,
            },
        )

    state, message = "finished", ""
    try:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            model.train()
            epoch_started = time.perf_counter()
            last_report = epoch_started
            order = torch.randperm(n, generator=generator).to(device)
            flips = None
            if config.augment:
                flips = torch.rand(n, generator=generator).lt(0.5).to(device)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.int64)
            for batch in range(steps):
                if control.paused:
                    paused_at = time.perf_counter()
                    control.wait_while_paused(lambda: stop_requested(run_dir))
                    epoch_started += time.perf_counter() - paused_at
                if control.stopped:
                    if control.failure is not None:
                        raise _Stop("failed", control.failure)
                    raise _Stop("stopped", "stopped by the user")
                index = order[batch * config.batch_size : (batch + 1) * config.batch_size]
                images = normalize(train_images[index])
                labels = train_labels[index]
                if flips is not None:
                    flip = flips[index].view(-1, 1, 1, 1)
                    images = torch.where(flip, images.flip(3), images)
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                if config.l2:
                    loss = loss + config.l2 * sum(p.pow(2).sum() for p in params)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                loss_sum += loss.detach() * len(index)
                correct += (logits.detach().argmax(dim=1) == labels).sum()
                now = time.perf_counter()
                if now - last_report >= PROGRESS_INTERVAL or batch + 1 == steps:
                    last_report = now
                    if stop_requested(run_dir):  # core.runs.stop_run, from any process
                        control.stop()
                    if not math.isfinite(loss.item()):
                        raise _Stop(
                            "failed",
                            f"the loss became {loss.item()} in epoch {epoch}; "
                            "try a smaller learning rate",
                        )
                    done = min((batch + 1) * config.batch_size, n)
                    rate = done / max(now - epoch_started, 1e-9)
                    emit(
                        Progress(
                            epoch,
                            config.epochs,
                            batch + 1,
                            steps,
                            rate,
                            (n - done) / rate,
                            now - run_started,
                        )
                    )
            train_seconds = time.perf_counter() - epoch_started
            val = evaluate(model, dataset.val, num_classes, **eval_options)
            if not math.isfinite(val.loss):
                raise _Stop("failed", f"the validation loss became {val.loss} in epoch {epoch}")
            record = EpochEnd(
                epoch=epoch,
                train_loss=loss_sum.item() / n,
                train_accuracy=correct.item() / n,
                val_loss=val.loss,
                val_accuracy=val.accuracy,
                epoch_seconds=time.perf_counter() - epoch_started,
                images_per_second=n / max(train_seconds, 1e-9),
            )
            if best_acc is None or val.accuracy > best_acc:
                best_acc, best_epoch = val.accuracy, epoch
                save_checkpoint(BEST, epoch)
            # The epoch's line goes first, last.pt after: a crash between the two leaves a
            # line past last.pt's epoch, which a resume drops and trains again. The other
            # order would leave last.pt ahead of the metrics, and the epoch's line lost.
            append_metrics(run_dir, record.to_dict())
            save_checkpoint(LAST, epoch)
            good_state = plain_state(clone=True)
            good_epoch = epoch
            emit(record)
    except _Stop as stop:
        state, message = stop.state, stop.message
        log(message, "error" if state == "failed" else "warning")
    except OSError as error:
        state = "failed"
        kept = f"the checkpoint of epoch {good_epoch} is kept" if good_epoch else "no epoch saved"
        message = f"{error.strerror or error}: {error.filename or run_dir}; {kept}"
        log(message, "error")
        # The epoch whose checkpoint failed keeps no line. Cut in place, so that a full
        # disk cannot refuse it.
        with contextlib.suppress(OSError):
            truncate_metrics(run_dir, good_epoch)
    except BaseException as error:
        write_state(run_dir, state="failed", ended=time.time(), message=repr(error)[:200])
        raise

    weights = None
    if good_epoch > 0:
        from .weights import save_weights

        model.load_state_dict(good_state)
        model = model.to(memory_format=torch.contiguous_format)
        summary = next((r for r in read_metrics(run_dir).epochs if r.epoch == good_epoch), None)
        try:
            weights = str(
                save_weights(
                    run_dir / WEIGHTS,
                    model,
                    {
                        **meta,
                        "epochs": good_epoch,
                        "preset": config.preset,
                        "train_accuracy": summary.train_accuracy if summary else None,
                        "val_accuracy": summary.val_accuracy if summary else None,
                        "date": time.strftime("%Y-%m-%d"),
                    },
                )
            )
        except OSError as error:
            if state != "failed":  # else the first failure (a full disk, ...) says it all
                state, message = "failed", f"cannot write the final weights: {error.strerror}"
                log(message, "error")
    clear_stop_request(run_dir)
    with contextlib.suppress(OSError):
        write_state(
            run_dir,
            state=state,
            ended=time.time(),
            epochs_done=good_epoch,
            message=message,
            best_val_accuracy=best_acc,
            best_epoch=best_epoch,
        )
    finished = Finished(state, str(run_dir), weights, good_epoch, best_acc, best_epoch, message)
    emit(finished)
    return finished


__all__ = ["TrainControl", "train", "RunError"]
