"""Light or dark: which Textual theme the app opens with.

Textual starts dark whatever the terminal looks like, so before the app takes the terminal
over we ask it for its background colour (OSC 11, answered by xterm, VTE/GNOME Terminal,
Konsole, iTerm2, kitty, WezTerm, Alacritty, foot, Windows Terminal and tmux) and follow
it. A Device Attributes query sent right after it is answered by nearly every terminal,
so one that ignores OSC 11 costs a round trip, not a timeout. Where the terminal does not
answer, the COLORFGBG variable some terminals set decides; else dark.

An explicit choice always wins: `--theme NAME`, then CNN_TUI_THEME, then the theme last
picked in the command palette (remembered in the user's config folder).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from cnn_tui.core.safe_files import read_text_regular

DARK = "textual-dark"
LIGHT = "textual-light"
AUTO = "auto"
ENV = "CNN_TUI_THEME"
ALIASES = {"dark": DARK, "light": LIGHT}
QUERY = b"\x1b]11;?\x1b\\" + b"\x1b[c"  # background colour, then Device Attributes
_OSC11 = re.compile(rb"\x1b\]11;rgba?:([0-9a-fA-F]+)/([0-9a-fA-F]+)/([0-9a-fA-F]+)")
_DA1 = re.compile(rb"\x1b\[\?[0-9;]*c")

RGB = tuple[float, float, float]


def parse_background(reply: bytes) -> RGB | None:
    """The colour in an OSC 11 reply (`ESC ] 11 ; rgb:RRRR/GGGG/BBBB`, 1 to 4 hex digits a
    channel) as red, green, blue in 0..1; None when the reply holds none."""
    found = _OSC11.search(reply)
    if found is None:
        return None
    channels = []
    for digits in found.groups():
        digits = digits[:4]
        channels.append(int(digits, 16) / (16 ** len(digits) - 1))
    return channels[0], channels[1], channels[2]


def is_light(rgb: RGB) -> bool:
    """Light when the relative luminance (Rec. 709 weights) is over one half."""
    red, green, blue = rgb
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.5


def colorfgbg_is_light(value: str | None) -> bool | None:
    """COLORFGBG is "fg;bg" (or "fg;default;bg") in ANSI colour numbers: 7 (light grey)
    and 9 to 15 (the bright colours and white) are light backgrounds; None if unreadable."""
    if not value:
        return None
    last = value.split(";")[-1].strip()
    if not last.isdigit() or int(last) > 15:
        return None
    background = int(last)
    return background == 7 or background >= 9


def query_timeout(env: Mapping[str, str] | None = None) -> float:
    """How long to wait for a terminal that answers neither query: longer over SSH, where
    a reply that came after the app took the terminal over would read as key presses."""
    env = os.environ if env is None else env
    return 1.0 if env.get("SSH_CONNECTION") or env.get("SSH_TTY") else 0.3


def query_background(timeout: float | None = None) -> RGB | None:
    """Ask the controlling terminal for its background colour; None where it cannot be
    asked (not a terminal, Windows) or does not say. Restores the terminal's modes."""
    if timeout is None:
        timeout = query_timeout()
    if os.name != "posix" or os.environ.get("TERM", "") in ("", "dumb"):
        return None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    try:
        import termios
        import tty
        from select import select

        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except (ImportError, OSError):
        return None
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        os.close(fd)
        return None
    reply = b""
    try:
        tty.setraw(fd, termios.TCSANOW)
        os.write(fd, QUERY)
        deadline = time.monotonic() + timeout
        while not _DA1.search(reply):
            left = deadline - time.monotonic()
            if left <= 0 or not select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, 1024)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass
    finally:
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        finally:
            os.close(fd)
    return parse_background(reply)


def detect_light(
    env: Mapping[str, str] | None = None, query: Callable[[], RGB | None] = query_background
) -> bool | None:
    """Whether the terminal is light: its own answer first, then COLORFGBG; None: unknown."""
    env = os.environ if env is None else env
    rgb = query()
    if rgb is not None:
        return is_light(rgb)
    return colorfgbg_is_light(env.get("COLORFGBG"))


def settings_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path("cnn-tui") / "settings.json"


def saved_theme(path: Path | None = None) -> str | None:
    """The theme last picked in the app, if any was saved and the file reads."""
    try:
        value = json.loads(read_text_regular(path or settings_file())).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def save_theme(theme: str, path: Path | None = None) -> None:
    """Remember the theme picked in the app (atomically; other settings kept)."""
    from cnn_tui.core.atomic import write_json_atomic

    path = path or settings_file()
    try:
        settings = json.loads(read_text_regular(path))
        if not isinstance(settings, dict):
            settings = {}
    except (OSError, ValueError):
        settings = {}
    settings["theme"] = theme
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, settings)
    except OSError:
        pass  # a read-only home loses the choice, not the app


def choose_theme(
    requested: str | None,
    available: set[str],
    env: Mapping[str, str] | None = None,
    saved: Callable[[], str | None] = saved_theme,
    detect: Callable[[], bool | None] = detect_light,
) -> tuple[str, str]:
    """The theme to open with and why (for the log): requested (`--theme`), CNN_TUI_THEME,
    the saved pick, else the terminal's light or dark. Raises ValueError for a requested
    or CNN_TUI_THEME name that is no theme."""
    env = os.environ if env is None else env
    for value, source in ((requested, "--theme"), (env.get(ENV), ENV)):
        if not value:
            continue
        if value == AUTO:
            break  # auto asks the terminal, even over a saved pick
        name = ALIASES.get(value, value)
        if name not in available:
            names = ", ".join(sorted({*ALIASES, *available, AUTO}))
            raise ValueError(f"{source}: no theme called {value!r} (themes: {names})")
        return name, source
    else:  # neither given
        remembered = saved()
        if remembered in available:
            return remembered, "the theme picked last time"
    light = detect()
    if light is None:
        return DARK, "the default: the terminal gave no background colour"
    if light:
        return LIGHT, "the terminal's light background"
    return DARK, "the terminal's dark background"
