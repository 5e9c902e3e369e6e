"""Benchmark: what measuring inside training costs the `book` preset's epoch (issue 12 part
4: each layer's norms, update ratios and saturation, the weights' histograms and the
machine's figures; target at most 3%).

    python tests/bench/bench_layers.py --data ../shared/data/cifar10-jpeg [--rounds 6]
        [--epochs 3] [--threads N] [--device cpu|cuda]

Each round trains the book preset twice in this one process, from the same seed, with the
measuring on and off (`train(..., measure_layers=False)`), the order swapped every round
so that a drift in the machine's load hits both alike. An epoch's time is the wall (and
CPU) time between one EpochEnd and the next, as bench_train.py times it: training,
validation, the measuring at the epoch's end and the run-folder writes. The first epoch
of each run (warm-up) is left out; the medians and their ratio are what to read.

On a busy machine the two medians wander by more than the few percent to be told apart, so
a last run accounts for the measuring directly: the CPU time spent inside its own calls
(the optimizer's step hooks, the activations' forward hooks, the epoch's end, the live
machine reading), timed around each, as a share of each epoch's CPU time.

A developer's tool, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_train import DEFAULT_DATA, median, run_ours, start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="cifar10-jpeg folder or .npz")
    parser.add_argument("--rounds", type=int, default=6, help="on/off pairs (default 6)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (first not timed)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or mps")
    args = parser.parse_args(argv)

    dataset = start(args)
    from cnn_tui.core.config import preset_config

    config = preset_config("book", epochs=args.epochs, device=args.device)
    times: dict[bool, list[dict]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        for round_ in range(args.rounds):
            order = (True, False) if round_ % 2 == 0 else (False, True)
            shown = []
            for measure in order:
                records = run_ours(
                    config.with_changes(seed=round_),
                    dataset,
                    Path(tmp) / "runs",
                    measure_layers=measure,
                )
                times[measure].extend(records[1:])
                walls = " ".join(f"{r['wall']:.2f}s" for r in records[1:])
                shown.append(f"{'on' if measure else 'off'} {walls}")
            print(f"round {round_ + 1}/{args.rounds}: " + ", ".join(shown), flush=True)

        shares = account(config.with_changes(seed=args.rounds), dataset, Path(tmp) / "runs")

    print()
    print(f"epochs timed: {len(times[True])} each way ({args.rounds} alternated rounds)")
    for what in ("wall", "cpu"):
        on = median([r[what] for r in times[True]])
        off = median([r[what] for r in times[False]])
        print(
            f"median {what} s/epoch: measuring on {on:.3f}, off {off:.3f}: "
            f"{(on / off - 1) * 100:+.1f}% (target at most +3%)"
        )
    print(
        "the measuring's own calls, share of each epoch's CPU time (first left out): "
        + ", ".join(f"{share * 100:.2f}%" for share in shares[1:])
        + f"; median {median(shares[1:]) * 100:.2f}%"
    )


def account(config, dataset, runs_dir: Path) -> list[float]:
    """One run with the measuring on and its calls timed (CPU seconds): their share of
    each epoch's CPU time. The timers wrap the methods of this process's classes for the
    run's length only."""
    from cnn_tui.core.layer_watch import LayerWatch, SaturationCounter

    spent = [0.0]

    def timed(method: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - started

        return wrapper

    def timed_hooks(self, name, fail):
        return timed(original_hook_for(self, name, fail))

    names = ("_before_step", "_after_step", "before_validation", "epoch_end", "live_machine")
    originals = {name: LayerWatch.__dict__[name] for name in names}
    original_hook_for = SaturationCounter._hook_for
    for name, method in originals.items():
        setattr(LayerWatch, name, timed(method))
    SaturationCounter._hook_for = timed_hooks
    shares = []

    def on_epoch(record: dict) -> None:
        shares.append(spent[0] / record["cpu"])
        spent[0] = 0.0

    try:
        run_ours(config, dataset, runs_dir, on_epoch)
    finally:
        for name, method in originals.items():
            setattr(LayerWatch, name, method)
        SaturationCounter._hook_for = original_hook_for
    return shares


if __name__ == "__main__":
    sys.exit(main())
