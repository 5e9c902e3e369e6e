"""A look inside training, as plain records: each layer's figures per epoch, its weights'
histogram, and the trainer process beside the model (issue 12 part 4).

The measuring lives in core/layer_watch.py; these records cross threads and files. Each
turns into the JSON written in metrics.jsonl (figures, machine) or histograms.jsonl
(histograms), and is read back from it by the `*_from_json` functions here, which give
None for anything that is not a valid record (a hand-edited or foreign line), never an
exception.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

MAX_BINS = 1024  # more bins than any histogram cnn-tui writes: a foreign line
MAX_BYTES = 1 << 50  # a byte count beyond any machine's memory: not a real figure


@dataclass(frozen=True)
class LayerStats:
    """One module's figures for one epoch (None where they do not apply)."""

    weight_norm: float | None = None  # L2 norm of the module's weight at the epoch's end
    grad_norm: float | None = None  # the weight's gradient L2 norm, averaged over the batches
    update_ratio: float | None = None  # ||update|| / ||weight|| per step, averaged
    saturated: float | None = None  # activation modules: share 0..1 of saturated outputs
    activation: str | None = None  # "tanh" or "relu": what saturated counts (ACTIVATIONS)

    def figures(self) -> dict[str, float | None]:
        """The numbers by name, in LAYER_FIGURES' order (the app's and the CLI's series)."""
        return {
            "weight_norm": self.weight_norm,
            "grad_norm": self.grad_norm,
            "update_ratio": self.update_ratio,
            "saturated": self.saturated,
        }


@dataclass(frozen=True)
class Histogram:
    """A module's weight values at the epoch's end: counts in equal bins from low to high."""

    low: float
    high: float
    counts: tuple[int, ...]  # 32 bins


@dataclass(frozen=True)
class MachineStats:
    """The trainer process beside the model (psutil; torch.cuda on a GPU)."""

    cpu_percent: float  # of one core (psutil.Process.cpu_percent: 200 = two cores busy)
    rss_bytes: int
    threads: int
    gpu_percent: float | None = None
    gpu_memory_bytes: int | None = None


LAYER_FIGURES = ("weight_norm", "grad_norm", "update_ratio", "saturated")  # the numbers
ACTIVATIONS = ("tanh", "relu")

# What a glance should catch, for the app's Layers view and `cnn-tui layers` alike. An
# activation is "saturated" past a share of its outputs on the fixed validation batch
# (|tanh| > 0.99, or a ReLU's exact 0): for tanh past half, as most of the layer then
# passes almost no gradient back; a ReLU zeroes about half its inputs by design (a
# healthy net-depth sits at 18-55%), so only past 90% (units dying). A record without its
# activation (none is written without one) takes the tanh rule.
SATURATED_ABOVE = {"tanh": 0.5, "relu": 0.9}
# A layer's gradient "vanishes" under this many of its weight norms: a step moves nothing.
VANISHING_BELOW = 1e-6
# A layer takes "big steps" when each update moves its weights by over this share.
BIG_STEPS_ABOVE = 1e-2
SATURATED, VANISHING, BIG_STEPS = "saturated", "vanishing gradient", "big steps"


def saturated_above(stats: LayerStats) -> float:
    """The share of saturated outputs past which this activation is flagged."""
    return SATURATED_ABOVE.get(stats.activation or "tanh", SATURATED_ABOVE["tanh"])


def layer_flags(stats: LayerStats | None) -> tuple[str, ...]:
    """What a module's figures at one epoch say is wrong (the thresholds above)."""
    if stats is None:
        return ()
    flags = []
    if stats.saturated is not None and stats.saturated > saturated_above(stats):
        flags.append(SATURATED)
    weight, grad, ratio = stats.weight_norm, stats.grad_norm, stats.update_ratio
    if weight is not None and grad is not None and grad < VANISHING_BELOW * weight:
        flags.append(VANISHING)
    if ratio is not None and ratio > BIG_STEPS_ABOVE:
        flags.append(BIG_STEPS)
    return tuple(flags)


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _whole(value: object, high: int = MAX_BYTES) -> int | None:
    """A whole number 0..high (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        return None
    return value


def _present(record: Any) -> dict[str, Any]:
    """A record's fields as JSON, the None ones left out."""
    return {name: value for name, value in asdict(record).items() if value is not None}


def layers_to_json(layers: dict[str, LayerStats]) -> dict[str, dict[str, float]]:
    return {name: _present(stats) for name, stats in layers.items()}


def layers_from_json(value: object) -> dict[str, LayerStats] | None:
    """A metrics line's "layers" object; None when it is not a valid one. A figure that is
    not a finite number is left out (None), as one that was never measured."""
    if not isinstance(value, dict) or not value:
        return None
    layers = {}
    for name, figures in value.items():
        if not isinstance(name, str) or not isinstance(figures, dict):
            return None
        numbers = {key: _finite(figures.get(key)) for key in LAYER_FIGURES}
        activation = figures.get("activation")
        layers[name] = LayerStats(
            **numbers, activation=activation if activation in ACTIVATIONS else None
        )
    return layers


def machine_to_json(machine: MachineStats) -> dict[str, float]:
    return _present(machine)


def machine_from_json(value: object) -> MachineStats | None:
    """A metrics line's (or progress.json's) "machine" object; None when it is not one."""
    if not isinstance(value, dict):
        return None
    cpu = _finite(value.get("cpu_percent"))
    rss = _whole(value.get("rss_bytes"))
    threads = _whole(value.get("threads"), 1 << 20)
    if cpu is None or cpu < 0 or rss is None or threads is None:
        return None
    gpu = _finite(value.get("gpu_percent"))
    gpu_memory = _whole(value.get("gpu_memory_bytes"))
    return MachineStats(cpu, rss, threads, gpu if gpu is None or gpu >= 0 else None, gpu_memory)


def histogram_to_json(histogram: Histogram) -> dict[str, Any]:
    return {"low": histogram.low, "high": histogram.high, "counts": list(histogram.counts)}


def histogram_from_json(value: object) -> Histogram | None:
    if not isinstance(value, dict):
        return None
    low, high, counts = _finite(value.get("low")), _finite(value.get("high")), value.get("counts")
    if low is None or high is None or low > high or not isinstance(counts, list):
        return None
    if not 0 < len(counts) <= MAX_BINS:
        return None
    whole = tuple(_whole(count) for count in counts)
    if any(count is None for count in whole):
        return None
    return Histogram(low, high, whole)  # type: ignore[arg-type]


def histograms_line(epoch: int, histograms: dict[str, Histogram]) -> dict[str, Any]:
    """An epoch's line of histograms.jsonl."""
    return {
        "epoch": epoch,
        "layers": {name: histogram_to_json(h) for name, h in histograms.items()},
    }


def histograms_from_line(record: object) -> tuple[int, dict[str, Histogram]] | None:
    """A histograms.jsonl line as (epoch, module -> histogram); None when it is not one."""
    if not isinstance(record, dict):
        return None
    epoch, layers = _whole(record.get("epoch"), 2**31 - 1), record.get("layers")
    if not epoch or not isinstance(layers, dict):
        return None
    histograms = {}
    for name, value in layers.items():
        histogram = histogram_from_json(value)
        if not isinstance(name, str) or histogram is None:
            return None
        histograms[name] = histogram
    return epoch, histograms
