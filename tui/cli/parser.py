"""The command line's parser: `cnn-tui [app options] [train | eval | summary | predict |
attack | fooled | watch | layers]`.

Option values are checked by core/config.py, so the app refuses the same values with the
same words. This module imports neither torch nor Textual: `cnn-tui` with no subcommand
opens the app, which must paint before torch has loaded.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NoReturn

from cnn_tui.core.architecture import (
    ACTIVATIONS,
    BOOK_NET,
    Architecture,
    parse_channels,
    parse_kernel_size,
    parse_padding,
)
from cnn_tui.core.config import (
    DATASETS,
    DEVICES,
    OPTIMIZERS,
    PRESETS,
    SCHEDULES,
    ConfigError,
    TrainConfig,
    check_batch_size,
    check_epochs,
    check_lr,
    check_name,
    check_seed,
    preset_config,
    shown,
    validate,
)
from cnn_tui.core.refused import SHOWN
from cnn_tui.core.registry import MODELS
from cnn_tui.tui.cli.layers import add_layers
from cnn_tui.tui.cli.option_values import checked as _checked
from cnn_tui.tui.cli.output import PROG, UsageError
from cnn_tui.tui.cli.trick_options import add_attack, add_fooled

LONG_WORD = 80  # a word of an argparse error longer than this is a pasted value: shortened


def _shorten_long_words(message: str) -> str:
    """argparse echoes what it refuses (an unknown option, extra arguments) whole: a
    5,000-character paste would make its one line hundreds of terminal lines long."""
    import re

    def short(match: re.Match[str]) -> str:
        word = match.group()
        return f"{word[:SHOWN]}… ({len(word):,} characters)"

    return re.sub(rf"\S{{{LONG_WORD + 1},}}", short, message)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help, wrapped between words only: `net-res-deep` is never cut at a
    hyphen. Descriptions and epilogs are written already wrapped (see _catalogue)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one short line, with no usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(_shorten_long_words(message))


# ---------------------------------------------------------------------------------------
# Option values, checked by core/config.py


def _field(name: str, cast: Callable[[str], Any] = str) -> Callable[[str], Any]:
    """A TrainConfig field's value, refused with validate()'s own words."""

    def check(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            words = name.replace("_", " ")
            raise ConfigError(f"{words} must be a whole number, not {shown(text)}") from None
        return getattr(validate(TrainConfig(**{name: value})), name)

    return _checked(check, name)


def _check_preset(text: str) -> str:
    preset_config(text)  # raises ConfigError for an unknown preset
    return text


_preset = _checked(_check_preset, "preset")


def _float_field(name: str) -> Callable[[str], Any]:
    def check(text: str) -> Any:
        field: dict[str, Any] = {name: text}  # validate() turns the text into the number
        return getattr(validate(TrainConfig(**field)), name)

    return _checked(check, name)


_epochs = _checked(check_epochs, "epochs")
_lr = _checked(check_lr, "lr")
_batch_size = _checked(check_batch_size, "batch_size")
_model = _field("model")
_dataset = _field("dataset")
ARCHITECTURE_OPTIONS = ("kernel_size", "channels", "activation", "padding")


def architecture_option(args: argparse.Namespace) -> Architecture | None:
    """The net architecture --kernel-size, --channels, --activation and --padding ask for
    (the book's Net's for those not given); None when none is given. Checked as a whole,
    and against the model, by core/config.py (check_model_architecture)."""
    given = {name: getattr(args, name, None) for name in ARCHITECTURE_OPTIONS}
    if all(value is None for value in given.values()):
        return None
    return replace(BOOK_NET, **{name: value for name, value in given.items() if value is not None})


# ---------------------------------------------------------------------------------------
# The parser


def build_parser() -> Parser:
    """The `cnn-tui` parser: the app's options, and the headless subcommands."""
    width = _help_width()
    parser = Parser(
        prog=PROG,
        description=textwrap.fill(
            "Train, inspect and query the convolutional network of chapter 8 of Deep Learning "
            "with PyTorch (birds vs airplanes). With no subcommand, opens the app.",
            width,
        ),
        epilog=_catalogue(width),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    app = parser.add_argument_group("app options (with no subcommand)")
    _model_option(app, "model to train or inspect (default: net; see the models below)")
    _preset_option(app)
    app.add_argument("--epochs", type=_epochs, metavar="N", help="epochs to train")
    app.add_argument("--lr", type=_lr, metavar="X", help="learning rate")
    app.add_argument("--batch-size", type=_batch_size, metavar="N", help="images per batch")
    app.add_argument(
        "--data", metavar="DIR", help="data folder (default: CNN_TUI_DATA, else yours)"
    )
    _dataset_option(app, "%(choices)s (default: cifar2)")
    app.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    app.add_argument(
        "--runs", metavar="DIR", help="runs folder (default: CNN_TUI_RUNS, else yours)"
    )
    app.add_argument(
        "--theme",
        metavar="NAME",
        help="auto (follow the terminal's background), dark, light or any Textual theme "
        "(default: CNN_TUI_THEME, else the last one picked, else auto)",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    # Options the top-level parser also has are SUPPRESSed when absent, so
    # `cnn-tui --epochs 3 train` and `cnn-tui train --epochs 3` mean the same.
    def command(name: str, help_text: str) -> Parser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            argument_default=argparse.SUPPRESS,
            # train chooses a model and a preset: its help ends with what they are
            epilog=_catalogue(width) if name == "train" else None,
            formatter_class=HelpFormatter,
        )

    for add in (
        _add_train,
        _add_eval,
        _add_summary,
        _add_predict,
        add_attack,
        add_fooled,
        _add_watch,
        add_layers,
    ):
        add(command)
    return parser


def _help_width() -> int:
    """The width argparse wraps its help to (the terminal's, less two), at most 100."""
    import shutil

    return max(40, min(shutil.get_terminal_size().columns, 100) - 2)


def _catalogue(width: int) -> str:
    """The models and the presets, one line each (wrapped to width), for the help's end:
    read from core's registry and presets, so a new model or preset appears here by itself."""
    name_width = max(len(name) for name in [*MODELS, *PRESETS]) + 2

    def entries(title: str, items: dict[str, str]) -> str:
        lines = [f"{title}:"]
        for name, text in items.items():
            lines += textwrap.wrap(
                text,
                width,
                initial_indent=f"  {name:<{name_width}}",
                subsequent_indent=" " * (name_width + 2),
                break_on_hyphens=False,
            )
        return "\n".join(lines)

    presets = {name: _preset_words(name) for name in PRESETS}
    return entries("models", MODELS) + "\n\n" + entries("presets", presets)


def _preset_words(name: str) -> str:
    """A preset's settings in words, e.g. "sgd, lr 0.01, batch 64, 100 epochs"."""
    config = preset_config(name)
    words = [config.optimizer, f"lr {config.lr:g}", f"batch {config.batch_size}"]
    words.append(f"{config.epochs} epochs")
    if config.schedule != "none":
        words.append(f"{config.schedule} schedule")
    if config.augment:
        words.append("random flips")
    own_lr = [
        f"{model} lr {lr:g}"
        for model in MODELS
        if (lr := preset_config(name, model).lr) != config.lr
    ]
    return ", ".join(words) + (f" ({', '.join(own_lr)})" if own_lr else "")


def _add_train(command: Callable[[str, str], Parser]) -> None:
    train = command("train", "train a model and write a run folder")
    _model_option(train, "model (default: net; see the models below)")
    _preset_option(train)
    train.add_argument("--epochs", type=_epochs, metavar="N", help="epochs (default: the preset's)")
    train.add_argument("--lr", type=_lr, metavar="X", help="learning rate (default: the preset's)")
    train.add_argument(
        "--batch-size", type=_batch_size, metavar="N", help="batch size (default: the preset's)"
    )
    train.add_argument("--data", metavar="DIR", help="data folder")
    _dataset_option(train, "%(choices)s (default: cifar2)")
    train.add_argument("--runs", metavar="DIR", help="where run folders are made")
    _name_option(train)
    train.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue this run")
    train.add_argument(
        "--from-best",
        action="store_true",
        default=False,
        help="with --resume: continue from best.pt, dropping the epochs after it",
    )
    train.add_argument(
        "--other-data",
        action="store_true",
        default=False,
        help="with --resume: accept data that differ from the run's",
    )
    train.add_argument(
        "--optimizer",
        type=_field("optimizer"),
        choices=OPTIMIZERS,
        metavar="OPTIMIZER",
        default=None,
        help="%(choices)s (default: the preset's)",
    )
    train.add_argument("--momentum", type=_float_field("momentum"), metavar="X", default=None)
    train.add_argument(
        "--weight-decay", type=_float_field("weight_decay"), metavar="X", default=None
    )
    train.add_argument(
        "--l2", type=_float_field("l2"), metavar="X", default=None, help="the book's penalty"
    )
    train.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random horizontal flips (default: the preset's)",
    )
    train.add_argument(
        "--schedule",
        type=_field("schedule"),
        choices=SCHEDULES,
        metavar="SCHEDULE",
        default=None,
        help="learning rate schedule: %(choices)s (default: the preset's)",
    )
    train.add_argument("--seed", type=_checked(check_seed, "seed"), metavar="N", default=None)
    train.add_argument(
        "--device",
        type=_field("device"),
        choices=DEVICES,
        metavar="DEVICE",
        default=None,
        help="%(choices)s (default: auto)",
    )
    train.add_argument(
        "--blocks",
        type=_field("n_blocks", int),
        metavar="N",
        default=None,
        help="net-res-deep's block count",
    )
    _architecture_options(train)
    train.add_argument(
        "--detach",
        action="store_true",
        default=False,
        help="train in a background process that outlives the terminal; print the run "
        f"folder and return (follow it with `{PROG} watch`)",
    )
    _json_option(train, "JSON Lines: one object per epoch, then {run_dir, weights}")


def _architecture_options(parser: Parser) -> None:
    """The Net family's options (core/architecture.py): net only; the book's Net without."""
    parser.add_argument(
        "--kernel-size",
        type=_checked(parse_kernel_size, "kernel_size"),
        metavar="K",
        default=None,
        help="net's kernel: odd, 1 to 15; 5 is 5x5, 1,3 is 1 high and 3 wide (default: 3)",
    )
    parser.add_argument(
        "--channels",
        type=_checked(parse_channels, "channels"),
        metavar="C1,C2",
        default=None,
        help="net's two conv widths, 1 to 1024 each (default: 16,8; 32,16 is NetWidth)",
    )
    parser.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        metavar="ACTIVATION",
        default=None,
        help="net's activation: %(choices)s (default: tanh)",
    )
    parser.add_argument(
        "--padding",
        type=_checked(parse_padding, "padding"),
        metavar="P",
        default=None,
        help="net's conv padding, 0 to half the kernel; 0,1 is 0 rows and 1 column "
        "(default: half the kernel, so the size is kept)",
    )


def _add_eval(command: Callable[[str, str], Parser]) -> None:
    evaluate = command("eval", "train and validation accuracy and the confusion matrix")
    evaluate.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    evaluate.add_argument("--data", metavar="DIR", help="data folder")
    _dataset_option(evaluate, "%(choices)s (default: from the weights' classes)")
    _model_option(evaluate, "insist on this model (default: the file's): %(choices)s")
    evaluate.add_argument(
        "--device",
        type=_field("device"),
        choices=DEVICES,
        metavar="DEVICE",
        default="auto",
        help="%(choices)s (default: auto)",
    )
    _json_option(evaluate, "one object: classes, accuracies, confusion matrix")


def _add_summary(command: Callable[[str, str], Parser]) -> None:
    summary = command("summary", "the model's layers, output shapes and parameter counts")
    _model_option(summary, "model (default: net): %(choices)s")
    _dataset_option(summary, "the class count: cifar2 (2, default) or cifar10 (10)")
    summary.add_argument("--blocks", type=_field("n_blocks", int), metavar="N", default=10)
    _architecture_options(summary)
    _json_option(summary, "one object: model, total_params, param_list, layers")


def _add_predict(command: Callable[[str, str], Parser]) -> None:
    predict = command("predict", "the class of each image, with every class's probability")
    predict.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files, any format, or folders: every image file in one (not in its "
        "subfolders), then a count per class",
    )
    predict.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    _model_option(predict, "insist on this model (default: the file's): %(choices)s")
    _dataset_option(predict, "insist on its class count: %(choices)s")
    predict.add_argument(
        "--explain",
        metavar="OUT.png",
        default=None,
        help="with one IMAGE: write it 8x enlarged with what the model looked at over it "
        "(Grad-CAM on the last conv layer, or saliency), red where the class gains most",
    )
    predict.add_argument(
        "--explain-class",
        metavar="CLASS",
        default=None,
        help="the class --explain shows (default: the predicted one)",
    )
    _json_option(
        predict,
        "one array: {path, class, probabilities} or {path, error} per image; "
        'with --explain, an "explain" key names the PNG',
    )


def _add_watch(command: Callable[[str, str], Parser]) -> None:
    watch = command("watch", "follow a run's epochs until it ends; leaving never stops it")
    watch.add_argument(
        "run", nargs="?", default=None, metavar="RUN", help="run folder (default: the newest)"
    )
    watch.add_argument("--runs", metavar="DIR", help="where to look for RUN and the newest run")
    watch.add_argument(
        "--stop",
        action="store_true",
        default=False,
        help="ask the run to stop (it keeps its last checkpoint), then watch it end",
    )
    _json_option(watch, "JSON Lines: one object per epoch, then {run_dir, state, ...}")


def _model_option(parser: argparse._ActionsContainer, help_text: str) -> None:
    """--model, its choices core's registry (help_text may list them: %(choices)s)."""
    parser.add_argument("--model", type=_model, choices=MODELS, metavar="MODEL", help=help_text)


def _name_option(parser: argparse._ActionsContainer) -> None:
    """--name: the run's name, stored in its config.json."""
    parser.add_argument(
        "--name",
        type=_checked(check_name, "name"),
        metavar="TEXT",
        default=None,
        help="the run's name, shown on the Runs screen (n there renames it)",
    )


def _preset_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--preset",
        type=_preset,
        choices=PRESETS,
        metavar="PRESET",
        help="the settings to start from: %(choices)s (default: book; see below)",
    )


def _dataset_option(parser: argparse._ActionsContainer, help_text: str) -> None:
    parser.add_argument(
        "--dataset",
        type=_dataset,
        choices=DATASETS,
        metavar="DATASET",
        help=help_text,
    )


def _json_option(parser: Parser, help_text: str) -> None:
    parser.add_argument("--json", action="store_true", default=False, help=help_text)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("cnn-tui")
    except Exception:  # not installed: a checkout on the path
        return "unknown"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a command line; raises UsageError with one line on bad input."""
    return build_parser().parse_args(argv)
