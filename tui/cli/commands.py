"""Running a parsed `cnn-tui` subcommand headless: the handlers, and one exit status for
every way a command can end (see tui/cli/output.py)."""

from __future__ import annotations

import argparse
import os
import sys

from cnn_tui.core.config import ConfigError
from cnn_tui.tui.cli.attack import cmd_attack
from cnn_tui.tui.cli.evaluate import cmd_eval
from cnn_tui.tui.cli.fooled import cmd_fooled
from cnn_tui.tui.cli.layers import cmd_layers
from cnn_tui.tui.cli.output import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliFailure,
    Output,
    UsageError,
    print_error,
)
from cnn_tui.tui.cli.predict import cmd_predict
from cnn_tui.tui.cli.summary import cmd_summary
from cnn_tui.tui.cli.train import cmd_train
from cnn_tui.tui.cli.watch import cmd_watch


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed subcommand headless; returns the exit status. Never raises."""
    handlers = {"train": cmd_train, "eval": cmd_eval, "summary": cmd_summary}
    handlers["predict"] = cmd_predict
    handlers["attack"] = cmd_attack
    handlers["fooled"] = cmd_fooled
    handlers["watch"] = cmd_watch
    handlers["layers"] = cmd_layers
    from cnn_tui.core.errors import CnnTuiError

    try:
        return handlers[args.command](args, Output(getattr(args, "json", False)))
    except (UsageError, ConfigError) as error:
        print_error(error)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`cnn-tui predict ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as error:  # a FileRefused too: an OSError as well as an engine error
        name = f" {error.filename}" if error.filename else ""
        print_error(f"cannot read or write{name}: {error.strerror or error}")
        return EXIT_FAILURE
    except (CliFailure, CnnTuiError) as error:
        print_error(error)
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
