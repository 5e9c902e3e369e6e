"""The command line, beside the Textual app: `cnn-tui train | eval | summary | predict | watch`.

parser.py (argparse; option values checked by core/config.py), output.py (rich on a terminal,
plain lines in a pipe, JSON, one-line errors and the exit statuses), commands.py (runs a
parsed subcommand), one module per command, names.py (file names shortened to fit a
terminal and told apart), progress.py (the data-loading spinner, terminal only) and
detached.py (the background trainer's entry). It imports no Textual; tui/main.py chooses
between it and the app.
"""
