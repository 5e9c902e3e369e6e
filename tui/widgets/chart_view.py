"""How the charts are asked to look, and the arithmetic behind them (no Textual here).

Kept apart from charts.py so the Train screen can hold its view settings before
textual-plotext is imported (the charts are mounted after the first frame).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Axis = Literal["epoch", "step", "time"]  # what the charts' horizontal axis counts
SMOOTHING = 0.6  # TensorBoard's default weight


def ema(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing (the first point is kept).

    Non-finite values are passed through unsmoothed and do not poison later points.
    """
    smoothed, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        smoothed.append(last / (1 - weight**count))
    return smoothed


@dataclass(frozen=True)
class ChartView:
    """How the user asked the charts to look (toggled by keys on the Train screen)."""

    smooth: bool = False
    log_loss: bool = False
    x_axis: Axis = "epoch"


NICE_STEPS = sorted({m * 10**k for k in range(8) for m in (1, 2, 5)} | {25, 250})


def integer_ticks(last: int, most: int = 6) -> list[int]:
    """Whole-number ticks (epochs, steps) from 1 to last, at most `most` of them."""
    if last <= 1:
        return [1]
    step = max(1, math.ceil(last / most))
    for nice in NICE_STEPS:
        if nice >= step:
            step = nice
            break
    ticks = [1, *range(step, last + 1, step)] if step > 1 else list(range(1, last + 1))
    return sorted(set(ticks))


def time_label(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"
