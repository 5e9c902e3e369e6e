"""The one base of the errors the engine raises on purpose.

Each says in one line why something cannot be done (a bad setting, unreadable data, a busy
run folder, a damaged weights file), and keeps its own second base (ValueError, OSError)
where it had one. A front end catches CnnTuiError to tell such a refusal, which it shows,
from a bug, which it reports as unexpected.
"""

from __future__ import annotations


class CnnTuiError(Exception):
    """Something the engine refuses or cannot do; str() is the reason in one line."""
