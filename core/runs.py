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
import errno
import json
import math
import os
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
from .events import EpochEnd, Progress
from .safe_files import MAX_JSON_BYTES, FileRefused, read_regular

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


# ---------------------------------------------------------------------------------------
# Reading a run's files: regular files only, bounded in size, every value checked

MAX_METRICS_BYTES = 256 << 20  # about a million epochs
_EPOCH_NUMBERS = tuple(f.name for f in fields(EpochEnd) if f.name != "epoch")


def _read_bytes(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most limit of them (core.safe_files: a FIFO or device is
    never opened for reading). FileNotFoundError when there is no file; FileRefused, an
    OSError saying why, for anything else that cannot be read."""
    try:
        return read_regular(path, limit)
    except FileRefused as refused:
        if refused.missing and not os.path.islink(path):
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
        raise


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _read_object(path: Path) -> dict[str, Any]:
    """A JSON object from a small file; RunError saying why it is not one (absent files
    raise FileNotFoundError)."""
    try:
        data = json.loads(_read_bytes(path, MAX_JSON_BYTES))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise RunError(f"cannot read {path}: {_reason(error)}") from None
    except ValueError as error:  # also UnicodeDecodeError
        raise RunError(f"cannot read {path}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise RunError(f"cannot read {path}: not a JSON object")
    return data


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _count(value: Any, low: int = 0) -> int | None:
    """A whole number of at least low (not a bool, not absurdly large), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < 2**31:
        return None
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def epoch_from_dict(record: Any) -> EpochEnd | None:
    """A metrics.jsonl object as an EpochEnd, or None if any field is missing, of the wrong
    type or not finite (a hand-edited or foreign line)."""
    if not isinstance(record, dict):
        return None
    epoch = _count(record.get("epoch"), 1)
    numbers = {name: _finite(record.get(name)) for name in _EPOCH_NUMBERS}
    if epoch is None or any(v is None for v in numbers.values()):
        return None
    return EpochEnd(epoch=epoch, **numbers)  # type: ignore[arg-type]


@dataclass
class MetricsLog:
    """metrics.jsonl read: its valid epochs, a warning per line skipped, and where each
    epoch's line ends in the file (for a truncation that needs no free space)."""

    epochs: list[EpochEnd] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # byte offset of each epoch's line
    size: int = 0  # bytes of whole lines (a torn last line excluded)
    readable: bool = True  # False: the file is there but could not be read at all


def read_metrics(run_dir: str | Path) -> MetricsLog:
    """Every valid epoch line as an EpochEnd; a torn, bad or non-finite line is skipped
    with a warning. The one reader of metrics.jsonl (the CLI, watch and the app use it)."""
    result = MetricsLog()
    path = Path(run_dir) / METRICS
    try:
        data = _read_bytes(path, MAX_METRICS_BYTES)
    except FileNotFoundError:
        return result
    except OSError as error:
        result.warnings.append(f"{path}: cannot be read ({_reason(error)})")
        result.readable = False
        return result
    offset = 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        start, offset = offset, offset + len(line) + 1
        torn = number == len(lines)  # no newline after it (empty if the file ends whole)
        if not line.strip():
            continue
        try:
            record = epoch_from_dict(json.loads(line))
        except ValueError:
            record = None
        if record is None or torn:
            what = "a torn last line" if torn else f"a bad line {number}"
            result.warnings.append(f"{path}: skipped {what}")
            continue
        result.epochs.append(record)
        result.starts.append(start)
    result.size = data.rfind(b"\n") + 1
    return result


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
    data = record.to_dict() if isinstance(record, EpochEnd) else dict(record)
    if epoch_from_dict(data) is None:
        raise ValueError(f"not an epoch record: {data!r}")
    _append_line(Path(run_dir) / METRICS, json.dumps(data) + "\n")


def truncate_metrics(run_dir: str | Path, epochs: int) -> list[int]:
    """Cut metrics.jsonl before the first epoch line past `epochs`, and any torn last
    line; returns the epochs cut. In place (os.truncate): it needs no free space, so it
    works on a full disk too. Lines before the cut, bad ones included, are kept as they
    are."""
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


def read_state(run_dir: str | Path) -> dict[str, Any]:
    """state.json's object; {} when it is absent or unreadable (see state_problem)."""
    try:
        return _read_object(Path(run_dir) / STATE)
    except (OSError, RunError):
        return {}


def state_problem(run_dir: str | Path) -> str | None:
    """Why state.json cannot be read, or None (absent counts as fine: a new run)."""
    try:
        _read_object(Path(run_dir) / STATE)
    except FileNotFoundError:
        return None
    except RunError as error:
        return str(error)
    return None


def read_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG
    try:
        return _read_object(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})") from None


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
    try:  # O_NONBLOCK: a FIFO put in its place must not block the listing
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
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
        return read_regular(Path(run_dir) / LOCK, 4096).decode("ascii", "replace").split()
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


def read_progress(run_dir: str | Path) -> Progress | None:
    """progress.json as a Progress, or None when absent, unreadable or not one."""
    try:
        data = _read_object(Path(run_dir) / PROGRESS)
    except (OSError, RunError):
        return None
    counts = {name: _count(data.get(name)) for name in ("epoch", "epochs", "batch", "batches")}
    numbers = {
        name: _finite(data.get(name))
        for name in ("images_per_second", "eta_seconds", "elapsed_seconds")
    }
    if any(v is None for v in (*counts.values(), *numbers.values())):
        return None
    return Progress(**counts, **numbers)  # type: ignore[arg-type]


def clear_progress(run_dir: str | Path) -> None:
    with contextlib.suppress(OSError):
        (Path(run_dir) / PROGRESS).unlink()


# ---------------------------------------------------------------------------------------
# Runs as the Runs screen and `cnn-tui watch` see them


@dataclass
class RunSummary:
    """One run folder at a glance; state is running, starting, finished, stopped, failed,
    crashed (state.json says running but no process holds the folder's lock) or unreadable
    (state.json is damaged or holds no known state: see warnings)."""

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


KNOWN_STATES = (*LIVE_STATES, "finished", "stopped", "failed")


def run_summary(run_dir: str | Path) -> RunSummary:
    """A run folder's summary, or RunError if it is not a run folder.

    Every value is checked: a file with wrong types gives None for that value and a
    warning, never an exception, so one odd run never breaks a listing of the others.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    warnings: list[str] = []
    try:
        config = read_config(run_dir)
    except RunError as error:
        if not (run_dir / STATE).exists():
            raise
        config = {}
        if (run_dir / CONFIG).exists():
            warnings.append(str(error))
    state = read_state(run_dir)
    problem = state_problem(run_dir)
    if not problem and "state" in state and state["state"] not in KNOWN_STATES:
        problem = f"{run_dir / STATE}: unknown state {str(state['state'])[:40]!r}"
    if problem:
        warnings.append(problem)
    metrics = read_metrics(run_dir)
    epochs = metrics.epochs
    best = max(epochs, key=lambda r: r.val_accuracy, default=None)
    alive = is_alive(run_dir)
    shown = effective_state(run_dir, state, alive)
    if problem and not alive:
        shown = "unreadable"  # its state.json says nothing usable; it may be resumed
    planned = _count(state.get("epochs"), 1) or _count(config.get("epochs"), 1)
    pid = (lock_holder(run_dir) if alive else None) or _count(state.get("pid"), 1)
    started = _finite(state.get("started"))
    if started is None:
        with contextlib.suppress(OSError):
            started = (run_dir / CONFIG).stat().st_mtime
    return RunSummary(
        path=str(run_dir),
        name=run_dir.name,
        model=_text(config.get("model")),
        preset=_text(config.get("preset")),
        dataset=_text(config.get("dataset_name")) or _text(config.get("dataset")),
        epochs_done=max((r.epoch for r in epochs), default=0),
        epochs_planned=planned,
        best_val_accuracy=best.val_accuracy if best else None,
        best_epoch=best.epoch if best else None,
        state=shown,
        alive=alive,
        pid=pid,
        started=started,
        ended=None if alive else _finite(state.get("ended")),
        duration_seconds=sum(r.epoch_seconds for r in epochs) if epochs else None,
        message=_text(state.get("message")) or "",
        warnings=warnings + metrics.warnings,
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
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(epoch.to_dict() for epoch in epochs)
    try:
        return write_atomic(Path(path).expanduser(), lambda h: h.write(text.getvalue().encode()))
    except OSError as error:
        raise RunError(f"cannot write {path}: {error.strerror or error}") from None
