"""Benchmark: issue 13's speed targets in one command, idle and beside one CPU burner.

    python tests/bench/bench_speed.py --data ../shared/data/cifar10-jpeg [--rounds 3]
    python tests/bench/bench_speed.py --data ../shared/data/cifar10-jpeg --hundred

A developer's tool, not a test. Everything runs at each program's defaults, as a user
runs it: ours is the installed `cnn-tui train` in a child process (it picks its own
thread count and allocator setting), the book's is its notebook loop at torch's default
threads in a process of its own (bench_train.py's book_worker), taking turns. Each is
timed by the wall clock of this process as the epoch lines arrive, so checkpoints,
validation and writes are in the figures. Printed:

1. the `book` preset's epoch against the book's loop (median of epochs 2 onwards of each
   round; the first holds ours's thread measuring), idle and with one burner
   (`python -c "while True: pass"`) running; target 3x;
2. the `book` preset's GFLOP/s (torch.utils.flop_counter's count of one epoch's
   convolutions and matrix products, forward and backward, and the validation pass)
   against a 4096x4096 float32 matmul measured in this process at torch's default
   threads; aim 50%;
3. the `fast` preset's time from launch (starting the process) to its first epoch with
   val >= 0.89, seeds 0 and 1, against 100 book-loop epochs (the book's median epoch
   x 100, measured in the same minutes); target at most 1/30. Its closing `start:` line
   (imports, data, set-up, first batch) is shown, and how long the process took to exit
   after its last epoch's line.

--hundred instead trains both 100 epochs from seed 0 (ours: `cnn-tui train --preset book`)
and prints train and validation accuracy at the end: the same within noise (about 5
minutes on an idle 2-core machine; --threads 1 for the book's loop on a busy one).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_train import (
    DEFAULT_DATA,
    book_list,
    book_net,
    book_train_epoch,
    book_validate,
    book_worker,
    load_data,
    machine,
    setup_env,
)

APP = Path(sys.executable).parent / "cnn-tui"
TARGET_VAL = 0.89
EPOCH_LINE = re.compile(r"^epoch\s+(\d+)/\d+ .*val loss \S+ acc ([\d.]+)")


def ours(data: str, preset: str, epochs: int, seed: int, runs: str) -> dict:
    """`cnn-tui train` as a user starts it: the wall time from launch at which each epoch
    line arrived (s), its val accuracy, and the closing time and start lines."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["CNN_TUI_RUNS"] = runs
    command = [str(APP), "train", "--preset", preset, "--epochs", str(epochs), "--data", data]
    launched = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--seed", str(seed)], env=env, stdout=subprocess.PIPE, text=True
    )
    arrivals, vals, tail = [], [], []
    assert process.stdout is not None
    for line in process.stdout:
        if match := EPOCH_LINE.match(line):
            arrivals.append(time.perf_counter() - launched)
            vals.append(float(match.group(2)))
        elif line.startswith(("time:", "start:", "threads:")):
            tail.append(line.strip())
    if process.wait(timeout=1800) != 0:
        raise SystemExit(f"{' '.join(command)} failed with status {process.returncode}")
    ended = time.perf_counter() - launched  # the prompt back: the wall clock a user sees
    return {"arrivals": arrivals, "vals": vals, "lines": tail, "ended": ended}


def epoch_times(arrivals: list[float]) -> list[float]:
    """The time of each epoch after the first: the gaps between their lines."""
    return [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]


def epoch_flops() -> float:
    """One book-preset epoch on CIFAR-2 in floating-point operations, as torch counts
    them: 10,000 images forward and backward, 2,000 forward for validation."""
    import torch
    import torch.nn.functional as F
    from cnn_tui.core.models import build_model
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model("net", pool_first=True)
    images, labels = torch.randn(64, 3, 32, 32), torch.randint(0, 2, (64,))
    with FlopCounterMode(display=False) as step:
        F.cross_entropy(model(images), labels).backward()
    with FlopCounterMode(display=False) as forward, torch.no_grad():
        model(images)
    return (step.get_total_flops() * 10_000 + forward.get_total_flops() * 2_000) / 64


def matmul_peak(size: int = 4096, repeats: int = 5) -> float:
    """GFLOP/s of a large float32 matmul at torch's default threads (median)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - began)
    return 2 * size**3 / statistics.median(times) / 1e9


def compare(args: argparse.Namespace, conn, runs: str, busy: bool) -> dict:
    """Rounds of ours and the book's loop, alternated; with busy, a burner runs meanwhile."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        mine, book, lines = [], [], []
        for round_ in range(args.rounds):
            run = ours(args.data, "book", args.epochs, round_, runs)
            mine += epoch_times(run["arrivals"])
            lines = run["lines"]
            conn.send((round_, args.epochs))
            book += [record["wall"] for record in conn.recv()[1:]]
            last = args.epochs - 1
            shown = [" ".join(f"{t:.2f}" for t in side[-last:]) for side in (mine, book)]
            print(f"  round {round_ + 1}: ours {shown[0]} s, book {shown[1]} s", flush=True)
        peak = matmul_peak() if not busy else None
    finally:
        if burner is not None:
            burner.kill()
    result = {"ours": statistics.median(mine), "book": statistics.median(book), "peak": peak}
    print(f"  ours {result['ours']:.2f} s/epoch, book {result['book']:.2f} s/epoch: ", end="")
    print(f"{result['book'] / result['ours']:.2f}x (target 3x); {' | '.join(lines)}")
    return result


def fast_from_launch(args: argparse.Namespace, runs: str, book_epoch: float) -> None:
    """The fast preset's time from launch to val >= 0.89 against 100 book-loop epochs."""
    reached = []
    for seed in (0, 1):
        run = ours(args.data, "fast", 8, seed, runs)
        hit = next((i for i, v in enumerate(run["vals"]) if v >= TARGET_VAL), None)
        where = "did not reach 0.89" if hit is None else f"val {run['vals'][hit]:.3f} at epoch"
        at = "" if hit is None else f" {hit + 1}, {run['arrivals'][hit]:.1f} s from launch"
        exit_ = run["ended"] - run["arrivals"][-1]
        print(f"  fast seed {seed}: {where}{at}; " + " | ".join(run["lines"]), flush=True)
        print(
            f"    {len(run['vals'])} epochs, prompt back {run['ended']:.1f} s from launch "
            f"(exit {exit_:.2f} s after the last epoch's line)",
            flush=True,
        )
        if hit is not None:
            reached.append(run["arrivals"][hit])
    if reached:
        took, hundred = statistics.median(reached), 100 * book_epoch
        print(
            f"  fast from launch {took:.1f} s against 100 book-loop epochs {hundred:.0f} s "
            f"(100 x {book_epoch:.2f}): 1/{hundred / took:.1f} (target at most 1/30)"
        )


def hundred(args: argparse.Namespace, runs: str) -> None:
    """Both trained 100 epochs from seed 0; train and validation accuracy at the end."""
    import torch

    run = ours(args.data, "book", 100, 0, runs)
    (run_dir,) = Path(runs).iterdir()
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    print(f"ours (cnn-tui train --preset book, seed 0): {run['arrivals'][-1]:.0f} s", end="")
    print(f"; epoch 100 train acc {last['train_accuracy']:.4f} val acc {last['val_accuracy']:.4f}")
    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = load_data(args.data)
    train_list, val_list = book_list(dataset.train), book_list(dataset.val)
    loader = torch.utils.data.DataLoader(train_list, batch_size=64, shuffle=True)
    torch.manual_seed(0)
    model = book_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    began = time.perf_counter()
    for _ in range(100):
        book_train_epoch(model, optimizer, torch.nn.CrossEntropyLoss(), loader)
    train_acc = book_validate(model, torch.utils.data.DataLoader(train_list, batch_size=64))
    val_acc = book_validate(model, torch.utils.data.DataLoader(val_list, batch_size=64))
    threads = torch.get_num_threads()
    print(f"book's loop (seed 0, {threads} threads): {time.perf_counter() - began:.0f} s", end="")
    print(f"; after 100 epochs train acc {train_acc:.4f} val acc {val_acc:.4f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the cifar10-jpeg folder")
    parser.add_argument("--rounds", type=int, default=3, help="ours/book pairs (default 3)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per side per round")
    parser.add_argument("--hundred", action="store_true", help="100 epochs each, accuracy")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="--hundred: the book loop's torch threads (0: torch's default; 1 on a busy "
        "machine, where two threads take many times as long; the result differs by rounding)",
    )
    args = parser.parse_args(argv)
    if not Path(args.data, "train").is_dir():  # else each side would fall back to the sample
        raise SystemExit(f"--data {args.data}: not an image folder with train/ in it")
    setup_env()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as runs:
        if args.hundred:
            return hundred(args, runs)
        context = multiprocessing.get_context("spawn")
        conn, child_conn = context.Pipe()
        worker = context.Process(
            target=book_worker, args=(child_conn, args.data, 0, "cpu"), daemon=True
        )  # a daemon: a failed run of ours ends the benchmark without waiting on it
        worker.start()
        conn.recv()  # its data are ready
        print("idle:")
        idle = compare(args, conn, runs, busy=False)
        gflop = epoch_flops() / 1e9
        achieved = gflop / idle["ours"]
        print(
            f"  book preset epoch: {gflop:.1f} GFLOP in {idle['ours']:.2f} s = "
            f"{achieved:.1f} GFLOP/s, {achieved / idle['peak']:.0%} of a float32 matmul's "
            f"{idle['peak']:.0f} GFLOP/s (aim 50%)"
        )
        fast_from_launch(args, runs, idle["book"])
        print("one CPU burner running:")
        compare(args, conn, runs, busy=True)
        conn.send(None)
        worker.join()


if __name__ == "__main__":
    sys.exit(main())
