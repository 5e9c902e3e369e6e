"""`cnn-tui summary`: the model's layers, output shapes and parameter counts."""

from __future__ import annotations

import argparse

from cnn_tui.core.architecture import BOOK_NET
from cnn_tui.core.config import check_model_architecture
from cnn_tui.tui.cli.output import EXIT_OK, Output, quiet_warnings
from cnn_tui.tui.cli.parser import architecture_option


def cmd_summary(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.summary import summarize

    quiet_warnings()
    name = args.model or "net"
    num_classes = 10 if args.dataset == "cifar10" else 2
    architecture = check_model_architecture(name, architecture_option(args))
    data = summarize(name, num_classes, args.blocks, architecture)
    if out.json:
        out.emit_json(data, indent=2)
        return EXIT_OK
    if architecture is not None:
        out.line(f"architecture: {architecture.describe()}")
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
    if architecture is not None:
        book = BOOK_NET.parameter_count(num_classes)
        change = data["total_params"] - book
        out.line(f"the book's Net:   {book:,} ({change:+,} here)")
    out.line(f"total mult-adds:  {total_mult_adds:,}")
    out.line(f"param_list (the book's list form): {data['param_list']}")
    return EXIT_OK
