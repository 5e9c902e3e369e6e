"""The options of the commands that trick the model, `attack` and `fooled` (the chapter's
second exercise); their values are checked by core (core/attack.py, core/fooled.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from cnn_tui.core.attack import check_eps, check_steps
from cnn_tui.core.fooled import check_min
from cnn_tui.tui.cli.option_values import checked


def add_attack(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`attack IMAGE --target CLASS [--eps E] [--steps N] [--out PNG] [--weights W]`, or
    `attack --models [--data DIR]` (checked together in tui/cli/attack.py)."""
    attack = command(
        "attack", "change an image by a few levels per pixel until the model reads another class"
    )
    attack.add_argument("image", nargs="?", metavar="IMAGE", help="image file, any format")
    attack.add_argument("--target", metavar="CLASS", help="the class it should read as")
    attack.add_argument(
        "--eps",
        type=checked(check_eps, "eps"),
        metavar="E",
        help="largest change of a pixel, 0 to 1, e.g. 0.03 or 8/255 (default: 8/255)",
    )
    attack.add_argument(
        "--steps",
        type=checked(check_steps, "steps"),
        metavar="N",
        help="most gradient steps (default: 40)",
    )
    attack.add_argument(
        "--out", metavar="PNG", help="where the PNG goes (default: IMAGE-as-CLASS.png here)"
    )
    attack.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    attack.add_argument(
        "--models",
        action="store_true",
        default=False,
        help="instead: for each shipped model, the median smallest eps that flips 200 "
        "validation images (the first 100 of each class)",
    )
    attack.add_argument("--data", metavar="DIR", help="with --models: the data folder")
    _json_option(
        attack,
        "one object: path, target, eps, linf, success, out, both readings (with --models: "
        "an array, an object per model)",
    )


def add_fooled(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`fooled [--min P] [--data DIR] [--weights W]`."""
    fooled = command(
        "fooled",
        "CIFAR-10 pictures of other classes that the model is sure are one of its own",
    )
    fooled.add_argument(
        "--min",
        type=checked(check_min, "min"),
        metavar="P",
        help="least probability (default: 0.95)",
    )
    fooled.add_argument("--data", metavar="DIR", help="data folder holding CIFAR-10")
    fooled.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    _json_option(fooled, "one array: {index, true_class, class, probability}, surest first")


def _json_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--json", action="store_true", default=False, help=help_text)
