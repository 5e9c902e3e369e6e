"""`cnn-tui attack IMAGE --target CLASS`: change a picture by a few levels per pixel so
that the model reads it as another class (the chapter's second exercise), write it as a
PNG, and show what the model makes of that PNG read back. Exit status 0 when it reads as
the target, 1 when the budget was not enough (the best attempt is still written).
`attack --models` compares the shipped models instead (tui/cli/attack_models.py)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cnn_tui.tui.cli.output import (
    EXIT_FAILURE,
    EXIT_OK,
    CliFailure,
    Output,
    UsageError,
    quiet_warnings,
    warn_sample_weights,
)

if TYPE_CHECKING:
    from cnn_tui.core.attack import AttackResult


def cmd_attack(args: argparse.Namespace, out: Output) -> int:
    from cnn_tui.core.attack import DEFAULT_EPS, DEFAULT_STEPS, attack_file
    from cnn_tui.core.images import ImageError
    from cnn_tui.core.predict import Predictor
    from cnn_tui.core.safe_files import printable_path

    quiet_warnings()
    if _check_form(args):
        from cnn_tui.tui.cli.attack_models import attack_models

        return attack_models(out, args.data)
    predictor = Predictor.from_weights(args.weights)
    warn_sample_weights(out, predictor.meta)
    try:
        result = attack_file(
            predictor,
            args.image,
            args.target,
            getattr(args, "out", None),
            eps=getattr(args, "eps", DEFAULT_EPS),
            steps=getattr(args, "steps", DEFAULT_STEPS),
        )
    except ImageError as error:
        raise CliFailure(f"{printable_path(args.image)}: {error}") from None
    if out.json:
        out.emit_json(result.as_json(), indent=2)
    else:
        _show(out, predictor.classes, result)
    return EXIT_OK if result.success else EXIT_FAILURE


def _check_form(args: argparse.Namespace) -> bool:
    """Whether this is `attack --models`; UsageError for a mix of the two forms."""
    one = {"IMAGE": getattr(args, "image", None), "--target": getattr(args, "target", None)}
    one |= {"--out": getattr(args, "out", None), "--weights": args.weights}
    one |= {"--eps": getattr(args, "eps", None), "--steps": getattr(args, "steps", None)}
    if getattr(args, "models", False):
        given = [name for name, value in one.items() if value is not None]
        if given:
            raise UsageError(f"--models compares the shipped models: it takes no {given[0]}")
        return True
    if one["IMAGE"] is None or one["--target"] is None:
        raise UsageError("give IMAGE and --target CLASS (or --models)")
    if args.data is not None:
        raise UsageError("--data goes with --models")
    return False


def _show(out: Output, classes: list[str], result: AttackResult) -> None:
    """Both readings as a table, then one line on what happened."""
    from cnn_tui.tui.cli.names import distinct_names

    columns = [("image", "left"), ("class", "left")] + [(c, "right") for c in classes]
    readings = (result.original, result.adversarial)
    rows = [[r.label] + [f"{r.probabilities[c]:.3f}" for c in classes] for r in readings]
    width = out.width or 0
    room = max(16, width - sum(2 + max(len(h), 8) for h, _ in columns[1:])) if width else 200
    names = distinct_names([result.path, result.out], room)
    out.table(columns, [[name, *row] for name, row in zip(names, rows, strict=True)])
    moved = f"no pixel moved more than {_levels(result.linf)}"
    budget = f"eps {_levels(result.eps)}"
    if result.original.label == result.target:
        out.line(f"already read as {result.target}: nothing to change ({budget})")
    elif result.success:
        out.line(
            f"fooled: it now reads as {result.target} "
            f"({result.adversarial.probabilities[result.target]:.3f}) after {result.steps} "
            f"steps; {moved} ({budget})"
        )
    else:
        out.line(
            f"not fooled within {budget}: the best attempt still reads as "
            f"{result.adversarial.label} ({result.target} "
            f"{result.adversarial.probabilities[result.target]:.3f}); try a larger --eps"
        )


def _levels(value: float) -> str:
    """A pixel amount in 0..1 as 8-bit levels and as a number: '8/255 (0.031)'."""
    return f"{value * 255:.3g}/255 = {value:.3f}" if value else "0"
