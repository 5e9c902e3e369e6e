"""Made-up layer figures of a book's Net run, as core's records (no tests here): epochs
whose `layers`, `histograms` and `machine` say what the Layers view must show, with act1
saturating past the flag's threshold and conv2's gradient vanishing from epoch 3."""

from __future__ import annotations

from cnn_tui.core.events import EpochEnd
from cnn_tui.core.layer_stats import Histogram, LayerStats, MachineStats

WEIGHTED = ("conv1", "conv2", "fc1", "fc2")
MODULES = ("conv1", "act1", "conv2", "act2", "fc1", "act3", "fc2")


def layer_epoch(epoch: int) -> EpochEnd:
    """Epoch `epoch` of the made-up run: act1 is 40% saturated at epoch 1, 10 points more
    each epoch (over 50% from epoch 3); conv2's gradient is 1e-7 from epoch 3."""
    grad2 = 1e-7 if epoch >= 3 else 0.01
    layers = {
        "conv1": LayerStats(1.0 + 0.1 * epoch, 0.05 / epoch, 1e-3 / epoch),
        "act1": LayerStats(saturated=0.3 + 0.1 * epoch),
        "conv2": LayerStats(2.0 + 0.1 * epoch, grad2, 1e-4),
        "act2": LayerStats(saturated=0.1),
        "fc1": LayerStats(3.0, 0.02, 2e-3),
        "act3": LayerStats(saturated=0.2),
        "fc2": LayerStats(1.0 + 0.01 * epoch, 0.1, 3e-3),
    }
    counts = (1, 4, 9, 4, 1, 0, 0, 1)
    histograms = {name: Histogram(-0.1 * epoch, 0.1 * epoch, counts) for name in WEIGHTED}
    machine = MachineStats(150.0 + epoch, (400 + epoch) * 2**20, 14)
    return EpochEnd(
        epoch,
        0.6,
        0.7,
        0.62,
        0.68,
        1.0,
        1000.0,
        layers=layers,
        machine=machine,
        histograms=histograms,
    )
