"""One writer per run folder, and asking that writer to stop.

A folder has one writer: the trainer holds an flock on train.lock for its whole life, so
a second trainer (or a resume of a live run) is refused, and a run whose state.json says
"running" while nobody holds the lock died without saying so: it reads as "crashed".
A stop request is a file in the folder that every trainer looks for (core/runs.py's
stop_run leaves it, and signals the trainers that accept a signal).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from .atomic import write_json_atomic
from .run_files import LOCK, STOP_REQUEST, RunError
from .run_records import read_state
from .safe_files import read_regular

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


def name_holder(fd: int, pid: int, no_signal: bool = False) -> None:
    """Write the holder's pid into the locked train.lock (see lock_holder), and "no-signal"
    for one that stop_run must not signal; best effort (the lock holds without it)."""
    text = f"{pid} {_NO_SIGNAL}\n" if no_signal else f"{pid}\n"
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)


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
        name_holder(fd, os.getpid(), _refuse_signals)
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
        name_holder(fd, os.getpid(), _refuse_signals)
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


def refuses_signals(run_dir: str | Path) -> bool:
    """Whether the folder's trainer must not be signalled (see refuse_stop_signals)."""
    return _NO_SIGNAL in _lock_words(run_dir)[1:]


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


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
