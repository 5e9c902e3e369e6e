"""How many threads a CPU run trains with: measured, not guessed.

Two OpenMP threads on two cores make the book's Net faster on an idle machine and 2.2x
slower than one thread when one core is busy with something else (their ops wait on each
other at every barrier). No fixed number is right on a laptop, so a run that may choose
times blocks of its own batches at one thread and at all of them, alternated, and keeps
the faster; it measures again when the epochs' speed moves away from the one it chose by.
The timed batches are the run's own training, so the measurement costs nothing but the
slower blocks. It changes a process-wide torch setting, so only a process that does
nothing but train may use it (the CLI's train and a detached run; the app fixes its
threads once, before any model runs).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BLOCK = 8  # batches timed at a time
ROUNDS = 3  # timed blocks per thread count, alternated
GAIN = 0.95  # more threads are kept only when at least 5% faster than one
CLEAR = 1.5  # one count this much slower than another after a block each: no more rounds
DRIFT = 0.25  # two epochs in a row this much slower or faster than the first after the
# choice: measure again (one such epoch is common noise beside another busy program)


def threads_fixed_by_environment() -> bool:
    """The user said how many threads (OMP_NUM_THREADS or MKL_NUM_THREADS): obey them."""
    return any(os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"))


@dataclass
class ThreadTuner:
    """Times the run's batches at `candidates` thread counts and keeps the fastest.

    The epoch loop calls before_batch and after_batch around each training step and
    epoch_done after each epoch; set_threads is torch.set_num_threads, say sends a line to
    the run's log. clock is injectable for tests.
    """

    candidates: tuple[int, ...]
    set_threads: Callable[[int], None]
    say: Callable[[str], None]
    steps_per_epoch: int = BLOCK
    clock: Callable[[], float] = time.perf_counter
    chosen: int | None = None
    reference: float | None = None  # images/s of the first whole epoch after a choice
    _chosen_this_epoch: bool = False  # that epoch's speed mixes the counts measured
    _strikes: int = 0  # epochs in a row off the reference by more than DRIFT
    _plan: list[tuple[int, bool]] = field(default_factory=list)  # (threads, timed?)
    _times: dict[int, list[float]] = field(default_factory=dict)
    _count: int = 0
    _started: float = 0.0

    def __post_init__(self) -> None:
        self.block = max(1, min(BLOCK, self.steps_per_epoch))
        self._measure()

    @property
    def measuring(self) -> bool:
        return bool(self._plan)

    def _measure(self, warm_up: bool = True) -> None:
        """Plan a warm-up block (the run's first batches allocate), then ROUNDS timed
        blocks per count in an ABBA order (a slow drift of the machine's load then weighs
        on both alike)."""
        forward, backward = list(self.candidates), list(reversed(self.candidates))
        order: list[int] = []
        for round_ in range(ROUNDS):
            order += forward if round_ % 2 == 0 else backward
        self._plan = [(self.candidates[-1], False)] if warm_up else []
        self._plan += [(n, True) for n in order]
        self._times = {n: [] for n in self.candidates}
        self._count = 0

    def before_batch(self) -> None:
        if self._plan and self._count == 0:
            self.set_threads(self._plan[0][0])
            self._started = self.clock()

    def after_batch(self) -> None:
        if not self._plan:
            return
        self._count += 1
        if self._count < self.block:
            return
        threads, timed = self._plan.pop(0)
        if timed:
            self._times[threads].append((self.clock() - self._started) / self.block)
        self._count = 0
        if not self._plan or self._clear():
            self._plan = []
            self._choose()

    def _clear(self) -> bool:
        """Every count timed once and one far slower: more rounds would only cost (two
        threads on a busy machine take four times as long a batch)."""
        firsts = [times[0] for times in self._times.values() if times]
        return len(firsts) == len(self._times) and max(firsts) > CLEAR * min(firsts)

    def restart_block(self) -> None:
        """Time the current block again from its start (a pause or the epoch's validation
        fell inside it)."""
        self._count = 0

    def epoch_done(self, images_per_second: float) -> None:
        """A block cut by the epoch's end (validation runs next) is timed again; a chosen
        count is measured again when the speed moves by more than DRIFT."""
        if self._plan:
            self.restart_block()
            return
        if self._chosen_this_epoch:
            self._chosen_this_epoch = False
            return
        if self.reference is None:
            self.reference = images_per_second
            return
        off = abs(images_per_second - self.reference) > DRIFT * self.reference
        self._strikes = self._strikes + 1 if off else 0
        if self._strikes >= 2:
            change = "slower" if images_per_second < self.reference else "faster"
            self.say(
                f"threads: two epochs ran {abs(images_per_second / self.reference - 1):.0%} "
                f"{change} than before; measuring again"
            )
            self.reference, self._strikes = None, 0
            self._measure(warm_up=False)

    def _choose(self) -> None:
        medians = {n: sorted(t)[len(t) // 2] for n, t in self._times.items() if t}
        one = medians[self.candidates[0]]
        best = min(medians, key=lambda n: medians[n])
        self.chosen = best if medians[best] < GAIN * one else self.candidates[0]
        self.set_threads(self.chosen)
        self._chosen_this_epoch = True
        timings = ", ".join(f"{medians[n] * 1000:.1f} with {n}" for n in self.candidates)
        self.say(f"threads: {self.chosen} (ms a batch: {timings}; OMP_NUM_THREADS fixes it)")
