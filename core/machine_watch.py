"""The trainer process beside the model: CPU use, resident memory and threads (psutil), and
on a CUDA device its utilisation and the memory torch holds (torch.cuda).

Two readings: an epoch's (its CPU use is the mean since the previous epoch's reading, or
since the watch began, from one psutil.Process) and a live one for Progress, at most once
a second (another Process, so the two counters do not reset each other). Every call is guarded: a
figure that cannot be read (no pynvml for the GPU's utilisation, a process table psutil
cannot see) is None or leaves the reading out; nothing here raises into a run. Without
psutil (a dependency, so a broken install) there are no readings at all.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .layer_stats import MachineStats

if TYPE_CHECKING:
    import psutil
    import torch

LIVE_INTERVAL = 1.0  # seconds between live readings at least


class MachineWatch:
    """Reads the trainer process's figures on device (CUDA adds the GPU's two)."""

    def __init__(self, device: torch.device) -> None:
        self._device = device if device.type == "cuda" else None
        self._gpu_utilisation = self._device is not None  # until it fails once (no pynvml)
        self._last_live = time.monotonic()
        try:
            import psutil

            self._epoch: psutil.Process | None = psutil.Process()
            self._live: psutil.Process | None = psutil.Process()
            for process in (self._epoch, self._live):
                process.cpu_percent(None)  # starts the counter: the first call reads 0.0
        except Exception:  # no psutil, or a process table it cannot read
            self._epoch = self._live = None

    def epoch_reading(self) -> MachineStats | None:
        """The figures now, with CPU use averaged since the previous epoch_reading (or the
        watch's start); None if unreadable."""
        return self._reading(self._epoch)

    def live_reading(self) -> MachineStats | None:
        """The figures now, at most once per LIVE_INTERVAL (None between)."""
        now = time.monotonic()
        if now - self._last_live < LIVE_INTERVAL:
            return None
        self._last_live = now
        return self._reading(self._live)

    def _reading(self, process: psutil.Process | None) -> MachineStats | None:
        if process is None:
            return None
        try:
            with process.oneshot():
                cpu = float(process.cpu_percent(None))
                rss = int(process.memory_info().rss)
                threads = int(process.num_threads())
        except Exception:  # psutil.Error (the process table), OSError
            return None
        gpu_percent, gpu_memory = self._gpu()
        return MachineStats(cpu, rss, threads, gpu_percent, gpu_memory)

    def _gpu(self) -> tuple[float | None, int | None]:
        """The CUDA device's utilisation (pynvml, through torch) and torch's memory on it."""
        if self._device is None:
            return None, None
        import torch

        percent: float | None = None
        if self._gpu_utilisation:
            try:
                percent = float(torch.cuda.utilization(self._device))
            except Exception:  # no pynvml, no NVML driver, a device NVML does not list
                self._gpu_utilisation = False
        try:
            memory: int | None = int(torch.cuda.memory_allocated(self._device))
        except Exception:  # a CUDA error here is not the run's to die of
            memory = None
        return percent, memory
