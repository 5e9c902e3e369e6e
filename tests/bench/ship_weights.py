"""Copy a finished run's weights into weights/ with the sidecar the app reads.

    python tests/bench/ship_weights.py RUN_DIR NAME [--data ../shared/data/cifar10-jpeg]

Train and val accuracy are measured again here, in eval mode, on the JPEG CIFAR-2 set.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cnn_tui.core.config import DATASETS
from cnn_tui.core.data import load_dataset
from cnn_tui.core.evaluate import evaluate
from cnn_tui.core.weights import load_model, save_weights

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("name")
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/cifar10-jpeg"))
    parser.add_argument("--trained-on", default="cuda (NVIDIA H100)")
    args = parser.parse_args()
    config = json.loads((args.run_dir / "config.json").read_text())
    model, meta = load_model(args.run_dir / "weights.pt")
    dataset = config["dataset"] if config["dataset"] in DATASETS else "cifar2"
    data = load_dataset(dataset, args.data, download=False)
    train = evaluate(model, data.train, len(data.classes))
    val = evaluate(model, data.val, len(data.classes))
    epochs = sum(1 for line in (args.run_dir / "metrics.jsonl").read_text().splitlines() if line)
    sidecar = {
        "model": meta["model"],
        "num_classes": meta["num_classes"],
        "classes": meta["classes"],
        "n_blocks": meta["n_blocks"],
        "preset": config.get("preset"),
        "epochs": epochs,
        "seed": config.get("seed"),
        "data": "CIFAR-2 from shared/data/cifar10-jpeg (JPEG copy of CIFAR-10, airplane and bird)",
        "train_accuracy": round(train.accuracy, 4),
        "val_accuracy": round(val.accuracy, 4),
        "trained_on": args.trained_on,
        "date": time.strftime(
            "%Y-%m-%d", time.localtime((args.run_dir / "weights.pt").stat().st_mtime)
        ),
    }
    out = ROOT / "weights" / f"{args.name}.pt"
    save_weights(out, model, sidecar)
    print(out, sidecar["train_accuracy"], sidecar["val_accuracy"])


if __name__ == "__main__":
    main()
