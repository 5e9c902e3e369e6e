"""A run's folder: config.json, state.json, metrics.jsonl, last.pt, best.pt, weights.pt.

Every file but metrics.jsonl is written to a temporary name and renamed; metrics.jsonl
gets one flushed line per epoch, and a reader drops a torn last line with a warning.

A folder has one writer: the trainer holds an flock on train.lock for its whole life, so
a second trainer (or a resume of a live run) is refused, and a run whose state.json says
"running" while nobody holds the lock died without saying so: it reads as "crashed".
This module also lists, summarises, stops, exports and deletes runs for the CLI and app.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic

CONFIG = "config.json"
STATE = "state.json"
METRICS = "metrics.jsonl"
LAST = "last.pt"
BEST = "best.pt"
WEIGHTS = "weights.pt"  # plain state_dict, loadable by the book's code
LOCK = "train.lock"  # flock-ed by the one process that writes the folder
LOG = "train.log"  # a detached trainer's stdout and stderr
PROGRESS = "progress.json"  # a detached trainer's place within the epoch (not fsync-ed)
STOP_REQUEST = "stop.request"  # stop_run's request; every trainer looks for it (see stop_run)

LIVE_STATES = ("starting", "running")  # what state.json says while a trainer works


class RunError(Exception):
    """A run folder that cannot be made, read or written; one line says why."""


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


@dataclass
class MetricsLog:
    epochs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_metrics(run_dir: str | Path) -> MetricsLog:
    """Every complete epoch line; a torn or bad line is skipped with a warning."""
    result = MetricsLog()
    path = Path(run_dir) / METRICS
    try:
        text = path.read_text()
    except FileNotFoundError:
        return result
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "epoch" not in record:
                raise ValueError
        except ValueError:
            torn = number == len(lines) and not text.endswith("\n")
            what = "a torn last line" if torn else f"a bad line {number}"
            result.warnings.append(f"{path}: skipped {what}")
            continue
        result.epochs.append(record)
    return result


def append_metrics(run_dir: str | Path, record: dict[str, Any]) -> None:
    with open(Path(run_dir) / METRICS, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def truncate_metrics(run_dir: str | Path, epochs: int) -> None:
    """Keep only the first `epochs` epoch lines (on resume, past the last checkpoint)."""
    kept = [r for r in read_metrics(run_dir).epochs if r["epoch"] <= epochs]
    text = "".join(json.dumps(r) + "\n" for r in kept)
    from .atomic import write_atomic

    write_atomic(Path(run_dir) / METRICS, lambda handle: handle.write(text.encode()))


def write_state(run_dir: str | Path, **fields: Any) -> None:
    """Merge fields into state.json (state, pid, started, ended, message, ...)."""
    path = Path(run_dir) / STATE
    write_json_atomic(path, {**read_state(run_dir), **fields})


def read_state(run_dir: str | Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(run_dir) / STATE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def read_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})") from None
    except (OSError, ValueError) as error:
        raise RunError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} does not hold a config object")
    return data


# ---------------------------------------------------------------------------------------
# One writer per run folder

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are then not guarded against two writers
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT = 1.0  # seconds a trainer retries a busy lock (a reader's probe holds it briefly)


# A process whose trainers must never be sent SIGTERM (the app: a signal would end the whole
# program without restoring the terminal) says so in the lock files it writes.
_NO_SIGNAL = "no-signal"
_refuse_signals = False


def refuse_stop_signals(refuse: bool = True) -> None:
    """Mark this process as one that stop_run must not signal; its runs stop by request.

    The app calls this: it trains in a thread of the process that owns the terminal, so
    SIGTERM would end the app, not just the run. Its trainer still stops on stop_run,
    through the stop-request file that core.train.train looks for.
    """
    global _refuse_signals
    _refuse_signals = refuse


def _lock_text(pid: int) -> bytes:
    return f"{pid} {_NO_SIGNAL}\n".encode() if _refuse_signals else f"{pid}\n".encode()


class RunLock:
    """The flock that makes a process the one writer of a run folder.

    Held from before the first write until the trainer ends; the kernel drops it when the
    process dies, however it dies, so a free lock beside a "running" state means a crash.
    The file is unlinked on release (the folder of a finished run holds only its results);
    acquire() checks the file it locked is still the one at the path, so an unlink racing
    with a second trainer cannot let both in.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = LOCK_WAIT) -> RunLock:
        """Take the lock or raise RunError naming the process that has it."""
        if self._fd is not None:
            return self
        deadline = time.monotonic() + wait
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                raise RunError(
                    f"cannot lock run folder {self.run_dir}: {error.strerror or error}"
                ) from None
            if fcntl is None:
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                pid = read_state(self.run_dir).get("pid")
                who = f" (pid {pid})" if isinstance(pid, int) else ""
                raise RunError(
                    f"run {self.run_dir} is being trained by another process{who}; "
                    "one writer per run folder"
                ) from None
            except OSError as error:
                os.close(fd)
                raise RunError(
                    f"cannot lock run folder {self.run_dir}: {error.strerror or error}"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder unlinked it as we locked it: try the new file
        self._fd = fd
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, _lock_text(os.getpid()), 0)
        return self

    def handover(self) -> int:
        """The locked file descriptor, for a child process to inherit (see adopt()).

        The lock belongs to the open file, not the process: while the child keeps its copy
        the folder stays locked, with no moment between launcher and trainer when it is not.
        The caller closes its own copy after starting the child, and this object forgets it.
        """
        if self._fd is None:
            raise RunError(f"no lock held on {self.run_dir}")
        fd, self._fd = self._fd, None
        return fd

    @classmethod
    def adopt(cls, run_dir: str | Path, fd: int) -> RunLock:
        """The lock a launcher handed over as an inherited file descriptor."""
        lock = cls(run_dir)
        try:
            same = os.fstat(fd).st_ino == os.stat(lock.path).st_ino
        except OSError:
            same = False
        if not same:
            raise RunError(f"the lock handed over for {run_dir} is not its {LOCK}")
        os.set_inheritable(fd, False)
        lock._fd = fd
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, _lock_text(os.getpid()), 0)
        return lock

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # while still held: see acquire()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_alive(run_dir: str | Path) -> bool:
    """Whether a process is training this run folder now (it holds the lock)."""
    path = Path(run_dir) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if fcntl is None:
            return _pid_alive(read_state(run_dir).get("pid"))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return _pid_alive(read_state(run_dir).get("pid"))
        return False  # nobody had it; closing the file lets it go at once
    finally:
        os.close(fd)


def lock_holder(run_dir: str | Path) -> int | None:
    """The pid its holder wrote into train.lock (state.json's pid can lag behind it: a
    resumed run records its new pid only once its data are loaded)."""
    words = _lock_words(run_dir)
    return int(words[0]) if words and words[0].isdigit() else None


def _lock_words(run_dir: str | Path) -> list[str]:
    """train.lock's words: the holder's pid, then "no-signal" for a holder like the app."""
    try:
        return (Path(run_dir) / LOCK).read_text().split()
    except OSError:
        return []


def request_stop(run_dir: str | Path) -> None:
    """Leave the stop request that a trainer of this folder obeys within 0.1 s of a batch."""
    try:
        write_json_atomic(Path(run_dir) / STOP_REQUEST, {"time": time.time(), "pid": os.getpid()})
    except OSError as error:
        raise RunError(f"cannot ask run {run_dir} to stop: {error.strerror or error}") from None


def stop_requested(run_dir: str | Path) -> bool:
    """Whether someone asked this folder's trainer to stop (one stat: cheap)."""
    return os.path.exists(os.path.join(run_dir, STOP_REQUEST))


def clear_stop_request(run_dir: str | Path) -> None:
    with contextlib.suppress(OSError):
        (Path(run_dir) / STOP_REQUEST).unlink()


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def read_progress(run_dir: str | Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(run_dir) / PROGRESS).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def clear_progress(run_dir: str | Path) -> None:
    with contextlib.suppress(OSError):
        (Path(run_dir) / PROGRESS).unlink()


# ---------------------------------------------------------------------------------------
# Runs as the Runs screen and `cnn-tui watch` see them


@dataclass
class RunSummary:
    """One run folder at a glance; state is running, starting, finished, stopped, failed
    or crashed (state.json says running but no process holds the folder's lock)."""

    path: str
    name: str
    model: str | None
    preset: str | None
    dataset: str | None  # the human name of the data (says plainly if it is the sample)
    epochs_done: int  # complete epochs in metrics.jsonl
    epochs_planned: int | None
    best_val_accuracy: float | None
    best_epoch: int | None
    state: str
    alive: bool
    pid: int | None
    started: float | None  # time.time() when the run began
    ended: float | None
    duration_seconds: float | None  # training time: the sum of the epochs' seconds
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def effective_state(
    run_dir: str | Path, state: dict[str, Any] | None = None, alive: bool | None = None
) -> str:
    """state.json's state, with a dead "running" or "starting" read as "crashed"."""
    state = read_state(run_dir) if state is None else state
    stored = state.get("state")
    if is_alive(run_dir) if alive is None else alive:
        return stored if stored in LIVE_STATES else "running"
    if stored in (None, *LIVE_STATES) or not isinstance(stored, str):
        return "crashed"
    return stored


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_summary(run_dir: str | Path) -> RunSummary:
    """A run folder's summary, or RunError if it is not a run folder."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    try:
        config = read_config(run_dir)
    except RunError:
        if not (run_dir / STATE).exists():
            raise
        config = {}
    state = read_state(run_dir)
    metrics = read_metrics(run_dir)
    epochs = metrics.epochs
    best = max(epochs, key=lambda r: _number(r.get("val_accuracy")) or -1.0, default=None)
    alive = is_alive(run_dir)
    planned = state.get("epochs", config.get("epochs"))
    pid = (lock_holder(run_dir) if alive else None) or state.get("pid")
    started = _number(state.get("started"))
    if started is None:
        with contextlib.suppress(OSError):
            started = (run_dir / CONFIG).stat().st_mtime
    seconds = [_number(r.get("epoch_seconds")) for r in epochs]
    return RunSummary(
        path=str(run_dir),
        name=run_dir.name,
        model=config.get("model"),
        preset=config.get("preset"),
        dataset=config.get("dataset_name") or config.get("dataset"),
        epochs_done=max((int(r["epoch"]) for r in epochs), default=0),
        epochs_planned=int(planned) if isinstance(planned, int) else None,
        best_val_accuracy=_number(best.get("val_accuracy")) if best else None,
        best_epoch=int(best["epoch"]) if best else None,
        state=effective_state(run_dir, state, alive),
        alive=alive,
        pid=pid if isinstance(pid, int) else None,
        started=started,
        ended=None if alive else _number(state.get("ended")),
        duration_seconds=sum(s for s in seconds if s is not None) if epochs else None,
        message=str(state.get("message") or ""),
        warnings=metrics.warnings,
    )


def list_runs(runs_dir: str | Path) -> list[RunSummary]:
    """Every run folder under runs_dir, newest first; other folders are left out."""
    runs_dir = Path(runs_dir).expanduser()
    try:
        entries = [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    runs = []
    for path in entries:
        if not ((path / CONFIG).exists() or (path / STATE).exists()):
            continue
        with contextlib.suppress(RunError, OSError):
            runs.append(run_summary(path))
    runs.sort(key=lambda r: (r.started or 0.0, r.name), reverse=True)
    return runs


def find_run(runs_dir: str | Path, run: str | Path | None = None) -> Path:
    """A run folder from a path, a folder name under runs_dir, or (None) the newest run."""
    runs_dir = Path(runs_dir).expanduser()
    if run is None:
        runs = list_runs(runs_dir)
        if not runs:
            raise RunError(f"no runs in {runs_dir}")
        return Path(runs[0].path).resolve()
    path = Path(run).expanduser()
    for candidate in (path, runs_dir / str(run)):
        if candidate.is_dir() and ((candidate / CONFIG).exists() or (candidate / STATE).exists()):
            return candidate.resolve()
    if path.is_dir():
        raise RunError(f"{path} is not a run folder (no {CONFIG})")
    raise RunError(f"no run {run} (neither a folder nor a run in {runs_dir})")


def stop_run(run_dir: str | Path) -> int:
    """Ask a live run to stop; it ends "stopped" after its current batch, checkpoint kept.

    Two ways, so that it is safe whoever trains the folder: a stop-request file in the run
    folder, which every trainer (core.train.train) looks for at its progress interval, and
    SIGTERM, which a detached or command-line trainer turns into the same stop, but which
    is not sent to a process that refuses it (the app: see refuse_stop_signals), where it
    would end the program. Returns the trainer's pid.
    """
    import signal

    run_dir = Path(run_dir)
    if not is_alive(run_dir):
        raise RunError(f"run {run_dir} is not running ({effective_state(run_dir)})")
    pid = lock_holder(run_dir) or read_state(run_dir).get("pid")
    if not isinstance(pid, int) or pid <= 0:
        raise RunError(f"run {run_dir} is running but names no process")
    if pid == os.getpid():
        raise RunError(f"run {run_dir} is trained by this process; stop it from here")
    refuses_signals = _NO_SIGNAL in _lock_words(run_dir)[1:]
    try:
        request_stop(run_dir)
    except RunError:
        if refuses_signals:  # a read-only folder: SIGTERM alone can still stop the others
            raise
    if refuses_signals:
        return pid
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        raise RunError(f"run {run_dir}: its process {pid} has just ended") from None
    except PermissionError:
        raise RunError(f"run {run_dir}: not allowed to signal its process {pid}") from None
    return pid


def delete_run(run_dir: str | Path) -> None:
    """Remove a run folder; refused for a live run or a folder that is not a run."""
    import shutil

    run_dir = Path(run_dir)
    if not ((run_dir / CONFIG).exists() or (run_dir / STATE).exists()):
        raise RunError(f"{run_dir} is not a run folder; not deleting it")
    if is_alive(run_dir):
        raise RunError(f"run {run_dir} is running; stop it before deleting it")
    try:
        shutil.rmtree(run_dir)
    except OSError as error:
        raise RunError(f"cannot delete {run_dir}: {error.strerror or error}") from None


METRIC_COLUMNS = (
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "epoch_seconds",
    "images_per_second",
)


def export_metrics_csv(run_dir: str | Path, path: str | Path) -> Path:
    """Write a run's epochs as CSV (a header, then a row per epoch); returns the path."""
    import csv
    import io

    from .atomic import write_atomic

    epochs = read_metrics(run_dir).epochs
    extra = sorted({k for r in epochs for k in r} - set(METRIC_COLUMNS))
    columns = [*METRIC_COLUMNS, *extra]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(epochs)
    try:
        return write_atomic(Path(path).expanduser(), lambda h: h.write(text.getvalue().encode()))
    except OSError as error:
        raise RunError(f"cannot write {path}: {error.strerror or error}") from None
