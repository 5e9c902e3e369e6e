"""`cnn-tui summary`: the model's layers, output shapes and parameter counts."""

from __future__ import annotations

import argparse

from cnn_tui.tui.cli.output import EXIT_OK, Output, quiet_warnings


def cmd_summary(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.summary import summarize

    quiet_warnings()
    name = args.model or "net"
    num_classes = 10 if args.dataset == "cifar10" else 2
    data = summarize(name, num_classes, args.blocks)
    if out.json:
        out.emit_json(data, indent=2)
        return EXIT_OK
    # No "trainable" column (every parameter of these models is): it made the table
    # wider than 80 columns; the total says how many are frozen, if any.
    rows = [
        [
            layer["name"],
            layer["type"],
            "x".join(str(k) for k in layer["kernel_size"]) if layer.get("kernel_size") else "",
            str(layer["output_shape"]),
            f"{layer['params']:,}",
            f"{layer['mult_adds']:,}",
        ]
        for layer in data["layers"]
    ]
    out.table(
        [
            ("layer", "left"),
            ("type", "left"),
            ("kernel", "left"),
            ("output shape", "left"),
            ("params", "right"),
            ("mult-adds", "right"),
        ],
        rows,
        title=f"{name} ({num_classes} classes), input [1, 3, 32, 32]",
    )
    total_mult_adds = sum(layer["mult_adds"] for layer in data["layers"])
    frozen = sum(layer["params"] for layer in data["layers"] if not layer["trainable"])
    trainable = f"{frozen:,} frozen" if frozen else "all trainable"
    out.line(f"total parameters: {data['total_params']:,} ({trainable})")
    out.line(f"total mult-adds:  {total_mult_adds:,}")
    out.line(f"param_list (the book's list form): {data['param_list']}")
    return EXIT_OK
