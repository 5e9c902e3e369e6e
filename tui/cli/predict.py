"""`cnn-tui predict IMAGE...`: the class of each image, with every class's probability."""

from __future__ import annotations

import argparse

from cnn_tui.tui.cli.output import EXIT_FAILURE, EXIT_OK, Output, print_error, quiet_warnings


def cmd_predict(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.predict import Predictor

    quiet_warnings()
    num_classes = {"cifar2": 2, "cifar10": 10}.get(args.dataset or "")
    predictor = Predictor.from_weights(args.weights, model=args.model, num_classes=num_classes)
    results = predictor.predict_files(args.images)
    failed = [r for r in results if "error" in r]
    if out.json:
        out.emit_json(results, indent=2)
    else:
        good = [r for r in results if "error" not in r]
        classes = predictor.classes
        if good:
            if len(classes) <= 4 or out.tty:
                out.table(
                    [("image", "left"), ("class", "left")] + [(c, "right") for c in classes],
                    [
                        [r["path"], r["class"]] + [f"{r['probabilities'][c]:.3f}" for c in classes]
                        for r in good
                    ],
                )
            else:
                for r in good:
                    probs = ", ".join(f"{c} {p:.3f}" for c, p in r["probabilities"].items())
                    out.line(f"{r['path']}: {r['class']} ({probs})")
    for result in failed:
        print_error(f"{result['path']}: {result['error']}")
    return EXIT_FAILURE if failed else EXIT_OK
