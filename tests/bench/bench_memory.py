"""Benchmark 3: peak memory (max RSS) of `cnn-tui train` on CIFAR-2.

    python tests/bench/bench_memory.py --data ../shared/data/cifar10-jpeg [--epochs 2]

Each contender runs in its own child process; its peak resident set size comes from
os.wait4 (the kernel's ru_maxrss for that child alone). The contenders:
- python with torch imported and nothing else: the floor every contender stands on;
- the installed console script, `cnn-tui train --epochs N --data DIR --runs TMP --json`,
  first with an empty cache folder (the JPEGs are decoded) and then with the cache filled;
- the book notebook's way, as cheaply as it can be done here: torchvision's ImageFolder
  with ToTensor and Normalize over the same JPEGs (airplane and bird only), a Python list of
  (float tensor, label) pairs for train and validation, a DataLoader(batch_size=64,
  shuffle=True), the same epochs of its training loop and its validate pass.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_train import DEFAULT_DATA, machine

VENV_BIN = Path(sys.executable).parent


def peak_rss(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run command; its peak RSS in MiB and its exit status."""
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, process.returncode  # ru_maxrss is in KiB on Linux


def book_child(data: str, epochs: int) -> None:
    """The notebook's data and loop (run in a child by main)."""
    import torch
    from bench_train import book_net, book_train_epoch, book_validate
    from cnn_tui.core.data import CIFAR2_CLASSES, MEAN, STD
    from torchvision import datasets, transforms

    torch.manual_seed(0)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    lists = []
    for split in ("train", "test"):
        folder = datasets.ImageFolder(str(Path(data) / split), transform=transform)
        label_map = {folder.class_to_idx[name]: i for i, name in enumerate(CIFAR2_CLASSES)}
        # The book keeps two of CIFAR-10's classes; skipping the others' files before
        # decoding them changes nothing in what is kept.
        folder.samples = [(path, label) for path, label in folder.samples if label in label_map]
        lists.append([(img, label_map[label]) for img, label in folder])
    train_loader = torch.utils.data.DataLoader(lists[0], batch_size=64, shuffle=True)
    val_loader = torch.utils.data.DataLoader(lists[1], batch_size=64, shuffle=False)
    model = book_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        book_train_epoch(model, optimizer, loss_fn, train_loader)
    print(book_validate(model, val_loader))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the cifar10-jpeg folder")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--book-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.book_child:
        book_child(args.data, args.epochs)
        return 0

    cli = VENV_BIN / "cnn-tui"
    if not cli.exists():
        print(f"no console script at {cli}: install the project (pip install -e .)")
        return 1
    print(f"machine: {machine()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-") as tmp:
        env = {"CNN_TUI_CACHE": str(Path(tmp) / "cache"), "CNN_TUI_DATA": str(Path(tmp) / "d")}
        train = [str(cli), "train", "--epochs", str(args.epochs), "--data", args.data]
        train += ["--runs", str(Path(tmp) / "runs"), "--json"]
        book = [sys.executable, __file__, "--book-child", "--data", args.data]
        book += ["--epochs", str(args.epochs)]
        contenders = [
            ("python + import torch (the floor)", [sys.executable, "-c", "import torch"]),
            (f"cnn-tui train, {args.epochs} epochs, cold cache (decodes the JPEGs)", train),
            (f"cnn-tui train, {args.epochs} epochs, warm cache", train),
            (f"book notebook's way (list of float tensors), {args.epochs} epochs", book),
        ]
        for name, command in contenders:
            mib, status = peak_rss(command, env)
            if status != 0:
                print(f"{name}: exit status {status}")
                return 1
            results.append((name, mib))
            print(f"{name}: peak RSS {mib:.0f} MiB", flush=True)
    floor = results[0][1]
    print()
    for name, mib in results[1:]:
        print(f"{name}: {mib:.0f} MiB ({mib - floor:+.0f} MiB over the floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
