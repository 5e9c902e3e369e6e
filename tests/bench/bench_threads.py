"""Benchmark: `cnn-tui train`'s measured thread count against one and two fixed threads.

A developer's tool, not a test. Each round runs `cnn-tui train --preset book --json` for a
few epochs three ways, alternated: the default (core/threads.py measures and picks), and
OMP_NUM_THREADS=1 and =2. It does so on an idle machine and again with one CPU burner
(`python -c "while True: pass"`) running beside it, and prints the median epoch time of
each (the first epoch, which holds the measuring, is reported apart).

    .venv/bin/python tests/bench/bench_threads.py --data ../shared/data/cifar10-jpeg
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WAYS = {"default (measured)": None, "1 thread": "1", "2 threads": "2"}


def one_run(app: Path, data: str, epochs: int, threads: str | None, runs: str) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    env["CNN_TUI_RUNS"] = runs
    cmd = [str(app), "train", "--preset", "book", "--epochs", str(epochs), "--data", data]
    done = subprocess.run(
        [*cmd, "--json"], env=env, capture_output=True, text=True, timeout=900, check=True
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [line["epoch_seconds"] for line in lines if "epoch_seconds" in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--app", type=Path, default=Path(sys.executable).parent / "cnn-tui")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as runs:
        for busy in (False, True):
            burner = None
            if busy:
                burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                firsts: dict[str, list[float]] = {way: [] for way in WAYS}
                rest: dict[str, list[float]] = {way: [] for way in WAYS}
                for _ in range(args.rounds):
                    for way, threads in WAYS.items():
                        times = one_run(args.app, args.data, args.epochs, threads, runs)
                        firsts[way].append(times[0])
                        rest[way].extend(times[1:])
            finally:
                if burner is not None:
                    burner.kill()
            print(f"\n{'one CPU burner running' if busy else 'idle'}:")
            one = statistics.median(rest["1 thread"])
            for way in WAYS:
                median = statistics.median(rest[way])
                print(
                    f"  {way:20s} epoch {median:.2f} s (x{median / one:.2f} of 1 thread), "
                    f"first epoch {statistics.median(firsts[way]):.2f} s"
                )


if __name__ == "__main__":
    main()
