"""Writing a run folder, in the order that keeps it readable after a crash.

The file writers (a new folder, an epoch's line, state.json, progress.json) and RunWriter,
the trainer's use of them: config.json and state.json when the run starts or resumes, an
epoch's line in metrics.jsonl before its last.pt (and best.pt), the final weights.pt and
state.json when it ends. core/run_records.py reads what these write.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import torch_save_atomic, write_json_atomic
from .config import TrainConfig
from .events import EpochEnd, Event, Finished, Log
from .layer_stats import Histogram, histograms_from_line, histograms_line
from .paths import default_runs_dir
from .restore import Trainee
from .resume import ResumePlan, data_record
from .run_files import (
    BEST,
    CONFIG,
    HISTOGRAMS,
    LAST,
    METRICS,
    PROGRESS,
    STATE,
    WEIGHTS,
    RunError,
)
from .run_lock import clear_stop_request, stop_requested
from .run_records import MAX_METRICS_BYTES, epoch_from_dict, read_metrics, read_state
from .safe_files import read_regular
from .states import EndState, LogLevel

if TYPE_CHECKING:
    import torch

    from .data import DataSet


def new_run_dir(runs_dir: str | Path, model: str) -> Path:
    """Make a fresh, uniquely named run folder under runs_dir."""
    runs_dir = Path(runs_dir).expanduser()
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(100):  # mkdir is atomic: two trainers never get one folder
            path = runs_dir / f"{stamp}-{model}-{secrets.token_hex(2 if attempt < 10 else 4)}"
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free run folder name under {runs_dir}")
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise RunError(f"cannot write runs folder {runs_dir}: {error.strerror or error}") from None
    return path


def _append_line(path: Path, line: str) -> None:
    """Append one line and fsync it (a full disk raises OSError naming path)."""
    try:
        with open(path, "a") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None


def append_metrics(run_dir: str | Path, record: dict[str, Any] | EpochEnd) -> None:
    """Add an epoch's line; ValueError for one that read_metrics would skip."""
    data = record.to_record() if isinstance(record, EpochEnd) else dict(record)
    if epoch_from_dict(data) is None:
        raise ValueError(f"not an epoch record: {data!r}")
    _append_line(Path(run_dir) / METRICS, json.dumps(data) + "\n")


def append_histograms(run_dir: str | Path, epoch: int, histograms: dict[str, Histogram]) -> None:
    """Add an epoch's line of weight histograms to histograms.jsonl."""
    line = json.dumps(histograms_line(epoch, histograms), separators=(",", ":"))
    _append_line(Path(run_dir) / HISTOGRAMS, line + "\n")


def _truncate_histograms(run_dir: str | Path, epochs: int) -> None:
    """Cut histograms.jsonl before its first line past `epochs`, and a torn last line, so it
    keeps to the epochs metrics.jsonl keeps. In place, as truncate_metrics."""
    path = Path(run_dir) / HISTOGRAMS
    try:
        data = read_regular(path, MAX_METRICS_BYTES)
    except OSError:  # absent (an older run), not a file or too large: leave it
        return
    cut_at = offset = 0
    for line in data.split(b"\n")[:-1]:  # the part after the last newline is torn
        try:
            found = histograms_from_line(json.loads(line))
        except ValueError:
            found = None
        if found is not None and found[0] > epochs:
            break
        offset += len(line) + 1
        cut_at = offset
    if cut_at < len(data):
        os.truncate(path, cut_at)
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())


def truncate_metrics(run_dir: str | Path, epochs: int) -> list[int]:
    """Cut metrics.jsonl before the first epoch line past `epochs`, and any torn last
    line; returns the epochs cut. In place (os.truncate): it needs no free space, so it
    works on a full disk too. Lines before the cut, bad ones included, are kept as they
    are. histograms.jsonl is cut to the same epochs."""
    _truncate_histograms(run_dir, epochs)
    log = read_metrics(run_dir)
    path = Path(run_dir) / METRICS
    if not log.readable:  # not a file, or too large to read: leave it as it is
        return []
    cut_at, cut = log.size, []
    for record, start in zip(log.epochs, log.starts, strict=True):
        if record.epoch > epochs:
            cut_at = min(cut_at, start)
            cut.append(record.epoch)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return cut
    if cut_at < size:
        os.truncate(path, cut_at)
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())
    return cut


def write_state(run_dir: str | Path, **fields: Any) -> None:
    """Merge fields into state.json (state, pid, started, ended, message, ...).

    Written to a temporary and renamed; where no new file fits (a full disk), the file is
    overwritten in place instead, a few hundred bytes in blocks it already has, so a run
    that fails for want of space can still say so.
    """
    path = Path(run_dir) / STATE
    data = {**read_state(run_dir), **fields}
    try:
        write_json_atomic(path, data)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.is_file():
            raise
        text = (json.dumps(data, indent=2) + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.pwrite(fd, text, 0)
            os.ftruncate(fd, len(text))
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temp_files(run_dir: str | Path) -> list[Path]:
    """Delete the half-written temporaries a killed writer left (.last.pt.XXXX.tmp, ...)."""
    removed = []
    for path in Path(run_dir).glob(".*.tmp"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def write_progress(run_dir: str | Path, data: dict[str, Any]) -> None:
    """Where the trainer is within the epoch, for watchers; cheap: renamed, not fsync-ed."""
    path = Path(run_dir) / PROGRESS
    tmp = path.with_name(f".{PROGRESS}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)


def clear_progress(run_dir: str | Path) -> None:
    with contextlib.suppress(OSError):
        (Path(run_dir) / PROGRESS).unlink()


@dataclass
class Ending:
    """How the epochs ended: finished, stopped or failed (with why), and the last epoch whose
    checkpoint was written, with the model's state after it."""

    good_epoch: int
    good_state: dict[str, torch.Tensor]
    state: EndState = "finished"
    message: str = ""


def _meta(config: TrainConfig, dataset: DataSet) -> dict[str, Any]:
    """What config.json and weights.pt's sidecar say of the model and its data; for net,
    its architecture, written out even when it is the book's (so the files say which)."""
    architecture = config.net_architecture
    return {
        "model": config.model,
        "num_classes": len(dataset.classes),
        "classes": list(dataset.classes),
        "n_blocks": config.n_blocks,
        "data": dataset.name,
        "data_source": dataset.kind,  # "sample": weights.trained_on labels them so
        **({"architecture": architecture.to_dict()} if architecture else {}),
    }


class RunWriter:
    """Writes one run folder, whose lock the trainer holds; events go to emit."""

    def __init__(self, run_dir: Path, emit: Callable[[Event], None]) -> None:
        self.run_dir = run_dir
        self._emit = emit

    @classmethod
    def fresh(
        cls,
        run_dir: Path | None,
        runs_dir: str | Path | None,
        config: TrainConfig,
        dataset: DataSet,
        hold: Callable[[Path], None],
        emit: Callable[[Event], None],
    ) -> RunWriter:
        """Start a new run: in run_dir, else a new folder under runs_dir (locked by hold)."""
        if run_dir is None:
            run_dir = new_run_dir(runs_dir or default_runs_dir(), config.model)
            hold(run_dir)  # before config.json: a listing never sees it unlocked
        # "dataset" stays the config's key (cifar2, cifar10) so --resume can rebuild the
        # config; the human name of the data goes beside it.
        write_json_atomic(
            run_dir / CONFIG,
            {
                **config.to_dict(),
                **_meta(config, dataset),
                "dataset": config.dataset,
                **data_record(dataset, config),
            },
        )
        write_state(
            run_dir, state="running", pid=os.getpid(), started=time.time(), epochs=config.epochs
        )
        return cls(run_dir, emit)

    @classmethod
    def resumed(
        cls,
        plan: ResumePlan,
        start_epoch: int,
        dataset: DataSet,
        other_data: str | None,
        emit: Callable[[Event], None],
    ) -> RunWriter:
        """Go on with plan's run from start_epoch, on dataset (other_data: the warning that
        it differs from the run's, on purpose)."""
        writer = cls(Path(plan.request.run_dir), emit)
        run_dir = writer.run_dir
        # A killed writer may have left half-written temporaries and epoch lines past the
        # last complete checkpoint: drop both, so the run goes on from that checkpoint.
        remove_stale_temp_files(run_dir)
        clear_stop_request(run_dir)  # one that came as the last trainer ended
        cut = truncate_metrics(run_dir, start_epoch)
        if plan.request.from_best:
            note = f"resuming from best.pt (epoch {start_epoch})"
            if cut:  # none when best.pt holds the last epoch
                span = f"epochs {cut[0]}-{cut[-1]}" if len(cut) > 1 else f"epoch {cut[0]}"
                note += f": drops {span} from metrics.jsonl"
            writer._log(note, "warning")
        elif cut:
            writer._log(f"epoch {cut[0]} had no checkpoint: it is trained again", "info")
        if other_data is not None:
            writer._log(other_data, "warning")
        if other_data is not None or "data_source" not in plan.recorded:
            # the data as recorded now (see resume.py)
            write_json_atomic(
                run_dir / CONFIG, {**plan.recorded, **data_record(dataset, plan.config)}
            )
        write_state(
            run_dir,
            state="running",
            pid=os.getpid(),
            resumed=time.time(),
            epochs=plan.config.epochs,
        )
        return writer

    def _log(self, message: str, level: LogLevel) -> None:
        self._emit(Log(message, level))

    def stop_requested(self) -> bool:
        """Whether core.runs.stop_run asked, from any process, for this run to stop."""
        return stop_requested(self.run_dir)

    def end_epoch(self, record: EpochEnd, trainee: Trainee, best: bool) -> None:
        """Record a finished epoch: best.pt if it is the best yet, its line, then last.pt."""
        if best:
            torch_save_atomic(self.run_dir / BEST, trainee.checkpoint(record.epoch))
        # The epoch's line goes first, last.pt after: a crash between the two leaves a
        # line past last.pt's epoch, which a resume drops and trains again. The other
        # order would leave last.pt ahead of the metrics, and the epoch's line lost.
        append_metrics(self.run_dir, record.to_record())
        if record.histograms:
            append_histograms(self.run_dir, record.epoch, record.histograms)
        torch_save_atomic(self.run_dir / LAST, trainee.checkpoint(record.epoch))

    def cut_after(self, epoch: int) -> None:
        """Drop the lines past epoch (one whose checkpoint failed). Cut in place, so that a
        full disk cannot refuse it."""
        with contextlib.suppress(OSError):
            truncate_metrics(self.run_dir, epoch)

    def crashed(self, error: BaseException) -> None:
        """Say in state.json that the run ended on an unexpected error."""
        write_state(self.run_dir, state="failed", ended=time.time(), message=repr(error)[:200])

    def finish(
        self, ending: Ending, trainee: Trainee, config: TrainConfig, dataset: DataSet
    ) -> Finished:
        """Write the last good epoch's weights.pt and the final state.json; how it ended."""
        state, message, weights = ending.state, ending.message, None
        if ending.good_epoch > 0:
            try:
                weights = str(self._save_weights(ending, trainee, config, dataset))
            except OSError as error:
                if state != "failed":  # else the first failure (a full disk, ...) says it all
                    state, message = "failed", f"cannot write the final weights: {error.strerror}"
                    self._log(message, "error")
        clear_stop_request(self.run_dir)
        with contextlib.suppress(OSError):
            write_state(
                self.run_dir,
                state=state,
                ended=time.time(),
                epochs_done=ending.good_epoch,
                message=message,
                best_val_accuracy=trainee.best_acc,
                best_epoch=trainee.best_epoch,
            )
        return Finished(
            state,
            str(self.run_dir),
            weights,
            ending.good_epoch,
            trainee.best_acc,
            trainee.best_epoch,
            message,
        )

    def _save_weights(
        self, ending: Ending, trainee: Trainee, config: TrainConfig, dataset: DataSet
    ) -> Path:
        import torch

        from .weights import save_weights

        model = trainee.model
        model.load_state_dict(ending.good_state)
        model = model.to(memory_format=torch.contiguous_format)
        epochs = read_metrics(self.run_dir).epochs
        summary = next((r for r in epochs if r.epoch == ending.good_epoch), None)
        return save_weights(
            self.run_dir / WEIGHTS,
            model,
            {
                **_meta(config, dataset),
                "epochs": ending.good_epoch,
                "train_images": len(dataset.train),
                "preset": config.preset,
                "train_accuracy": summary.train_accuracy if summary else None,
                "val_accuracy": summary.val_accuracy if summary else None,
                "date": time.strftime("%Y-%m-%d"),
            },
        )
