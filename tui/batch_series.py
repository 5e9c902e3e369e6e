"""The per-batch figures of the run in progress: each batch's training loss and learning
rate, at its step and its training time, for the Train screen's charts by step.

They come with core's Progress events (the batches since the previous one). The series
thins itself as it grows (two neighbours become their mean) so that drawing it four times
a second stays cheap however long the run. Nothing here imports Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnn_tui.core.events import Progress

MOST_POINTS = 4096  # past this the series is halved; a chart is far narrower anyway


@dataclass
class BatchSeries:
    """steps, seconds (training time: pauses left out), losses and lrs, one per batch (or
    per mean of neighbours, once thinned); per_epoch: batches in an epoch."""

    steps: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    per_epoch: int = 0
    version: int = 0  # changes whenever the figures do
    _reported: tuple[int, float] = (0, 0.0)  # the epoch and its seconds at the last report

    def add(self, progress: Progress, seconds_before: float) -> None:
        """Take in the batches of one Progress event; seconds_before: the training time of
        the run's epochs before this one."""
        self.per_epoch = progress.batches
        count = len(progress.losses)
        if not count:
            return
        epoch, seconds = self._reported
        start = seconds_before + (seconds if epoch == progress.epoch else 0.0)
        end = seconds_before + progress.epoch_seconds
        self._reported = (progress.epoch, progress.epoch_seconds)
        first = progress.step - count
        for i, loss in enumerate(progress.losses, 1):  # the times between two reports:
            self.steps.append(float(first + i))  # spread evenly over their batches
            self.seconds.append(start + (end - start) * i / count)
            self.losses.append(loss)
        lrs = progress.lrs if len(progress.lrs) == count else (float("nan"),) * count
        self.lrs.extend(lrs)
        if len(self.steps) > MOST_POINTS:
            for values in (self.steps, self.seconds, self.losses, self.lrs):
                values[:] = halve(values)
        self.version += 1


def halve(values: list[float]) -> list[float]:
    """Each two neighbours as their mean (an odd last one kept)."""
    pairs = [(a + b) / 2 for a, b in zip(values[::2], values[1::2], strict=False)]
    return pairs + values[len(pairs) * 2 :]


def thin(xs: list[float], ys: list[float], most: int) -> tuple[list[float], list[float]]:
    """At most `most` points: consecutive points grouped, each group as its mean."""
    if len(xs) <= most or most <= 0:
        return list(xs), list(ys)
    size = len(xs) / most
    out_x, out_y = [], []
    for group in range(most):
        start, stop = round(group * size), round((group + 1) * size)
        if stop > start:
            out_x.append(sum(xs[start:stop]) / (stop - start))
            out_y.append(sum(ys[start:stop]) / (stop - start))
    return out_x, out_y
