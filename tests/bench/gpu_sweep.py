"""Run many training configs side by side on one GPU (a developer's tool, not a test).

Used to pick the `fast` preset by measurement and to train the shipped weights:
    python tests/bench/gpu_sweep.py DATA.npz OUT_DIR
DATA.npz holds train_images/train_labels/val_images/val_labels as uint8/int arrays.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def dataset_from_npz(path: str):
    import numpy as np
    import torch
    from cnn_tui.core.data import CIFAR2_CLASSES, DataSet, Split

    with np.load(path) as d:
        train = Split(
            torch.from_numpy(d["train_images"]), torch.from_numpy(d["train_labels"]).long()
        )
        val = Split(torch.from_numpy(d["val_images"]), torch.from_numpy(d["val_labels"]).long())
    return DataSet("CIFAR-2 (image folder cifar10-jpeg)", "folder", CIFAR2_CLASSES, train, val)


def run_one(job: tuple[str, dict, str, str]) -> dict:
    import torch
    from cnn_tui.core.config import preset_config
    from cnn_tui.core.events import EpochEnd
    from cnn_tui.core.train import train

    name, changes, data, out = job
    torch.set_num_threads(1)
    preset = changes.pop("preset", "book")
    model = changes.pop("model", "net")
    config = preset_config(preset, model=model, device="cuda", **changes)
    history = []
    started = time.perf_counter()
    finished = train(
        config,
        lambda e: history.append(e.to_dict()) if isinstance(e, EpochEnd) else None,
        runs_dir=Path(out) / "runs" / name,
        dataset=dataset_from_npz(data),
    )
    return {
        "name": name,
        "config": config.to_dict(),
        "seconds": time.perf_counter() - started,
        "history": history,
        "weights": finished.weights,
    }


def short_jobs(data: str, out: str) -> list:
    """Short fast-preset candidates, three seeds each."""
    jobs = []
    for opt, lr in (("adam", 3e-3), ("adam", 5e-3), ("sgd", 0.1), ("sgd", 0.05)):
        for epochs in (5, 6, 7, 8):
            for bs in (64, 128):
                for aug in (True, False):
                    for seed in (0, 1, 2):
                        changes = {
                            "preset": "fast",
                            "optimizer": opt,
                            "lr": lr,
                            "epochs": epochs,
                            "batch_size": bs,
                            "augment": aug,
                            "seed": seed,
                            "momentum": 0.9 if opt == "sgd" else 0.0,
                        }
                        name = f"fast-{opt}-{lr}-e{epochs}-b{bs}-a{int(aug)}-s{seed}"
                        jobs.append((name, changes, data, out))
    return jobs


def adam_jobs(data: str, out: str) -> list:
    """Adam with one-cycle near the best short recipes, five seeds each."""
    jobs = []
    for lr in (4e-3, 5e-3, 7e-3):
        for epochs in (6, 7):
            for bs in (32, 64):
                for seed in range(5):
                    changes = {
                        "preset": "fast",
                        "optimizer": "adam",
                        "lr": lr,
                        "epochs": epochs,
                        "batch_size": bs,
                        "augment": False,
                        "seed": seed,
                    }
                    jobs.append((f"fast-adam-{lr}-e{epochs}-b{bs}-a0-s{seed}", changes, data, out))
    return jobs


def main() -> None:
    data, out = sys.argv[1], sys.argv[2]
    if sys.argv[3:] == ["short"]:
        sweep(short_jobs(data, out), out)
        return
    if sys.argv[3:] == ["adam"]:
        sweep(adam_jobs(data, out), out)
        return
    jobs = []
    for seed in (0, 1, 2):
        jobs.append((f"book-net-s{seed}", {"seed": seed}, data, out))
    for model in (
        "net-width",
        "net-dropout",
        "net-batchnorm",
        "net-depth",
        "net-res",
        "net-res-deep",
    ):
        jobs.append((f"book-{model}", {"model": model}, data, out))
    jobs.append(("book-net-l2", {"l2": 0.001}, data, out))
    for opt, lr in (("adam", 1e-3), ("adam", 3e-3), ("adam", 1e-2), ("sgd", 0.05), ("sgd", 0.1)):
        for epochs in (8, 12, 20):
            for bs in (64, 128, 256):
                for aug in (True, False):
                    changes = {
                        "preset": "fast",
                        "optimizer": opt,
                        "lr": lr,
                        "epochs": epochs,
                        "batch_size": bs,
                        "augment": aug,
                        "momentum": 0.9 if opt == "sgd" else 0.0,
                    }
                    jobs.append(
                        (f"fast-{opt}-{lr}-e{epochs}-b{bs}-a{int(aug)}", changes, data, out)
                    )
    sweep(jobs, out)


def sweep(jobs: list, out: str) -> None:
    results = []
    with ProcessPoolExecutor(max_workers=14) as pool:
        for result in pool.map(run_one, jobs):
            results.append(result)
            best = max(h["val_accuracy"] for h in result["history"])
            print(
                f"{result['name']:40s} best val {best:.4f} in {result['seconds']:.0f}s", flush=True
            )
            Path(out, "sweep.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main()
