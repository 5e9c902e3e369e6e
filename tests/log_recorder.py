"""A `log` callback for core functions that report as (message, level), kept for asserts."""

from __future__ import annotations


class LogRecorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, message: str, level: str) -> None:
        self.lines.append((message, level))

    def warnings(self) -> list[str]:
        return [m for m, level in self.lines if level == "warning"]
