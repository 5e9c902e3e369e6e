"""The headless command line: `cnn-tui train | eval | summary | predict`.

rich progress bars and tables on a terminal, plain lines when stdout is not a terminal,
and `--json` for machines (the formats are stable; see README, "Command line"). Every
error is one line on stderr, `cnn-tui: error: <reason>`, with exit status 2 for a usage
error, 1 for a failure and 130 when Ctrl-C or SIGTERM stopped a run. Option values are checked by
core/config.py, so the app refuses the same values with the same words.

This module imports neither torch nor Textual at start-up: `cnn-tui` with no subcommand
opens the app, which must paint before torch has loaded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .config import SHOWN, ConfigError, TrainConfig, preset_config, shown, validate

if TYPE_CHECKING:
    from .events import Event, Finished
    from .train import TrainControl

PROG = "cnn-tui"
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad command line or option value: exit status 2."""


class CliFailure(Exception):
    """The command could not do its job: exit status 1."""


LONG_WORD = 80  # a word of an argparse error longer than this is a pasted value: shortened


def _shorten_long_words(message: str) -> str:
    """argparse echoes what it refuses (an unknown option, extra arguments) whole: a
    5,000-character paste would make its one line hundreds of terminal lines long."""
    import re

    def short(match: re.Match[str]) -> str:
        word = match.group()
        return f"{word[:SHOWN]}… ({len(word):,} characters)"

    return re.sub(rf"\S{{{LONG_WORD + 1},}}", short, message)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one short line, with no usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(_shorten_long_words(message))


# ---------------------------------------------------------------------------------------
# Option values, checked by core/config.py


def _checked(check: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return check(text)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name
    return convert


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
    return _checked(lambda text: getattr(validate(TrainConfig(**{name: text})), name), name)


# ---------------------------------------------------------------------------------------
# The parser


def build_parser() -> Parser:
    """The `cnn-tui` parser: the app's options, and the headless subcommands."""
    from .config import check_batch_size, check_epochs, check_lr, check_seed

    epochs = _checked(check_epochs, "epochs")
    lr = _checked(check_lr, "lr")
    batch_size = _checked(check_batch_size, "batch_size")
    model = _field("model")
    dataset = _field("dataset")

    parser = Parser(
        prog=PROG,
        description="Train, inspect and query the convolutional network of chapter 8 of "
        "Deep Learning with PyTorch (birds vs airplanes). With no subcommand, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    app = parser.add_argument_group("app options (with no subcommand)")
    app.add_argument(
        "--model", type=model, metavar="M", help="model to train or inspect (default: net)"
    )
    app.add_argument(
        "--preset", type=_preset, metavar="book|fast", help="book or fast (default: book)"
    )
    app.add_argument("--epochs", type=epochs, metavar="N", help="epochs to train")
    app.add_argument("--lr", type=lr, metavar="X", help="learning rate")
    app.add_argument("--batch-size", type=batch_size, metavar="N", help="images per batch")
    app.add_argument(
        "--data", metavar="DIR", help="data folder (default: CNN_TUI_DATA, else yours)"
    )
    app.add_argument(
        "--dataset", type=dataset, metavar="cifar2|cifar10", help="cifar2 (default) or cifar10"
    )
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
            name, help=help_text, description=help_text, argument_default=argparse.SUPPRESS
        )

    train = command("train", "train a model and write a run folder")
    train.add_argument("--model", type=model, metavar="M", help="model (default: net)")
    train.add_argument("--preset", type=_preset, metavar="book|fast", help="book (default) or fast")
    train.add_argument("--epochs", type=epochs, metavar="N", help="epochs (default: the preset's)")
    train.add_argument("--lr", type=lr, metavar="X", help="learning rate (default: the preset's)")
    train.add_argument(
        "--batch-size", type=batch_size, metavar="N", help="batch size (default: the preset's)"
    )
    train.add_argument("--data", metavar="DIR", help="data folder")
    train.add_argument(
        "--dataset", type=dataset, metavar="cifar2|cifar10", help="cifar2 (default) or cifar10"
    )
    train.add_argument("--runs", metavar="DIR", help="where run folders are made")
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
        metavar="sgd|adam",
        default=None,
        help="sgd or adam",
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
        metavar="none|one-cycle",
        default=None,
        help="none, one-cycle",
    )
    train.add_argument("--seed", type=_checked(check_seed, "seed"), metavar="N", default=None)
    train.add_argument(
        "--device",
        type=_field("device"),
        metavar="DEVICE",
        default=None,
        help="auto, cpu, cuda, mps",
    )
    train.add_argument(
        "--blocks",
        type=_field("n_blocks", int),
        metavar="N",
        default=None,
        help="net-res-deep's block count",
    )
    train.add_argument(
        "--detach",
        action="store_true",
        default=False,
        help="train in a background process that outlives the terminal; print the run "
        f"folder and return (follow it with `{PROG} watch`)",
    )
    _json_option(train, "JSON Lines: one object per epoch, then {run_dir, weights}")

    evaluate = command("eval", "train and validation accuracy and the confusion matrix")
    evaluate.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    evaluate.add_argument("--data", metavar="DIR", help="data folder")
    evaluate.add_argument(
        "--dataset",
        type=dataset,
        metavar="cifar2|cifar10",
        help="default: from the weights' classes",
    )
    evaluate.add_argument(
        "--model", type=model, metavar="M", help="insist on this model (default: the file's)"
    )
    evaluate.add_argument("--device", type=_field("device"), metavar="DEVICE", default="auto")
    _json_option(evaluate, "one object: classes, accuracies, confusion matrix")

    summary = command("summary", "the model's layers, output shapes and parameter counts")
    summary.add_argument("--model", type=model, metavar="M", help="model (default: net)")
    summary.add_argument(
        "--dataset",
        type=dataset,
        metavar="cifar2|cifar10",
        help="cifar2 (2 classes, default) or cifar10",
    )
    summary.add_argument("--blocks", type=_field("n_blocks", int), metavar="N", default=10)
    _json_option(summary, "one object: model, total_params, param_list, layers")

    predict = command("predict", "the class of each image, with every class's probability")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files, any format")
    predict.add_argument("--weights", metavar="FILE", help="weights file (default: shipped)")
    predict.add_argument(
        "--model", type=model, metavar="M", help="insist on this model (default: the file's)"
    )
    predict.add_argument(
        "--dataset", type=dataset, metavar="cifar2|cifar10", help="insist on its class count"
    )
    _json_option(predict, "one array: {path, class, probabilities} or {path, error} per image")

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
    return parser


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


# ---------------------------------------------------------------------------------------
# Output: rich on a terminal, plain lines otherwise, JSON for machines


def finite_or_null(data: Any) -> Any:
    """data with every NaN or infinite float (in dicts, lists and tuples) made None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite_or_null(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_or_null(value) for value in data]
    return data


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def print_error(message: object) -> None:
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr, flush=True)


class Output:
    """Where a command's human lines, tables, warnings and JSON go."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json = json_mode
        self.tty = (not json_mode) and sys.stdout.isatty()
        self.console = None
        if self.tty:
            from rich.console import Console

            self.console = Console(highlight=False)
        self._err_on_console = self.tty and sys.stderr.isatty()

    def line(self, text: str, style: str | None = None) -> None:
        """A human line on stdout (nothing in JSON mode)."""
        if self.json:
            return
        if self.console is not None:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, flush=True)

    def emit_json(self, data: Any, indent: int | None = None) -> None:
        """Strict JSON: a NaN or infinite number (a diverged run's loss, an overflowing
        model's output) is written as null, never as NaN, which JSON readers refuse."""
        print(json.dumps(finite_or_null(data), indent=indent, allow_nan=False), flush=True)

    def warn(self, message: str) -> None:
        """A warning: stderr (drawn above a live bar when both streams are the terminal)."""
        text = f"{PROG}: warning: {one_line(message)}"
        if self._err_on_console and self.console is not None:
            self.console.print(text, style="yellow", markup=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def log(self, message: str, level: str = "info") -> None:
        """A log line from the core: warnings and errors to stderr, info to humans only."""
        if level in ("warning", "error"):
            self.warn(message)
        elif not self.json:
            self.line(message, style="dim")

    def table(
        self,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[str]],
        title: str | None = None,
    ) -> None:
        """columns: (header, 'left' | 'right'); cells are already formatted."""
        if self.json:
            return
        if self.console is not None:
            from rich.table import Table
            from rich.text import Text

            # Cells hold class and file names: Text, so a name like "[/oops]" is printed
            # as written, not read as Rich markup (a MarkupError, or a mangled name).
            table = Table(
                title=Text(title) if title else None, title_justify="left", header_style="bold"
            )
            for header, justify in columns:
                table.add_column(Text(header), justify=justify)  # type: ignore[arg-type]
            for row in rows:
                table.add_row(*(Text(cell) for cell in row))
            self.console.print(table)
            return
        if title:
            print(title)
        widths = [
            max([len(header)] + [len(row[i]) for row in rows])
            for i, (header, _) in enumerate(columns)
        ]

        def render(cells: Sequence[str]) -> str:
            parts = [
                cell.rjust(width) if justify == "right" else cell.ljust(width)
                for cell, width, (_, justify) in zip(cells, widths, columns, strict=True)
            ]
            return "  ".join(parts).rstrip()

        print(render([header for header, _ in columns]))
        for row in rows:
            print(render(row))
        sys.stdout.flush()


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


# ---------------------------------------------------------------------------------------
# Running a command


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed subcommand headless; returns the exit status. Never raises."""
    handlers = {"train": cmd_train, "eval": cmd_eval, "summary": cmd_summary}
    handlers["predict"] = cmd_predict
    handlers["watch"] = cmd_watch
    from .data import DataError
    from .images import ImageError
    from .runs import RunError
    from .weights import WeightsError

    try:
        return handlers[args.command](args, Output(getattr(args, "json", False)))
    except (UsageError, ConfigError) as error:
        print_error(error)
        return EXIT_USAGE
    except (CliFailure, WeightsError, DataError, RunError, ImageError) as error:
        print_error(error)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`cnn-tui predict ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as error:
        name = f" {error.filename}" if error.filename else ""
        print_error(f"cannot read or write{name}: {error.strerror or error}")
        return EXIT_FAILURE
    except MemoryError:
        print_error("out of memory")
        return EXIT_FAILURE
    except Exception as error:
        if os.environ.get("CNN_TUI_DEBUG"):
            raise
        print_error(
            f"unexpected {type(error).__name__}: {error} (set CNN_TUI_DEBUG=1 to see where)"
        )
        return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Parse and run a headless subcommand; the app's entry point is tui/main.py."""
    try:
        args = parse_args(argv)
    except UsageError as error:
        print_error(error)
        return EXIT_USAGE
    if args.command is None:
        print_error("no command given: choose train, eval, summary, predict or watch")
        return EXIT_USAGE
    return run_command(args)


def _quiet_warnings() -> None:
    """Library warnings as one line each, without source lines, so stderr stays readable."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr, flush=True)

    warnings.showwarning = show


# ---------------------------------------------------------------------------------------
# summary


def cmd_summary(args: argparse.Namespace, out: Output) -> int:
    from .summary import summarize

    _quiet_warnings()
    name = args.model or "net"
    num_classes = 10 if args.dataset == "cifar10" else 2
    data = summarize(name, num_classes, args.blocks)
    if out.json:
        out.emit_json(data, indent=2)
        return EXIT_OK
    rows = [
        [
            layer["name"],
            layer["type"],
            "x".join(str(k) for k in layer["kernel_size"]) if layer.get("kernel_size") else "",
            str(layer["output_shape"]),
            f"{layer['params']:,}",
            "yes" if layer["trainable"] else "",
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
            ("parameters", "right"),
            ("trainable", "left"),
            ("mult-adds", "right"),
        ],
        rows,
        title=f"{name} ({num_classes} classes), input [1, 3, 32, 32]",
    )
    total_mult_adds = sum(layer["mult_adds"] for layer in data["layers"])
    out.line(f"total parameters: {data['total_params']:,}")
    out.line(f"total mult-adds:  {total_mult_adds:,}")
    out.line(f"param_list (the book's list form): {data['param_list']}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------
# predict


def cmd_predict(args: argparse.Namespace, out: Output) -> int:
    from .predict import Predictor

    _quiet_warnings()
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


# ---------------------------------------------------------------------------------------
# eval


def _load_dataset(out: Output, dataset: str, data_dir: str | None):
    """load_dataset with a spinner (and a download bar) on a terminal."""
    from .data import load_dataset

    if out.console is None:
        announced = []

        def on_download(done: int, total: int) -> None:
            if not announced:
                announced.append(True)
                out.line("downloading CIFAR-10 (about 170 MB) ...")

        return load_dataset(dataset, data_dir, on_log=out.log, on_download=on_download)

    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TransferSpeedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, TransferSpeedColumn(), console=out.console, transient=True) as progress:
        from rich.markup import escape

        where = escape(data_dir or "the data folder")  # a folder name is not markup
        task = progress.add_task(f"loading {dataset} from {where}", total=None)

        def on_download(done: int, total: int) -> None:
            progress.update(task, description="downloading CIFAR-10", completed=done)
            if total:
                progress.update(task, total=total)

        return load_dataset(dataset, data_dir, on_log=out.log, on_download=on_download)


def cmd_eval(args: argparse.Namespace, out: Output) -> int:
    from .data import CIFAR2_CLASSES
    from .evaluate import evaluate
    from .predict import Predictor

    _quiet_warnings()
    predictor = Predictor.from_weights(
        args.weights,
        model=args.model,
        num_classes=2 if args.dataset == "cifar2" else None,
        device="cpu",
    )
    meta = predictor.meta or {}
    num_classes = len(predictor.classes)
    dataset_name = args.dataset or (
        "cifar2" if num_classes == 2 and predictor.classes == CIFAR2_CLASSES else "cifar10"
    )
    data_dir = str(Path(args.data).expanduser()) if args.data else None
    dataset = _load_dataset(out, dataset_name, data_dir)
    if len(dataset.classes) != num_classes:
        raise CliFailure(
            f"the weights predict {num_classes} classes ({', '.join(predictor.classes)}) but "
            f"the data have {len(dataset.classes)} ({', '.join(dataset.classes[:10])})"
        )
    from .models import pick_device

    try:
        device = pick_device(args.device)
    except RuntimeError as error:
        raise ConfigError(str(error)) from None
    model = predictor.model.to(device)

    def run_eval():
        return evaluate(model, dataset.train, num_classes), evaluate(
            model, dataset.val, num_classes
        )

    if out.console is not None:
        with out.console.status("evaluating on the training and validation sets ..."):
            train_eval, val_eval = run_eval()
    else:
        train_eval, val_eval = run_eval()
    classes = list(dataset.classes)
    if out.json:
        out.emit_json(
            {
                "classes": classes,
                "train_accuracy": train_eval.accuracy,
                "val_accuracy": val_eval.accuracy,
                "confusion_matrix": val_eval.confusion,
            },
            indent=2,
        )
        return EXIT_OK
    out.line(
        f"weights: {meta.get('path', args.weights)} ({meta.get('model')}, {num_classes} classes)"
    )
    out.line(f"data:    {dataset.name}")
    out.table(
        [("split", "left"), ("images", "right"), ("accuracy", "right"), ("loss", "right")],
        [
            [
                "train",
                f"{len(dataset.train):,}",
                f"{train_eval.accuracy:.4f}",
                f"{train_eval.loss:.4f}",
            ],
            ["val", f"{len(dataset.val):,}", f"{val_eval.accuracy:.4f}", f"{val_eval.loss:.4f}"],
        ],
    )
    out.table(
        [("true \\ predicted", "left")] + [(c, "right") for c in classes],
        [[c] + [f"{n:,}" for n in row] for c, row in zip(classes, val_eval.confusion, strict=True)],
        title="confusion matrix, validation set (rows: true class, columns: predicted)",
    )
    return EXIT_OK


# ---------------------------------------------------------------------------------------
# train

RESUME_FIXED = ("model", "preset", "lr", "batch_size", "dataset", "runs", "optimizer")


def check_runs_dir(path: Path) -> None:
    """Make sure run folders can be written here before any slow work starts."""
    from .runs import RunError

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise RunError(f"cannot write runs folder {path}: {error.strerror or error}") from None


def cmd_train(args: argparse.Namespace, out: Output) -> int:
    from .paths import default_runs_dir
    from .train import TrainControl, train

    _quiet_warnings()
    dataset = None
    runs_dir: Path | None = None
    resume: Any = None
    if args.resume:
        from .resume import Resume, plan_resume

        ignored = [
            "--" + name.replace("_", "-")
            for name in RESUME_FIXED
            if getattr(args, name, None) is not None
        ]
        if ignored:
            out.warn(f"--resume keeps the run's own settings; ignoring {', '.join(ignored)}")
        resume = Resume(
            Path(args.resume),
            args.epochs,
            from_best=args.from_best,
            data_dir=args.data,
            other_data=args.other_data,
        )
        plan = plan_resume(resume)  # refused here, before a background trainer starts
        done = plan.epochs_done
        if plan.request.from_best and plan.best_epoch is not None:
            done = plan.best_epoch
        if done >= plan.config.epochs:
            raise UsageError(
                f"run {args.resume} has already trained {done} epochs; pass --epochs N with "
                f"N above {done} to train it further"
            )
        config = plan.config
    else:
        if args.from_best or args.other_data:
            raise UsageError("--from-best and --other-data go with --resume RUN_DIR")
        data_dir = str(Path(args.data).expanduser().resolve()) if args.data else None
        config = preset_config(
            args.preset or "book",
            args.model or "net",
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            data_dir=data_dir,
            dataset=args.dataset,
            optimizer=args.optimizer,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            l2=args.l2,
            augment=args.augment,
            schedule=args.schedule,
            seed=args.seed,
            device=args.device,
            n_blocks=args.blocks,
        )
        runs_dir = Path(args.runs).expanduser() if args.runs else default_runs_dir()
        check_runs_dir(runs_dir)
        if not getattr(args, "detach", False):
            dataset = _load_dataset(out, config.dataset, config.data_dir)
    if getattr(args, "detach", False):
        return _train_detached(out, config, runs_dir, resume)

    control = TrainControl()
    view = TrainView(out, control)
    with view:
        finished = train(
            config,
            view,
            control=control,
            runs_dir=runs_dir,
            resume=resume,
            dataset=dataset,
        )
    return view.report(finished)


def _train_detached(out: Output, config: TrainConfig, runs_dir: Path | None, resume: Any) -> int:
    """`train --detach`: start the background trainer, say where it writes, return."""
    from .detach import start_detached

    run_dir, pid = start_detached(config, runs_dir, resume=resume)
    if out.json:
        out.emit_json({"run_dir": str(run_dir), "pid": pid})
        return EXIT_OK
    out.line(f"training in the background (pid {pid}); it goes on if this terminal closes")
    out.line(f"run folder: {run_dir}")
    out.line(f"log:        {run_dir / 'train.log'}")
    out.line(f"follow it:  {PROG} watch {run_dir}")
    out.line(f"stop it:    {PROG} watch {run_dir} --stop")
    return EXIT_OK


def cmd_watch(args: argparse.Namespace, out: Output) -> int:
    from .watch import cmd_watch as watch

    return watch(args, out)


class TrainView:
    """Shows training events; owns the progress bar and the Ctrl-C handler."""

    def __init__(self, out: Output, control: TrainControl) -> None:
        self.out = out
        self.control = control
        self.progress: Any = None
        self.task: Any = None
        self.epochs = 0
        self.best: float | None = None
        self.last_epoch_seconds: float | None = None
        self.interrupted = False  # Ctrl-C
        self.terminated = False  # SIGTERM
        self._previous_handler: Any = None
        self._previous_term: Any = None

    # context: restore the terminal and the signal handler whatever happens
    def __enter__(self) -> TrainView:
        # From before train() makes the run folder: a stop then ends the run "stopped"
        # before its first batch, instead of killing it with the folder half made.
        if threading_is_main():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
            self._previous_term = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_progress()
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None
        if self._previous_term is not None:
            signal.signal(signal.SIGTERM, self._previous_term)
            self._previous_term = None

    def _stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _on_sigint(self, signum: int, frame: object) -> None:
        if self.control.stopped:
            raise KeyboardInterrupt
        self.interrupted = True
        self.control.stop()
        self.out.warn(
            "stopping after this batch; the last checkpoint is kept (Ctrl-C again quits now)"
        )

    def _on_sigterm(self, signum: int, frame: object) -> None:
        # kill, a service manager, `cnn-tui watch --stop` (core.runs.stop_run): stop as
        # Ctrl-C does, keeping the checkpoint, rather than dying mid-epoch; exit 130 too
        self.terminated = True
        self.control.stop()

    def __call__(self, event: Event) -> None:
        from .events import EpochEnd, Finished, Log, Progress, Started

        if isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, EpochEnd):
            self._epoch(event)
        elif isinstance(event, Log):
            # an error ends the run and report() prints it once; a stop by Ctrl-C was
            # announced when the key was pressed
            if event.level != "error" and not (self.interrupted and self.control.stopped):
                self.out.log(event.message, event.level)
        elif isinstance(event, Started):
            self._started(event)
        elif isinstance(event, Finished):
            self._stop_progress()

    def _started(self, event: Any) -> None:
        self.epochs = event.epochs
        out = self.out
        first = event.start_epoch + 1
        out.line(f"run folder: {event.run_dir}")
        out.line(f"{event.model} on {event.dataset}, device {event.device}")
        if event.start_epoch:
            out.line(f"resuming after epoch {event.start_epoch}; epochs {first} to {event.epochs}")
        if out.console is not None and first <= event.epochs:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[eta]}"),
                console=out.console,
                transient=True,
                redirect_stderr=False,
                redirect_stdout=False,
            )
            self.task = self.progress.add_task(
                f"epoch {first}/{event.epochs}", total=None, rate="", eta=""
            )
            self.progress.start()

    def _progress(self, event: Any) -> None:
        if self.progress is None:
            return
        per_epoch = self.last_epoch_seconds
        if per_epoch is None:
            per_epoch = event.elapsed_seconds + event.eta_seconds  # first epoch's estimate
        run_left = event.eta_seconds + (event.epochs - event.epoch) * per_epoch
        self.progress.update(
            self.task,
            description=f"epoch {event.epoch}/{event.epochs}",
            completed=event.batch,
            total=event.batches,
            rate=f"{event.images_per_second:,.0f} img/s",
            eta=f"ETA {_duration(event.eta_seconds)} (run {_duration(run_left)})",
        )

    def _epoch(self, event: Any) -> None:
        self.last_epoch_seconds = event.epoch_seconds
        if self.out.json:
            self.out.emit_json(event.to_dict())
            return
        best = self.best is None or event.val_accuracy > self.best
        self.best = event.val_accuracy if best else self.best
        width = len(str(self.epochs))
        text = (
            f"epoch {event.epoch:>{width}}/{self.epochs}  "
            f"train loss {event.train_loss:.4f} acc {event.train_accuracy:.4f}  "
            f"val loss {event.val_loss:.4f} acc {event.val_accuracy:.4f}  "
            f"{event.epoch_seconds:.1f}s  {event.images_per_second:,.0f} img/s"
        )
        self.out.line(text + ("  *" if best and self.out.console is not None else ""))
        if self.progress is not None:
            self.progress.reset(self.task, total=None, rate="", eta="")
            if event.epoch < self.epochs:
                self.progress.update(
                    self.task, description=f"epoch {event.epoch + 1}/{self.epochs}"
                )

    def report(self, finished: Finished) -> int:
        """The end of the run: the run folder and weights, and the exit status."""
        out = self.out
        if out.json:
            out.emit_json({"run_dir": finished.run_dir, "weights": finished.weights})
        else:
            if finished.best_val_accuracy is not None:
                out.line(
                    f"{finished.state}: {finished.epochs_done} epochs, best val accuracy "
                    f"{finished.best_val_accuracy:.4f} (epoch {finished.best_epoch})"
                )
            out.line(f"run folder: {finished.run_dir}")
            if finished.weights:
                out.line(f"weights:    {finished.weights}")
        if finished.state == "failed":
            print_error(finished.message or "training failed")
            return EXIT_FAILURE
        if finished.state == "stopped":
            out.line(f"resume with: {PROG} train --resume {finished.run_dir}")
            return EXIT_INTERRUPTED if self.interrupted or self.terminated else EXIT_OK
        return EXIT_OK


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliFailure",
    "Output",
    "Parser",
    "UsageError",
    "build_parser",
    "main",
    "parse_args",
    "run_command",
]
