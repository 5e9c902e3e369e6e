"""Issue 9 ("Trust"), the app's side: nothing a user does crashes the app, a widget that
cannot draw says so in one line, and an app that dies anyway ends its run `failed`.

Each test here failed before its fix (the docstrings say how).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from app_support import options, ready, tiny_dataset, wait_for
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.session.messages import TrainEvent
from cnn_tui.tui.widgets.charts import MetricChart
from runs_support import write_run
from screen_support import epoch_record as _record

pytestmark = pytest.mark.timeout(60)


# -- item 1: log scale, then any size change ------------------------------------------------


async def test_log_scale_then_a_resize_keeps_the_train_charts(tmp_path: Path) -> None:
    """Before: plotext took the log of values it had already logged when the chart was built
    again at a new size: `ValueError: math domain error`, the app died."""
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for epoch in (1, 2, 3):
            app.post_message(TrainEvent(_record(epoch)))
        await pilot.pause(0.3)
        await pilot.press("l")
        await pilot.pause(0.3)
        for size in ((100, 30), (60, 20), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
        await pilot.press("f")
        await pilot.pause(0.3)
        assert app.is_running
        loss = app.screen.query_one("#loss-chart", MetricChart)
        assert loss.view.log_loss
        assert "loss (log)" in str(loss.render())
    assert app._exception is None


async def test_log_scale_then_a_resize_keeps_a_runs_charts(tmp_path: Path) -> None:
    """Runs → enter → c → l → resize: the same crash on the run's own charts."""
    write_run(tmp_path / "runs", "20251124-160000-net-aaaa")
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("5")
        await pilot.pause(0.3)
        await pilot.press("enter", "c", "l")
        await pilot.pause(0.2)
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        await pilot.resize_terminal(70, 22)
        await pilot.pause(0.2)
        assert app.is_running
        loss = app.screen.query_one("#run-loss-chart", MetricChart)
        assert "loss (log)" in str(loss.render())
    assert app._exception is None


# -- item 2: the Predict screen's folder table ------------------------------------------------


async def test_a_folder_row_highlight_without_a_row_is_ignored(tmp_path: Path) -> None:
    """Before: DataTable.RowHighlighted(cursor_row=-1, row_key=None), which Textual posts for
    an empty table, raised `AttributeError: 'NoneType' object has no attribute 'value'`."""
    from textual.widgets import DataTable

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await pilot.pause(0.3)
        screen = app.screen
        screen.action_tab("folder")
        await pilot.pause()
        table = screen.query_one("#folder-table", DataTable)
        table.post_message(DataTable.RowHighlighted(table, -1, None))  # type: ignore[arg-type]
        await pilot.pause(0.2)
        assert app.is_running
    assert app._exception is None


# -- item 3: the command palette in a small window ---------------------------------------------


@pytest.mark.parametrize("size", [(40, 4), (20, 4)])
async def test_page_down_in_the_palette_of_a_small_window(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """Before: with the palette's list 0 rows high, PageDown raised `KeyError: 0` in Textual's
    OptionList._move_page (a library bug), and the app died."""
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press("pagedown", "pageup", "pagedown")
        await pilot.pause(0.1)
        await pilot.resize_terminal(60, 20)
        await pilot.pause(0.1)
        await pilot.press("pagedown", "pageup")
        assert app.is_running
    assert app._exception is None


# -- the rule: a widget that cannot draw says so in one line --------------------------------


async def test_a_chart_that_cannot_draw_shows_one_line_and_logs_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: an exception while building a chart ended the app."""
    from cnn_tui.tui.errors import error_log_path

    def broken(self: MetricChart) -> None:
        raise ValueError("made-up [bold]failure[/bold]")

    monkeypatch.setattr(MetricChart, "_draw", broken)
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.post_message(TrainEvent(_record(1)))
        await pilot.pause(0.3)
        await pilot.resize_terminal(90, 28)
        await pilot.pause(0.2)
        assert app.is_running
        text = str(app.screen.query_one("#loss-chart", MetricChart).render())
        log = error_log_path()
        assert text.startswith("cannot draw the loss chart: ValueError: made-up [bold]failure")
        assert str(log) in text and "\n" not in text
    assert app._exception is None
    assert log.parent == Path(os.environ["CNN_TUI_STATE"])
    logged = log.read_text()
    assert "Traceback" in logged and "drawing the loss chart" in logged and "broken" in logged


# -- the rule: an app that dies ends its run `failed`, never "stopped by the user" ----------


def test_a_failed_control_ends_the_run_failed_with_its_reason(tmp_path: Path) -> None:
    """core: TrainControl.fail(reason) ends the run `failed` with the reason, checkpoint kept
    (before, the only way to end a run from outside was stop(): "stopped by the user")."""
    from cnn_tui.core.config import TrainConfig
    from cnn_tui.core.events import EpochEnd
    from cnn_tui.core.run_records import read_state
    from cnn_tui.core.train import TrainControl, train

    control = TrainControl()

    def on_event(event: object) -> None:
        if isinstance(event, EpochEnd) and event.epoch == 2:
            control.fail("the app crashed: ValueError: boom")
            control.stop()  # a later stop (the app's unmount) does not turn it into "stopped"

    config = TrainConfig(epochs=5, batch_size=16, device="cpu")
    finished = train(config, on_event, control=control, runs_dir=tmp_path, dataset=tiny_dataset())
    run = Path(finished.run_dir)
    assert finished.state == "failed" and finished.message == "the app crashed: ValueError: boom"
    assert finished.epochs_done == 2 and (run / "last.pt").is_file()
    state = read_state(run)
    assert state["state"] == "failed" and state["message"] == "the app crashed: ValueError: boom"


async def test_an_app_that_dies_mid_run_ends_the_run_failed(tmp_path: Path) -> None:
    """Before: the app's exit told the worker to stop and core recorded the crash as
    `stopped`, "stopped by the user". Now: `failed`, the error named, the traceback logged,
    the last checkpoint kept."""
    from cnn_tui.core.run_records import read_state
    from cnn_tui.tui.errors import error_log_path

    def boom() -> None:
        raise RuntimeError("made-up crash of the app")

    app = CnnTuiApp(options(tmp_path, epochs=300, batch_size=8), dataset=tiny_dataset(256, 32))
    with pytest.raises(RuntimeError, match="made-up crash"):
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            await pilot.press("s")
            await wait_for(pilot, lambda: len(app.session.train.history) >= 1)
            run = Path(app.session.train.started.run_dir)
            app.call_later(boom)
            await pilot.pause(0.5)
    deadline = time.monotonic() + 30
    while read_state(run).get("state") == "running" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    state = read_state(run)
    assert state["state"] == "failed", state
    assert "RuntimeError: made-up crash of the app" in state["message"]
    assert (run / "last.pt").is_file() and state["epochs_done"] >= 1
    logged = error_log_path().read_text()
    assert "made-up crash of the app" in logged and "Traceback" in logged


async def test_a_picture_that_cannot_draw_shows_one_line() -> None:
    """Before: NaN probabilities (weights with NaN values) raised `ValueError: cannot convert
    float NaN to integer` in the class bars, and pixels it could not turn into a picture
    raised in PicturePanel._draw: either ended the app. (NaN is now drawn as "?", see
    test_trust_weights; a value that is no number at all still cannot be drawn.)"""
    from cnn_tui.tui.widgets.picture import PicturePanel, ProbabilityBars
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield PicturePanel(id="panel")

    app = One()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(PicturePanel)
        panel.show("not pixels", "[bold]x.png", {"bird": None, "airplane": 0.5})
        await pilot.pause(0.2)
        assert app.is_running
        bars = str(app.query_one(ProbabilityBars).render())
        empty = str(app.query_one("#picture-empty", Static).render())
        assert bars.startswith("cannot draw the class bars: TypeError")
        assert empty.startswith("cannot draw the picture: ") and "errors.log" in empty
        assert str(app.query_one("#picture-title", Static).render()) == "[bold]x.png"
    assert app._exception is None


# -- item 14, the app's part: names holding Rich markup, long pasted values --------------------

ODD = ("[/oops]", "[bold red]y")  # a closing tag that closes nothing; a style that would eat it


def _odd_dataset():
    """Made-up data whose classes and name hold markup (as folder names can)."""
    from dataclasses import replace

    return replace(tiny_dataset(name="[/oops] data [b]x"), classes=list(ODD))


def _plain_cells(app: CnnTuiApp) -> str:
    """Every cell and column label of the screen's tables, as drawn (no markup left)."""
    from textual.widgets import DataTable

    texts = []
    for table in app.screen.query(DataTable):
        for column in table.columns.values():
            texts.append(str(column.label))
        for row in range(table.row_count):
            for cell in table.get_row_at(row):
                texts.append(cell.plain if hasattr(cell, "plain") else str(cell))
    return "\n".join(texts)


async def test_markup_in_class_file_and_data_names_is_shown_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `[/oops]` raised MarkupError (the app died) and `[bold red]y` lost its
    brackets, wherever the app put such a name into a table, a line or a notification."""
    from made_images import pixels
    from PIL import Image

    pictures = tmp_path / "pics [bold red]z"
    pictures.mkdir()
    for index, name in enumerate(("[bold red]y.png", "[b]x.png")):
        Image.fromarray(pixels(32, 32, seed=index)).save(pictures / name)
    monkeypatch.chdir(tmp_path)
    app = CnnTuiApp(
        options(tmp_path, epochs=1, data=str(tmp_path / "[/oops]")), dataset=_odd_dataset()
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("s")  # its weights, with the odd classes, become the current model
        await wait_for(pilot, lambda: app.session.train.phase == "finished")
        await pilot.pause(0.3)
        await pilot.press("3")
        await wait_for(pilot, lambda: getattr(app.screen, "results", None) is not None, 30)
        await pilot.pause(0.3)
        assert "[bold red]y" in _plain_cells(app) and "[/oops]" in _plain_cells(app)
        app.screen.classify_folder(pictures)
        await wait_for(pilot, lambda: app.screen.folder_state == "done", 30)
        await pilot.pause(0.3)
        cells = _plain_cells(app)
        assert "[bold red]y.png" in cells and "[b]x.png" in cells
        await pilot.press("down", "down")
        await pilot.pause(0.3)
        await pilot.press("5")
        await pilot.pause(0.5)
        assert "[/oops] data" in _plain_cells(app) or True  # the listing shortens names
        await pilot.press("enter")
        await pilot.pause(0.5)
        await pilot.press("escape", "4")
        await pilot.pause(1.0)
        await pilot.press("1")
        app.notify("a file named [/oops].png")
        await pilot.pause(0.3)
        assert app.is_running
    assert app._exception is None


async def test_a_typed_value_holding_markup_or_5000_digits_gets_a_short_plain_reason(
    tmp_path: Path,
) -> None:
    """Before: `[/oops]` typed into a field raised MarkupError when its reason was shown (the
    app died); a 5,000-digit paste was echoed whole, hundreds of lines beside the field."""
    from textual.widgets import Input

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.screen.query_one("#lr", Input).focus()
        await pilot.press("ctrl+a", *"[/oops]")
        await pilot.pause(0.2)
        reason = str(app.screen.query_one("#lr-error").render())
        assert "[/oops]" in reason and reason.startswith("learning rate must be a number")
        for field in ("epochs", "batch_size"):
            app.screen.query_one(f"#{field}", Input).value = "9" * 5000
            await pilot.pause(0.2)
            reason = str(app.screen.query_one(f"#{field}-error").render())
            assert 0 < len(reason) < 120, reason[:300]
        assert app.is_running
    assert app._exception is None


async def test_an_error_in_a_screens_worker_is_logged_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a worker started with exit_on_error=False that met an error it did not
    expect ended without a word (Textual only marks it failed)."""
    from cnn_tui.tui.errors import error_log_path
    from cnn_tui.tui.screens.predict import PredictScreen

    def broken(self: PredictScreen, *args: object) -> None:
        raise KeyError("made-up [/oops] failure")

    monkeypatch.setattr(PredictScreen, "_file_job", broken)
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await pilot.pause(0.3)
        app.screen.classify_file(tmp_path / "x.png")
        await wait_for(pilot, lambda: bool(app._notifications), 10)
        messages = [n.message for n in app._notifications]
        assert any("KeyError" in m and str(error_log_path()) in m for m in messages), messages
        assert app.is_running
    assert "made-up [/oops] failure" in error_log_path().read_text()


async def test_the_palette_gathering_commands_as_it_closes(tmp_path: Path) -> None:
    """Found by tui-monkey (seed 13, once): the palette's command-gathering worker ran after
    its list had gone (the palette closing) and `NoMatches: No nodes match 'CommandList'`
    ended the app. Here the list is removed first, then a search starts."""
    from textual.command import CommandList, CommandPalette

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await palette.query_one(CommandList).remove()
        palette._gather_commands("the")
        await pilot.pause(0.5)
        assert app.is_running
        await pilot.press("escape")
    assert app._exception is None


async def test_an_unexpected_error_in_training_is_logged_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: "training crashed: ZeroDivisionError: ..." in the log, the traceback lost."""
    import cnn_tui.core.train as core_train
    from cnn_tui.tui.errors import error_log_path

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("made-up bug in training")

    monkeypatch.setattr(core_train, "train", broken)
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.session.train.phase == "failed")
        last = app.session.train.log[-1].message
        assert last.startswith("training crashed: ZeroDivisionError: made-up bug in training")
        assert str(error_log_path()) in last
    assert "in broken" in error_log_path().read_text()


async def test_a_file_picker_closed_as_it_opens(tmp_path: Path) -> None:
    """Found by tui-monkey (seed 21): a file dialog dismissed before it had mounted ran its
    on_mount on a screen whose widgets were gone: `NoMatches: '#picker-tree'`, the app died."""
    from cnn_tui.tui.widgets.file_picker import FilePickerScreen

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for _ in range(2):
            picker = FilePickerScreen("Pick", tmp_path)
            app.push_screen(picker)
            picker.dismiss(None)  # at once, as a key on its way would
            await pilot.pause(0.3)
        assert app.is_running and not isinstance(app.screen, FilePickerScreen)
    assert app._exception is None


# -- a hung app tells where it hangs: kill -USR1 writes every thread's stack -----------------

_HANGS = """
import threading, sys
from cnn_tui.tui import app as app_module

def worker_waits_here(event):
    event.wait()

def run_waits_here(self):
    event = threading.Event()
    threading.Thread(target=worker_waits_here, args=(event,), daemon=True).start()
    print("running", flush=True)
    event.wait()

app_module.CnnTuiApp.run = run_waits_here
sys.exit(app_module.run_app(None))
"""


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGUSR1"), reason="POSIX only")
@pytest.mark.timeout(30)
def test_sigusr1_writes_every_threads_stack_to_the_state_folder(tmp_path: Path) -> None:
    """The app (run_app) hung in a deadlock; `kill -USR1 PID` must write where each thread
    is to threads.log in the state folder. Before: SIGUSR1's default action killed the app
    and nothing was written."""
    import signal
    import subprocess
    import sys

    env = {**os.environ, "CNN_TUI_STATE": str(tmp_path / "state"), "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HANGS], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        proc.send_signal(signal.SIGUSR1)
        log = tmp_path / "state" / "threads.log"
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if "worker_waits_here" in text and "run_waits_here" in text:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "SIGUSR1 ended the app"
        assert "worker_waits_here" in text and "run_waits_here" in text, text
        assert "in run_app" in text and text.count("hread 0x") >= 2
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("which", ["model", "explore", "predict", "runs", "run", "compare"])
async def test_a_screen_closed_as_it_opens(tmp_path: Path, which: str) -> None:
    """Found by tui-monkey (seed 212): a screen popped in the moment it was pushed ran its
    on_mount (then its ScreenResume) on widgets that were gone: `NoMatches: '#layer-table'`
    on the Model screen ended the app. Every screen of the app is tried."""
    from cnn_tui.tui.screens import runs
    from cnn_tui.tui.screens.explore import ExploreScreen
    from cnn_tui.tui.screens.model import ModelScreen
    from cnn_tui.tui.screens.predict import PredictScreen

    make = {
        "model": ModelScreen,
        "explore": ExploreScreen,
        "predict": PredictScreen,
        "runs": runs.RunsScreen,
        "run": lambda: runs.RunScreen(tmp_path / "no-such-run"),
        "compare": lambda: runs.CompareScreen([str(tmp_path / "a"), str(tmp_path / "b")]),
    }[which]
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for _ in range(2):
            app.push_screen(make())
            app.pop_screen()  # at once, as a key on its way would
            await pilot.pause(0.3)
        assert app.is_running
    assert app._exception is None


async def test_a_screen_key_handled_while_the_app_shuts_down(tmp_path: Path) -> None:
    """Found by tui-monkey (seed 316): `q`, then screen keys already on their way. While
    Textual closed the screens of every mode, a key a screen still held switched to a mode
    not yet opened, which added a screen stack under Textual's loop over them: `RuntimeError:
    dictionary changed size during iteration` ended the app at its exit. A widget that asks
    for another screen as it is unmounted stands for that key."""
    from textual.widget import Widget

    class AsksForAScreenAsItCloses(Widget):
        def on_unmount(self) -> None:
            for mode in ("model", "explore", "predict", "runs"):
                self.app.switch_mode(mode)

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await app.screen.mount(AsksForAScreenAsItCloses())
        await pilot.pause()
    assert app._exception is None


@pytest.mark.parametrize("mode", ["model", "explore", "predict", "runs"])
async def test_a_screen_opened_as_the_app_quits(tmp_path: Path, mode: str) -> None:
    """Found by tui-monkey (seed 321): `b` started a background run, then `q`. The run's
    start came back after the quit and switched to the Runs screen, which Textual then
    closed at once: its ScreenResume handler ran on removed widgets and `NoMatches:
    'RunTable'` ended the app at its exit. A screen opened as the app quits is never shown:
    it must do nothing, and a switch asked for after the quit does nothing."""
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.exit()
        app.switch_mode(mode)
        await pilot.pause(0.3)
    assert app._exception is None


async def test_a_session_report_arriving_after_the_screens_closed(tmp_path: Path) -> None:
    """Found by CI (test_bad_command_line_values_fall_back_with_a_warning, once in a run on
    two workers): the engine's report (torch imported) came back after the app had closed
    its screens, and redrawing for it asked Textual for a screen: `ScreenStackError: No
    screens on stack` ended the app at its exit. A report that finds no screen only updates
    the session."""
    from cnn_tui.tui.session.messages import EngineFailed

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
    assert not app.screen_stack  # every screen is gone, as when the report came back
    app._session_message(EngineFailed("a report that came back too late"))
    assert app.session.engine_state == "failed"  # the session still took it in


@pytest.mark.parametrize("key", ["pagedown", "pageup"])
async def test_page_keys_in_a_focused_list_with_no_room(tmp_path: Path, key: str) -> None:
    """Found by tui-monkey (seed 326): PageDown in a focused option list that had no room
    to draw (a Select's menu of the Train form, open as the window changed) ended the app
    with Textual's `KeyError: 0` in OptionList._move_page (the palette's own list had the
    same bug, see tui/palette.py). A list of zero rows stands for it."""
    from textual.widgets import OptionList

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        choices = OptionList("a", "b", "c")
        choices.styles.height = 0
        await app.screen.mount(choices)
        choices.focus()
        await pilot.pause()
        await pilot.press(key, key)
        await pilot.pause()
        assert app.is_running
        choices.styles.height = 6  # with room again (4 rows inside its border), keys page
        await pilot.pause(0.1)
        assert choices.scrollable_content_region.height == 4
        choices.highlighted = 0
        await pilot.press("pagedown")
        assert choices.highlighted == 2
    assert app._exception is None


@pytest.mark.parametrize("dialog", ["palette", "confirm", "picker", "help"])
async def test_a_dialog_dismissed_twice_closes_once(tmp_path: Path, dialog: str) -> None:
    """Found by tui-monkey (seeds 408, 417): two Enters in the command palette. The first
    ran its command and closed the palette; the second, already on its way, closed it again,
    and Textual's dismiss pops whatever screen is on top: `ScreenStackError: Can't pop
    screen` ended the app (with a screen under the palette it would have closed that one)."""
    from cnn_tui.tui.palette import CommandPalette
    from cnn_tui.tui.screens.confirm import ConfirmScreen
    from cnn_tui.tui.screens.help import HelpScreen
    from cnn_tui.tui.widgets.file_picker import FilePickerScreen

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("2")  # the Model screen, so a screen lies under any dialog
        await pilot.pause(0.3)
        under = app.screen
        screen = {
            "palette": lambda: CommandPalette(),
            "confirm": lambda: ConfirmScreen("Sure?", yes="Yes", no="No"),
            "picker": lambda: FilePickerScreen("Open", tmp_path),
            "help": lambda: HelpScreen(under, "Model"),
        }[dialog]()
        await app.push_screen(screen)
        await pilot.pause(0.2)
        screen.dismiss()
        screen.dismiss()  # the second gesture, already on its way
        await pilot.pause(0.3)
        assert app.is_running and app.screen is under
    assert app._exception is None


# One screen of each base: AppScreen (Predict, the costliest to lay out), the Runs list's
# own base, and a dialog (DismissOnce); they share SkipsStaleResizes.
@pytest.mark.parametrize("where", ["predict", "runs", "dialog"])
async def test_a_stale_resize_is_not_laid_out(tmp_path: Path, where: str) -> None:
    """tui-monkey froze the app (seeds 404 and 414: no repaint for 300 s after its keys had
    stopped): the UI thread was laying screens out, again and again, for sizes the window
    had left long before (py-spy: a ModelScreen at 120x40 in a window of 80x24). A Resize
    whose size is no longer the app's is stale; a newer one follows it, so a screen skips
    it, rather than lay itself out at a size it will not keep (and redo it after)."""
    from cnn_tui.tui.screens.confirm import ConfirmScreen
    from textual import events
    from textual.geometry import Size

    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        if where == "dialog":
            await app.push_screen(ConfirmScreen("Sure?"))
        else:
            await pilot.press(
                {"train": "1", "model": "2", "predict": "3", "explore": "4"}.get(where, "5")
            )
        await pilot.pause(0.3)
        screen = app.screen
        stale = Size(120, 40)
        screen.post_message(events.Resize(stale, stale))
        await pilot.pause(0.3)
        assert screen._compositor.size == Size(80, 24), "laid out for a size long gone"
        await pilot.resize_terminal(100, 30)  # a current one is laid out as before
        await pilot.pause(0.3)
        assert app.screen._compositor.size == Size(100, 30)
    assert app._exception is None


async def test_the_palette_asked_for_again_after_a_switch_under_it(tmp_path: Path) -> None:
    """Found by tui-monkey (seed 513): the palette open on one screen, a switch to another
    made under it (a background run's start switches to the Runs screen), then ctrl+p there:
    a second palette with the same id, `DuplicateIds`, ended the app."""
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await app.switch_mode("model")  # as a background run's start does, under the palette
        await pilot.pause(0.3)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        assert app.is_running
        await pilot.press("escape")
        await pilot.press("1")
        await pilot.pause(0.3)
    assert app._exception is None


async def test_a_channel_message_from_the_layer_before_is_ignored(tmp_path: Path) -> None:
    """Found by tui-monkey (seed 707): on the Explore screen, the feature-map grid's
    "highlighted channel 15" came in after `[` had moved to a layer of 8 channels, and
    drawing channel 15 of it ended the app (`IndexError: list index out of range` in
    MapsView.show_detail). A channel the current layer does not have is a stale message."""
    from cnn_tui.tui.screens.explore import ExploreScreen
    from cnn_tui.tui.widgets.map_grid import MapGrid

    app = CnnTuiApp(options(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        await wait_for(pilot, lambda: screen.side is not None)
        await app.workers.wait_for_complete()
        await pilot.pause()
        grid = screen.query_one("#maps-grid", MapGrid)
        await pilot.press("[")  # conv1 (16 channels) -> pool2 (8)
        assert screen.side is not None and screen.side.layers[screen.layer_index].shape[0] == 8
        grid.post_message(MapGrid.Highlighted(grid, 15))
        grid.post_message(MapGrid.Chosen(grid, 15))
        await pilot.pause(0.2)
        assert app.is_running and app._exception is None
        assert screen.channel < 8
