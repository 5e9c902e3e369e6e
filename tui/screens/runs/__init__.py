"""The Runs screen (key 5): every run folder, one run's charts, runs compared, and actions.

Everything shown is read from the run folders that core writes (config.json, state.json,
metrics.jsonl, progress.json), so a run trained here, in another terminal or detached in
the background looks the same, and a live one is followed as its files grow. Files are
re-read only when their size or mtime changed (see runs_cache.py).

Actions on the highlighted run: resume a stopped or crashed run (here in the app's
training worker, or in the background), use its best or final weights as the current
model, export its metrics as CSV, stop it (a live run) and delete it (asking first).

The package's parts: listing (the list), run (one run), compare (runs compared), keys
(the keys that act on a run), resume_dialog (here or in the background?), rename_dialog
(a run's name), describe (a run in words). The table's columns are
tui/widgets/run_columns.py's. What the keys ask of the engine is the session's
(tui/session/run_actions.py); run folders are read through tui/runs_cache.py.
"""

from cnn_tui.tui.screens.runs.compare import CompareScreen
from cnn_tui.tui.screens.runs.describe import compare_labels
from cnn_tui.tui.screens.runs.listing import RunsScreen
from cnn_tui.tui.screens.runs.resume_dialog import ResumeScreen
from cnn_tui.tui.screens.runs.run import RunScreen

__all__ = ["CompareScreen", "ResumeScreen", "RunScreen", "RunsScreen", "compare_labels"]
