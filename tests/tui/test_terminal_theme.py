"""The app opens light on a light terminal and dark on a dark one; an explicit choice wins.

The terminal query is tested against a real pseudo-terminal: a forked child asks, the
test answers as a terminal would (or does not), and the child reports what it decided.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from app_support import log_text, ready, tiny_dataset
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.terminal_theme import (
    DARK,
    LIGHT,
    QUERY,
    choose_theme,
    colorfgbg_is_light,
    detect_light,
    is_light,
    parse_background,
    save_theme,
    saved_theme,
)

THEMES = {DARK, LIGHT, "nord", "gruvbox"}


def test_replies_are_read_with_any_number_of_hex_digits() -> None:
    assert parse_background(b"\x1b]11;rgb:ffff/ffff/ffff\x1b\\") == (1.0, 1.0, 1.0)
    assert parse_background(b"\x1b]11;rgb:0000/0000/0000\x07") == (0.0, 0.0, 0.0)
    assert parse_background(b"\x1b]11;rgb:f0/f0/f0\x07") == pytest.approx(
        (0.941, 0.941, 0.941), abs=1e-3
    )
    assert parse_background(b"\x1b]11;rgba:8/8/8/f\x07") == pytest.approx((0.533,) * 3, abs=1e-3)
    # the reply among other bytes (a key typed meanwhile, the Device Attributes answer)
    assert parse_background(b"x\x1b]11;rgb:1e1e/1e1e/2e2e\x1b\\\x1b[?62;22c") is not None
    assert parse_background(b"\x1b[?62;22c") is None
    assert parse_background(b"") is None


def test_light_is_a_luminance_over_one_half() -> None:
    assert is_light((1.0, 1.0, 1.0)) and is_light((0.94, 0.94, 0.94))
    assert not is_light((0.0, 0.0, 0.0)) and not is_light((0.12, 0.12, 0.18))
    assert not is_light((0.0, 0.0, 1.0)), "pure blue is dark (green weighs most)"
    assert is_light((0.2, 0.9, 0.2))


def test_colorfgbg() -> None:
    assert colorfgbg_is_light("0;15") is True
    assert colorfgbg_is_light("0;default;7") is True
    assert colorfgbg_is_light("15;0") is False
    assert colorfgbg_is_light("7;8") is False
    assert colorfgbg_is_light("") is None and colorfgbg_is_light(None) is None
    assert colorfgbg_is_light("15;default") is None and colorfgbg_is_light("0;99") is None


def test_the_terminal_answer_comes_before_colorfgbg() -> None:
    assert detect_light({"COLORFGBG": "15;0"}, query=lambda: (1.0, 1.0, 1.0)) is True
    assert detect_light({"COLORFGBG": "0;15"}, query=lambda: None) is True
    assert detect_light({}, query=lambda: None) is None


def test_an_explicit_choice_wins_then_the_saved_pick_then_the_terminal() -> None:
    def choose(requested=None, env=None, saved=None, light=None):
        return choose_theme(
            requested, THEMES, env=env or {}, saved=lambda: saved, detect=lambda: light
        )[0]

    assert choose(light=True) == LIGHT
    assert choose(light=False) == DARK
    assert choose(light=None) == DARK, "unknown: dark, Textual's own default"
    assert choose(saved="nord", light=True) == "nord"
    assert choose(saved="gone-theme", light=True) == LIGHT, "a saved name no longer there"
    assert choose(env={"CNN_TUI_THEME": "gruvbox"}, saved="nord") == "gruvbox"
    assert choose("light", env={"CNN_TUI_THEME": "gruvbox"}, light=False) == LIGHT
    assert choose("dark", light=True) == DARK
    assert choose("auto", env={"CNN_TUI_THEME": "nord"}, saved="nord", light=True) == LIGHT
    assert choose(env={"CNN_TUI_THEME": "auto"}, saved="nord", light=True) == LIGHT
    with pytest.raises(ValueError, match="--theme: no theme called 'nope'"):
        choose("nope")
    with pytest.raises(ValueError, match="CNN_TUI_THEME: no theme called 'x'"):
        choose(env={"CNN_TUI_THEME": "x"})


def test_the_saved_pick_survives_a_bad_file_and_keeps_other_settings(tmp_path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    assert saved_theme(path) is None
    path.parent.mkdir()
    path.write_text("{not json")
    assert saved_theme(path) is None
    save_theme("nord", path)
    assert saved_theme(path) == "nord"
    path.write_text(json.dumps({"other": 1, "theme": "gruvbox"}))
    save_theme("nord", path)
    assert json.loads(path.read_text()) == {"other": 1, "theme": "nord"}
    assert not list(path.parent.glob(".*.tmp"))


# -- the query, against a pseudo-terminal ---------------------------------------------------

CHILD = """
import json, time
from cnn_tui.tui.terminal_theme import query_background
started = time.monotonic()
rgb = query_background(timeout=1.5)
print("RESULT " + json.dumps([rgb, time.monotonic() - started]), flush=True)
"""


def _ask_through_a_pty(answer: bytes | None) -> tuple[object, float, bytes]:
    """Run the query in a child on a pseudo-terminal; answer it with these bytes."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-c", CHILD])
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while QUERY not in seen:
            assert time.monotonic() < deadline, f"no query was sent: {seen!r}"
            seen += os.read(fd, 1024)
        if answer is not None:
            os.write(fd, answer)
        while b"RESULT" not in seen or not seen.endswith(b"\n"):
            assert time.monotonic() < deadline, f"no result: {seen!r}"
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    line = seen[seen.index(b"RESULT ") :].split(b"\n")[0]
    rgb, seconds = json.loads(line[len(b"RESULT ") :])
    return rgb, seconds, seen


posix_only = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")


@posix_only
def test_a_terminal_that_answers_is_followed() -> None:
    rgb, seconds, _ = _ask_through_a_pty(b"\x1b]11;rgb:ffff/ffff/f0f0\x1b\\\x1b[?62;22c")
    assert rgb == pytest.approx([1.0, 1.0, 0.941], abs=1e-3)
    assert seconds < 1.0, "the Device Attributes answer ends the wait"


@posix_only
def test_a_terminal_without_osc11_costs_a_round_trip_not_the_timeout() -> None:
    rgb, seconds, _ = _ask_through_a_pty(b"\x1b[?1;2c")
    assert rgb is None and seconds < 1.0


@posix_only
def test_a_terminal_that_never_answers_costs_the_timeout_and_no_more() -> None:
    rgb, seconds, _ = _ask_through_a_pty(None)
    assert rgb is None and 1.4 < seconds < 5


def test_no_terminal_no_query() -> None:
    """Output to a pipe (as under CI): nothing is asked, nothing is written."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert b"\x1b" not in child.stdout
    rgb, seconds = json.loads(child.stdout.split(b"RESULT ")[1])
    assert rgb is None and seconds < 0.5


# -- the app ----------------------------------------------------------------------------------


def test_an_unknown_theme_is_one_line_and_exit_2() -> None:
    child = subprocess.run(
        [sys.executable, "-m", "cnn_tui.tui.main", "--theme", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 2
    assert child.stderr.startswith("cnn-tui: error: --theme: no theme called 'nope'")
    assert len(child.stderr.strip().splitlines()) == 1 and "Traceback" not in child.stderr


async def test_the_app_opens_with_the_chosen_theme_and_remembers_a_pick(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = Path(tmp_path) / "cnn-tui" / "settings.json"
    app = CnnTuiApp(dataset=tiny_dataset())
    app.open_with_theme(LIGHT, remember=True, why="the terminal's light background")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.theme == LIGHT and not app.current_theme.dark
        await pilot.pause(0.3)
        log = " ".join(log_text(pilot).split())  # (wrapped at the log's width)
        assert "theme textual-light: the terminal's light background (ctrl+p" in log
        assert not settings.exists(), "the theme opened with is not a pick"
        app.theme = "nord"  # as the command palette's theme picker does
        await pilot.pause(0.1)
        assert saved_theme(settings) == "nord"
        app.theme = LIGHT
        await pilot.pause(0.1)
        assert saved_theme(settings) == LIGHT


async def test_tests_and_scripts_never_write_the_users_settings(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = CnnTuiApp(dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.theme = "nord"
        await pilot.pause(0.1)
    assert not (Path(tmp_path) / "cnn-tui").exists()
