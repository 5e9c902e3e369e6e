"""The `cnn-tui` console script: a subcommand runs headless, no subcommand opens the app.

Only the standard library and the command line's parser and output (tui/cli/, which load
neither torch nor Textual) are imported before the choice is made, so the app's first frame
is not kept waiting and the headless commands never import Textual.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run `cnn-tui` with these arguments (default: sys.argv); returns the exit status."""
    from cnn_tui.tui.cli.output import EXIT_FAILURE, EXIT_USAGE, UsageError, print_error
    from cnn_tui.tui.cli.parser import parse_args

    try:
        args = parse_args(argv)
    except UsageError as error:
        print_error(error)
        return EXIT_USAGE
    if args.command is not None:
        from cnn_tui.tui.cli.commands import run_command

        return run_command(args)
    try:
        from cnn_tui.tui.app import run_app
    except ImportError as error:
        print_error(f"the app cannot start: {error}")
        return EXIT_FAILURE
    return int(run_app(args) or 0)


if __name__ == "__main__":
    import sys

    sys.exit(main())
