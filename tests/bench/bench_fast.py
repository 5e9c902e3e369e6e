"""Benchmark 2: the `fast` preset's time to val >= 0.89 on CIFAR-2 against 100 book epochs.

    python tests/bench/bench_fast.py --data ../shared/data/cifar10-jpeg [--seeds 0 1 2]
        [--book-epochs 100] [--threads N] [--device cpu]

The book preset's run is one run of --book-epochs epochs, trained in as many chunks as
there are fast seeds and resumed from its last.pt between them (a resumed run equals a
straight one, tests/core/test_train.py checks it), so that book and fast runs alternate and
load from other processes hits both alike. A fast run's time is the wall time from calling
train() (model, run folder) to the end of its first epoch with val >= 0.89, validation and
checkpoints included; the book's is the wall time of all its chunks. The data are loaded
once, before either clock starts. With --book-epochs under 100, the book's median epoch
time is scaled to 100 epochs, and the output says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_train import DEFAULT_DATA, run_ours, start

TARGET = 0.89
BOOK_EPOCHS = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="cifar10-jpeg folder or .npz")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--book-epochs", type=int, default=BOOK_EPOCHS)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    args = parser.parse_args(argv)

    dataset = start(args)
    from cnn_tui.core.config import preset_config

    book_config = preset_config("book", device=args.device)
    chunks = len(args.seeds)
    bounds = [round(args.book_epochs * (i + 1) / chunks) for i in range(chunks)]
    book_records: list[dict] = []
    book_wall = book_cpu = 0.0
    book_run = None
    fast: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        book_runs, fast_runs = Path(tmp) / "book", Path(tmp) / "fast"
        for seed, bound in zip(args.seeds, bounds, strict=True):
            # A chunk of the book run.
            wall, cpu = time.perf_counter(), time.process_time()
            if book_run is None:
                config = book_config.with_changes(epochs=bound)
                book_records += run_ours(config, dataset, book_runs)
                (book_run,) = book_runs.iterdir()
            elif bound > len(book_records):
                book_records += resume_ours(book_config, bound, book_run, dataset)
            book_wall += time.perf_counter() - wall
            book_cpu += time.process_time() - cpu
            print(
                f"book: {len(book_records)} epochs, {book_wall:.1f}s, val "
                f"{book_records[-1]['val_accuracy']:.4f}",
                flush=True,
            )

            # A fast run.
            config = preset_config("fast", seed=seed, device=args.device)
            wall, cpu = time.perf_counter(), time.process_time()
            reached: dict = {}

            def on_epoch(record: dict, wall=wall, cpu=cpu, reached=reached) -> None:
                if record["val_accuracy"] >= TARGET and not reached:
                    reached.update(
                        epoch=record["epoch"],
                        wall=time.perf_counter() - wall,
                        cpu=time.process_time() - cpu,
                    )

            records = run_ours(config, dataset, fast_runs, on_epoch)
            total = time.perf_counter() - wall
            fast.append({"seed": seed, "records": records, "reached": reached, "total": total})
            vals = " ".join(f"{r['val_accuracy']:.3f}" for r in records)
            where = (
                f"reached {TARGET} at epoch {reached['epoch']} after {reached['wall']:.1f}s"
                if reached
                else f"did not reach {TARGET}"
            )
            print(f"fast seed {seed}: {where}; {total:.1f}s for all; val {vals}", flush=True)

    epochs = len(book_records)
    book_epoch_wall = statistics.median(r["wall"] for r in book_records)
    book_epoch_cpu = statistics.median(r["cpu"] for r in book_records)
    if epochs >= BOOK_EPOCHS:
        book_100, book_100_cpu, how = book_wall, book_cpu, "measured"
    else:
        book_100 = book_epoch_wall * BOOK_EPOCHS
        book_100_cpu = book_epoch_cpu * BOOK_EPOCHS
        how = f"EXTRAPOLATED from {epochs} epochs (median epoch x {BOOK_EPOCHS})"
    book_first = next((r["epoch"] for r in book_records if r["val_accuracy"] >= TARGET), None)
    print()
    print(
        f"book preset: {epochs} epochs in {book_wall:.1f}s wall / {book_cpu:.1f}s CPU "
        f"(median epoch {book_epoch_wall:.2f}s wall, {book_epoch_cpu:.2f}s CPU); best val "
        f"{max(r['val_accuracy'] for r in book_records):.4f}, first >= {TARGET} at epoch "
        f"{book_first}"
    )
    print(f"book preset, 100 epochs: {book_100:.1f}s wall, {book_100_cpu:.1f}s CPU ({how})")
    hits = [f for f in fast if f["reached"]]
    misses = [f["seed"] for f in fast if not f["reached"]]
    if misses:
        print(f"fast preset: seeds {misses} did not reach {TARGET} in its epochs")
    if not hits:
        return 1
    wall = statistics.median(f["reached"]["wall"] for f in hits)
    cpu = statistics.median(f["reached"]["cpu"] for f in hits)
    epochs_to = [f["reached"]["epoch"] for f in hits]
    print(
        f"fast preset: median time to val >= {TARGET}: {wall:.1f}s wall, {cpu:.1f}s CPU "
        f"(epochs {epochs_to}, {len(hits)} of {len(fast)} seeds)"
    )
    print(
        f"fast / book-100 = wall 1/{book_100 / wall:.1f}, CPU 1/{book_100_cpu / cpu:.1f} "
        "(target: at most 1/15)"
    )
    return 0


def resume_ours(config, epochs: int, run_dir: Path, dataset) -> list[dict]:
    """Continue the book run to `epochs` epochs; the records of the new epochs."""
    from cnn_tui.core.events import EpochEnd
    from cnn_tui.core.train import train

    records: list[dict] = []
    mark = {"wall": time.perf_counter(), "cpu": time.process_time()}

    def on_event(event) -> None:
        if isinstance(event, EpochEnd):
            wall, cpu = time.perf_counter(), time.process_time()
            records.append(
                {**event.to_dict(), "wall": wall - mark["wall"], "cpu": cpu - mark["cpu"]}
            )
            mark.update(wall=wall, cpu=cpu)

    finished = train(config.with_changes(epochs=epochs), on_event, resume=run_dir, dataset=dataset)
    if finished.state != "finished":
        raise SystemExit(f"the book run ended {finished.state}: {finished.message}")
    return records


if __name__ == "__main__":
    sys.exit(main())
