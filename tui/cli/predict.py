"""`cnn-tui predict IMAGE|FOLDER...`: the class of each image, with every class's
probability; a folder stands for every image file in it, as the app's Folder tab reads it,
and ends with a count per predicted class. On a terminal a last line says, as the app's
Predict screen does, that any picture gets one of the model's classes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_tui.tui.cli.output import (
    EXIT_FAILURE,
    EXIT_OK,
    Output,
    UsageError,
    plural,
    print_error,
    quiet_warnings,
    warn_sample_weights,
)

if TYPE_CHECKING:
    from cnn_tui.core.predict import Predictor

CHUNK = 256  # images decoded and run through the model at once: a folder can hold 10,000
MIN_NAME = 16  # narrower than this, a terminal table keeps only the top class's probability
EMPTY_FOLDER = "a folder with no image file (subfolders are not searched)"


def cmd_predict(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.predict import Predictor

    quiet_warnings()
    paths, empty, folders = image_paths(args.images)
    explain = _explain_target(args, paths)
    num_classes = {"cifar2": 2, "cifar10": 10}.get(args.dataset or "")
    predictor = Predictor.from_weights(args.weights, model=args.model, num_classes=num_classes)
    warn_sample_weights(out, predictor.meta)
    results = _classify(predictor, paths, empty, out)
    wrote = _explain(predictor, paths[0], args.explain_class, explain, results) if explain else None
    failed = [r for r in results if "error" in r]
    if out.json:
        out.emit_json(results, indent=2)
    else:
        _show(out, predictor.classes, [r for r in results if "error" not in r])
    for result in failed:
        print_error(f"{result['path']}: {result['error']}")
    images = [r for r, path in zip(results, paths, strict=True) if path not in empty]
    if folders and images and not out.json:
        out.line(class_counts(images, predictor.classes))
    if wrote and not out.json:
        out.line(wrote)
    if out.width is not None and len(failed) < len(results):  # a terminal, not a pipe
        from cnn_tui.core.weights import known_classes

        out.line(known_classes(predictor.classes), style="dim")  # a frog is still a bird
    return EXIT_FAILURE if failed else EXIT_OK


def _explain_target(args: argparse.Namespace, paths: list[str]) -> Path | None:
    """Where --explain writes (checked before any work), or None without it; UsageError
    for --explain with more than one image (one picture per file: the name is the user's)
    or --explain-class without --explain."""
    from cnn_tui.core.our_png import check_writable

    if args.explain is None:
        if args.explain_class is not None:
            raise UsageError("--explain-class goes with --explain OUT.png")
        return None
    if len(paths) != 1:
        raise UsageError(
            f"--explain writes one picture: give one IMAGE, not {plural(len(paths), 'image')}"
        )
    target = Path(args.explain).expanduser()
    check_writable(target, "--explain")
    return target


def _explain(
    predictor: Predictor,
    path: str,
    label: str | None,
    target: Path,
    results: list[dict[str, Any]],
) -> str | None:
    """Write the overlay for the one image (unless it could not be read); its JSON object
    gets "explain": the PNG's path. The line to show after the answer, or None."""
    from cnn_tui.core.explain import explain_file
    from cnn_tui.core.safe_files import printable_path

    [result] = results
    if "error" in result:
        return None
    done = explain_file(predictor, path, target, label)
    result["explain"] = printable_path(str(target))
    return f"wrote {result['explain']}: {done.method} for {done.label} (red: it counts most)"


def image_paths(arguments: Sequence[str]) -> tuple[list[str], set[str], bool]:
    """The files to classify, the folders among them that hold no image file, and
    whether a folder with images was given (the answers then end with a count per class).

    A folder stands for its image files (core's image suffixes, regular files only, not
    hidden, not in subfolders), sorted by name; a folder with none stays, to be answered
    with an error as a bad file is. Anything else is a file, kept as given (a missing or
    unreadable one gets its own error).
    """
    from cnn_tui.core.predict import image_files

    paths: list[str] = []
    empty: set[str] = set()
    folders = False
    for argument in arguments:
        found = image_files(argument) if os.path.isdir(argument) else None
        if found:
            folders = True
            paths += [str(path) for path in found]
        else:
            paths.append(argument)
            if found is not None:
                empty.add(argument)
    return paths, empty, folders


def _classify(
    predictor: Predictor, paths: list[str], empty: set[str], out: Output
) -> list[dict[str, Any]]:
    """An answer per path, in order: predict_files a chunk at a time (a folder's images
    never all in memory at once), under a spinner on a terminal when there are many; a
    folder without images gets its error."""
    from cnn_tui.core.safe_files import printable_path

    todo = [path for path in paths if path not in empty]

    def run() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for start in range(0, len(todo), CHUNK):
            results += predictor.predict_files(todo[start : start + CHUNK])
        return results

    if out.console is None or len(todo) <= CHUNK:
        answers = iter(run())
    else:
        with out.console.status(f"classifying {plural(len(todo), 'image')} ..."):
            answers = iter(run())
    return [
        {"path": printable_path(path), "error": EMPTY_FOLDER} if path in empty else next(answers)
        for path in paths
    ]


def _show(out: Output, classes: list[str], good: list[dict[str, Any]]) -> None:
    """The answers: a table (on a terminal, names shortened to fit its width and told
    apart), or in a pipe full paths, as a table for a few classes, else a line each."""
    if not good:
        return
    width = out.width
    if width is None and len(classes) > 4:
        for r in good:
            probs = ", ".join(f"{c} {p:.3f}" for c, p in r["probabilities"].items())
            out.line(f"{r['path']}: {r['class']} ({probs})")
        return
    names = [r["path"] for r in good]
    columns = [("image", "left"), ("class", "left")] + [(c, "right") for c in classes]
    rows = [[r["class"]] + [f"{r['probabilities'][c]:.3f}" for c in classes] for r in good]
    if width is not None:
        from cnn_tui.tui.cli.names import distinct_names

        room = width - _width(columns[1:], rows)
        if room < MIN_NAME:  # many classes: only the answer's probability
            columns = [("image", "left"), ("class", "left"), ("probability", "right")]
            rows = [[r["class"], f"{r['probabilities'][r['class']]:.3f}"] for r in good]
            room = width - _width(columns[1:], rows)
        names = distinct_names(names, max(room, MIN_NAME))
    out.table(columns, [[name, *row] for name, row in zip(names, rows, strict=True)])


def _width(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]]) -> int:
    """The columns' width with the two spaces before each (the image column's comes first)."""
    return sum(
        2 + max([len(header)] + [len(row[i]) for row in rows])
        for i, (header, _) in enumerate(columns)
    )


def class_counts(results: list[dict[str, Any]], classes: list[str]) -> str:
    """ "5 images: 3 airplane, 2 bird", in the model's class order, and how many failed."""
    counts = {c: sum(1 for r in results if r.get("class") == c) for c in classes}
    answered = ", ".join(f"{n:,} {c}" for c, n in counts.items() if n) or "none classified"
    failed = sum(1 for r in results if "error" in r)
    unread = f"; {failed:,} could not be read" if failed else ""
    return f"{plural(len(results), 'image')}: {answered}{unread}"
