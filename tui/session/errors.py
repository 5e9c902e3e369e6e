"""What the session's work refuses, in words a screen shows as they are.

Core raises its own error classes (weights, data, files); the session turns those a user
can cause into a SessionError carrying the one line to show, so that screens catch one
class and import none of core's.
"""

from __future__ import annotations


class SessionError(Exception):
    """The work could not be done; str(error) is the line to show."""


class TargetExists(SessionError):
    """Saving would replace a file; str(error) names it, for a question to the user."""
