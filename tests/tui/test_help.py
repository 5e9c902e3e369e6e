"""The help screen (? and F1): the shown screen's keys first, then the global ones and the
screens; it closes with escape, q or ?, never opens over a dialog, and survives a tiny
terminal. Its 80x24 look is an SVG snapshot (update with `pytest tests/tui/test_help.py
--snapshot-update`, then look at the SVG in tests/tui/snapshots/ before committing it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import options, ready, tiny_dataset, wait_for
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.help import HelpScreen
from rich.console import Console
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot

# A key of each screen, as the help must list it (key, then its description).
SCREEN_KEYS = {
    "1": ("Train", "s", "Start"),
    "2": ("Model", "l", "Load"),
    "3": ("Predict", "v", "Valid"),
    "4": ("Explore", "k", "Kernels"),
    "5": ("Runs", "c", "Compare"),
}


def make_app(tmp_path: Path) -> CnnTuiApp:
    return CnnTuiApp(options(tmp_path, epochs=1), dataset=tiny_dataset(16, 16))


def help_lines(app: CnnTuiApp) -> list[str]:
    """The open help's text, one string per line, spaces squeezed."""
    assert isinstance(app.screen, HelpScreen)
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen.body)
    return [" ".join(line.split()) for line in console.export_text().splitlines()]


async def open_help(pilot: Pilot, key: str = "question_mark") -> list[str]:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    return help_lines(pilot.app)


@pytest.mark.parametrize("screen_key", SCREEN_KEYS)
async def test_question_mark_lists_the_screens_keys_first(tmp_path: Path, screen_key) -> None:
    title, key, description = SCREEN_KEYS[screen_key]
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await pilot.press(screen_key)
        await pilot.pause(0.2)
        lines = await open_help(pilot)
        assert lines[0] == f"Keys on the {title} screen"
        own = lines[: lines.index("Screens (keys everywhere)")]
        assert any(line.startswith(f"{key} {description}") for line in own), own
        rest = lines[len(own) :]
        assert f"{screen_key} {title}:" in " ".join(rest)
        assert any(line.startswith("q Quit") for line in rest)
        assert any(line.startswith("^p") for line in rest)  # the command palette
        assert any(line.startswith("? f1 Help") for line in rest)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.current_mode == title.lower()


async def test_f1_opens_it_and_q_or_question_mark_close_it(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await open_help(pilot, "f1")
        await pilot.press("question_mark")  # closes, and opens no second help
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await open_help(pilot)
        await pilot.press("q")  # closes the help; the app goes on
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.is_running


async def test_help_never_opens_over_a_dialog(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.push_screen(ConfirmScreen("Really?"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("question_mark", "f1")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ConfirmScreen)


async def test_the_palettes_keys_command_opens_the_help(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        keys = [c for c in app.get_system_commands(app.screen) if c.title == "Keys"]
        assert len(keys) == 1  # Textual's own Keys panel is gone
        await pilot.press("ctrl+p", *"Keys")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))


@pytest.mark.parametrize("size", [(40, 12), (20, 8)])
async def test_small_terminals_scroll_and_never_crash(tmp_path: Path, size) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        for _ in range(3):
            await pilot.press("question_mark", "end", "pagedown", "home", "question_mark")
        await open_help(pilot)
        body = app.screen.query_one("#help-body")
        assert body.max_scroll_y > 0  # more than fits: it scrolls
        await pilot.press("end")
        await pilot.pause(0.1)
        assert body.scroll_y > 0
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.is_running and app.current_mode == "train"


def test_help_at_80x24(tmp_path: Path, svg_snapshot) -> None:
    async def open_it(pilot: Pilot) -> None:
        await ready(pilot)
        app = pilot.app
        app.session.train.device = "cpu"  # the same frame on every machine
        app.session.train.version += 1
        app.clear_notifications()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause(0.2)

    svg = take_svg_screenshot(make_app(tmp_path), terminal_size=(80, 24), run_before=open_it)
    assert svg == svg_snapshot
