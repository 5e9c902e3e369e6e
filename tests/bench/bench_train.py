"""Benchmark 1: the `book` preset's time per epoch against the book notebook's own loop.

    python tests/bench/bench_train.py --data ../shared/data/cifar10-jpeg [--rounds 6]
        [--epochs 3] [--threads N] [--device cpu|cuda]

Both sides train the book's `Net` on the same CIFAR-2 images with the same torch thread
count, each in its own process (as a notebook and `cnn-tui train` would be), taking turns
(ours, book, ours, book, ...) so that load from other processes hits both alike; the
medians and their ratio are what to read. Round r trains both from seed r (the same
initial weights). Wall and CPU seconds are both reported: on a busy machine the CPU
seconds are the steadier measure.

- ours: `cnn_tui.core.train.train(preset_config("book"))`: uint8 split tensors, batches by
  indexing, validation each epoch, checkpoints and metrics written. An epoch's time is the
  wall time between one EpochEnd event and the next (the first from Started), so it
  includes validation and the run-folder writes.
- book: the notebook's code: a Python list of (normalised float image tensor, label) pairs,
  DataLoader(batch_size=64, shuffle=True), its training_loop (with `loss.item()` per batch)
  and its validate pass over the validation set (accuracy, no_grad). Its train-set pass of
  validate is left out, since ours gets train accuracy from the epoch itself.

This file also holds what bench_fast.py and bench_memory.py share (data loading, the book's
code). A developer's tool, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cifar10-jpeg"


def setup_env() -> None:
    """Keep the decoded-image cache out of the user's folders."""
    os.environ.setdefault("CNN_TUI_CACHE", str(Path(tempfile.gettempdir()) / "cnn-tui-bench"))


def load_cifar2(data: str | Path):
    """CIFAR-2 as the project holds it (one uint8 tensor per split)."""
    setup_env()
    from cnn_tui.core.data import load_dataset

    return load_dataset("cifar2", data, download=False)


def load_data(data: str | Path):
    """CIFAR-2 from an image folder, or from an .npz of uint8 arrays (gpu_sweep.py's)."""
    if str(data).endswith(".npz"):
        from gpu_sweep import dataset_from_npz

        return dataset_from_npz(str(data))
    return load_cifar2(data)


def start(args: argparse.Namespace):
    """What each benchmark's main does first: the allocator setting cnn-tui train makes
    (core/memory.py; the book's loop runs in a process of its own, without it), torch's
    threads as asked (--threads, 0: its default), the data loaded, and both said; returns
    the data set."""
    import torch
    from cnn_tui.core.memory import keep_freed_memory

    keep_freed_memory()

    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = load_data(args.data)
    print(f"data: {dataset.name}")
    print(f"machine: {machine()}, device {args.device}")
    return dataset


def machine() -> str:
    """The facts a figure needs beside it: CPUs, torch, threads."""
    import platform

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s), Python {platform.python_version()}"
    )


# --- The book's code (chapter 8), as the notebook runs it ---------------------------------


def book_net():
    """The book's final `Net` (functional tanh and max_pool2d), 18,090 parameters, from
    tests/book_code.py, which the model tests check against ours."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from book_code import BookNet

    return BookNet()


def book_list(split) -> list:
    """The notebook's data: a Python list of (normalised float (3, 32, 32) tensor, label).

    Each image is its own tensor, as ToTensor + Normalize make them one by one.
    """
    from cnn_tui.core.data import normalize

    return [
        (normalize(split.images[i : i + 1])[0].clone(), int(split.labels[i]))
        for i in range(len(split))
    ]


def book_train_epoch(model, optimizer, loss_fn, train_loader, device=None) -> float:
    """One epoch of the book's training_loop; returns its loss_train.

    With a device, each batch moves to it as in the book's section 8.4.
    """
    model.train()
    loss_train = 0.0
    for imgs, labels in train_loader:
        if device is not None:
            imgs = imgs.to(device=device)
            labels = labels.to(device=device)
        outputs = model(imgs)
        loss = loss_fn(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_train += loss.item()
    return loss_train


def book_validate(model, loader, device=None) -> float:
    """The book's validate for one loader: accuracy under no_grad (and no eval(): the book's)."""
    import torch

    correct = 0
    total = 0
    with torch.no_grad():
        for imgs, labels in loader:
            if device is not None:
                imgs = imgs.to(device=device)
                labels = labels.to(device=device)
            outputs = model(imgs)
            _, predicted = torch.max(outputs, dim=1)
            total += labels.shape[0]
            correct += int((predicted == labels).sum())
    return correct / total


# --- Ours ---------------------------------------------------------------------------------


def run_ours(config, dataset, runs_dir: Path, on_epoch=None, **options) -> list[dict]:
    """Train and return a record per epoch: wall and CPU seconds since the previous epoch
    ended (the first since Started), and the EpochEnd fields. options go to train (such as
    measure_layers, for bench_layers.py)."""
    from cnn_tui.core.events import EpochEnd, Started
    from cnn_tui.core.train import train

    records: list[dict] = []
    mark = {"wall": time.perf_counter(), "cpu": time.process_time()}

    def on_event(event) -> None:
        if isinstance(event, Started):
            mark.update(wall=time.perf_counter(), cpu=time.process_time())
        elif isinstance(event, EpochEnd):
            wall, cpu = time.perf_counter(), time.process_time()
            record = {**event.to_dict(), "wall": wall - mark["wall"], "cpu": cpu - mark["cpu"]}
            records.append(record)
            mark.update(wall=wall, cpu=cpu)
            if on_epoch is not None:
                on_epoch(record)

    finished = train(config, on_event, runs_dir=runs_dir, dataset=dataset, **options)
    if finished.state != "finished":
        raise SystemExit(f"our run ended {finished.state}: {finished.message}")
    return records


def book_worker(conn, data: str, threads: int, device_name: str) -> None:
    """The book's side in its own process: for each (seed, epochs) it is sent, a fresh
    model trained that many epochs; it sends back a record per epoch."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    dataset = load_data(data)
    device = torch.device(device_name)
    train_list, val_list = book_list(dataset.train), book_list(dataset.val)
    del dataset
    train_loader = torch.utils.data.DataLoader(train_list, batch_size=64, shuffle=True)
    val_loader = torch.utils.data.DataLoader(val_list, batch_size=64, shuffle=False)
    conn.send("ready")
    while (job := conn.recv()) is not None:
        seed, epochs = job
        torch.manual_seed(seed)
        model = book_net().to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
        loss_fn = torch.nn.CrossEntropyLoss()
        records = []
        for _ in range(epochs):
            wall, cpu = time.perf_counter(), time.process_time()
            book_train_epoch(model, optimizer, loss_fn, train_loader, device)
            val_accuracy = book_validate(model, val_loader, device)
            records.append(
                {
                    "wall": time.perf_counter() - wall,
                    "cpu": time.process_time() - cpu,
                    "val_accuracy": val_accuracy,
                }
            )
        conn.send(records)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="cifar10-jpeg folder or .npz")
    parser.add_argument("--rounds", type=int, default=6, help="ours/book pairs (default 6)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per side per round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or mps: both sides")
    args = parser.parse_args(argv)

    dataset = start(args)
    from cnn_tui.core.config import preset_config

    config = preset_config("book", epochs=args.epochs, device=args.device)
    # The book's loop runs in a process of its own, as a notebook would: nothing ours sets
    # for its process (the allocator's settings, say) reaches it.
    context = multiprocessing.get_context("spawn")
    conn, child_conn = context.Pipe()
    worker = context.Process(
        target=book_worker, args=(child_conn, args.data, args.threads, args.device)
    )
    worker.start()
    conn.recv()  # its data are ready

    ours: list[dict] = []
    book: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        for round_ in range(args.rounds):
            records = run_ours(config.with_changes(seed=round_), dataset, Path(tmp) / "runs")
            ours.extend(records)
            conn.send((round_, args.epochs))
            book.extend(conn.recv())
            print(
                f"round {round_ + 1}/{args.rounds}: ours "
                + " ".join(f"{r['wall']:.2f}s" for r in records)
                + f" (val {records[-1]['val_accuracy']:.3f}), book "
                + " ".join(f"{r['wall']:.2f}s" for r in book[-args.epochs :])
                + f" (val {book[-1]['val_accuracy']:.3f})",
                flush=True,
            )

    conn.send(None)
    worker.join()
    ours_wall, book_wall = median([r["wall"] for r in ours]), median([r["wall"] for r in book])
    ours_cpu, book_cpu = median([r["cpu"] for r in ours]), median([r["cpu"] for r in book])
    print()
    print(f"epochs timed: {len(ours)} ours, {len(book)} book ({args.rounds} interleaved rounds)")
    print(f"median wall s/epoch: ours {ours_wall:.2f}, book {book_wall:.2f}")
    print(f"median CPU s/epoch:  ours {ours_cpu:.2f}, book {book_cpu:.2f}")
    print(
        f"speed-up (book / ours): wall {book_wall / ours_wall:.2f}x, "
        f"CPU {book_cpu / ours_cpu:.2f}x (target >= 2x)"
    )


if __name__ == "__main__":
    sys.exit(main())
