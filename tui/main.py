"""The `cnn-tui` console script: a subcommand runs headless, no subcommand opens the app.

Only the standard library and the command line's parser and output (tui/cli/, which load
neither torch nor Textual) are imported before the choice is made, so the app's first frame
is not kept waiting and the headless commands never import Textual.
"""

from __future__ import annotations

import gc
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


def script() -> int:
    """The console script: main(), then gc.freeze() so that the exit is quick.

    At exit Python's last garbage collections walk every object still alive, and once
    torch is imported (with the torch._dynamo that a torch optimizer imports) that is
    millions of them: 0.65 s of exit with torch, about 1 s with torch._dynamo on a 2-core
    machine, after the work is done and printed. Frozen objects are skipped: 0.2-0.3 s
    (tests/bench/bench_speed.py reports it). Nothing else changes: atexit handlers run,
    files are flushed and closed. Not in main(), which tests call in their own process.
    """
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":
    import sys

    sys.exit(script())
