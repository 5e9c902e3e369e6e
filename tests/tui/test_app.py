"""The app as a whole: torch loaded late, screen keys, the command palette, quitting."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from app_support import options, ready, static_text, tiny_dataset, wait_for
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.confirm import ConfirmScreen
from cnn_tui.tui.screens.train import TrainScreen


def test_importing_the_app_does_not_import_torch() -> None:
    code = "import sys, cnn_tui.tui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_first_frame_paints_before_torch_is_imported(tmp_path: Path) -> None:
    """With the engine held back, the Train screen is up and says the engine is loading."""
    script = tmp_path / "first_frame.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys, threading
            import cnn_tui.tui.app as appmod
            import cnn_tui.tui.session.engine as enginemod

            gate = threading.Event()
            real = enginemod.load_engine

            def held(weights):
                gate.wait(30)
                return real(weights)

            enginemod.load_engine = held

            async def main():
                app = appmod.CnnTuiApp()
                async with app.run_test(size=(80, 24)) as pilot:
                    await pilot.pause()
                    status = str(app.screen.query_one("#status-line").render())
                    print("FIRST", "torch" in sys.modules, status)
                    while not app.screen.built:
                        await pilot.pause(0.05)
                    await pilot.press("s")
                    print("REFUSED", app.session.train.phase, len(app._notifications))
                    gate.set()
                    while app.session.engine_state == "loading":
                        await pilot.pause(0.05)
                    print("READY", app.session.engine_state, "torch" in sys.modules)

            asyncio.run(main())
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert lines["FIRST"].startswith("False loading engine")
    assert lines["REFUSED"] == "idle 1"  # s was refused with a notice, nothing started
    assert lines["READY"] == "ready True"


async def test_screen_keys_switch_screens(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key, mode in (("2", "model"), ("3", "predict"), ("4", "explore")):
            await pilot.press(key)
            assert app.current_mode == mode
            assert not isinstance(app.screen, TrainScreen)
        await pilot.press("5")
        assert app.current_mode == "runs"
        await pilot.press("1")
        assert isinstance(app.screen, TrainScreen)


async def test_keys_typed_in_a_text_field_stay_there(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.screen.query_one("#epochs").focus()
        await pilot.press("1", "2", "s", "q")
        assert app.screen.query_one("#epochs").value == "12sq"
        assert app.current_mode == "train" and app.session.train.phase == "idle" and app.is_running
        await pilot.press("escape", "2")  # escape leaves the field; keys work again
        assert app.current_mode == "model"


async def test_command_palette_lists_and_runs_the_actions(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=1), dataset=tiny_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Screen: Train", "Screen: Runs", "Train: start", "Chart: smoothing"):
            assert title in titles
        assert "Train: pause" not in titles  # nothing to pause yet
        await pilot.press("ctrl+p")
        await pilot.press(*"Train: start")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.train.phase == "finished")


async def test_q_quits_at_once_when_not_training(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("q")
        await asyncio.wait_for(_until_exited(app), 5)
    assert app.return_code == 0


async def _until_exited(app: CnnTuiApp) -> None:
    while app.is_running:
        await asyncio.sleep(0.02)


async def test_quit_while_training_asks_then_saves_and_exits(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=500), dataset=tiny_dataset(512, 64))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.session.train.history) >= 1)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep training
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.is_running and app.session.train.active
        await pilot.press("q")
        await pilot.press("y")
        await asyncio.wait_for(_until_exited(app), 30)
    assert app.session.train.phase == "stopped"
    run_dir = Path(app.session.train.finished.run_dir)
    assert run_dir.parent == tmp_path / "runs"
    state = json.loads((run_dir / "state.json").read_text())
    assert state["state"] == "stopped"
    assert (run_dir / "last.pt").is_file() and (run_dir / "weights.pt").is_file()
    assert state["epochs_done"] == len(app.session.train.history) < 500


async def test_a_bad_data_folder_is_refused_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "not-data"
    bad.mkdir()
    (bad / "notes.txt").write_text("hello")
    app = CnnTuiApp(options(tmp_path, data=str(bad), epochs=1))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert "has no CIFAR-10 layout" in static_text(pilot, "#source").replace("\n", " ")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.session.train.phase == "failed")
        last = app.session.train.log[-1]
        assert last.level == "error" and "holds neither" in last.message
        assert "Traceback" not in last.message
        assert app.is_running


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ({"model": "nope"}, "unknown model 'nope'"),
        ({"preset": "slow"}, "unknown preset 'slow'"),
    ],
)
async def test_bad_command_line_values_fall_back_with_a_warning(tmp_path, given, shown) -> None:
    app = CnnTuiApp(options(tmp_path, **given), dataset=tiny_dataset())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert any(
            shown in line.message and line.level == "warning" for line in app.session.train.log
        )


async def test_weights_of_a_finished_run_become_the_current_model(tmp_path: Path) -> None:
    app = CnnTuiApp(options(tmp_path, epochs=2, weights=str(tmp_path / "missing.pt")))
    app.session.dataset = tiny_dataset()
    heard = []
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.session.current_model is None
        assert any("missing.pt: no such file" in line.message for line in app.session.train.log)
        app.session.current_model_changed.subscribe(app.screen, heard.append)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.session.train.phase == "finished")
        await pilot.pause()
    current = app.session.current_model
    assert current is not None and current.origin == "run"
    assert current.path == Path(app.session.train.finished.weights) and current.path.is_file()
    assert current.meta["model"] == "net" and current.meta["epochs"] == 2
    assert heard == [current]


def test_run_app_opens_and_quits_cleanly(tmp_path: Path) -> None:
    """The console script's entry: with a terminal it opens; here, headless, it must quit."""
    code = textwrap.dedent(
        """
        import argparse, asyncio
        import cnn_tui.tui.app as appmod

        async def run():
            app = appmod.CnnTuiApp(argparse.Namespace(model="net-width", epochs=3))
            async with app.run_test() as pilot:
                assert app.session.initial_config.model == "net-width"
                assert app.session.initial_config.epochs == 3
                await pilot.press("q")
            print("EXIT", app.return_code)

        asyncio.run(run())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "EXIT 0" in out.stdout


def test_training_thread_is_stopped_when_the_app_goes(tmp_path: Path) -> None:
    """However the app ends, a run still going is told to stop (so the process can exit)."""
    app = CnnTuiApp(options(tmp_path, epochs=1000), dataset=tiny_dataset(256, 32))
    done = threading.Event()

    async def run() -> None:
        async with app.run_test() as pilot:
            await ready(pilot)
            await pilot.press("s")
            await wait_for(pilot, lambda: app.session.train.phase == "running")
            app.exit()  # not through q: no question, no waiting
        done.set()

    asyncio.run(run())
    assert done.is_set()
    assert app.session.train.control is None or app.session.train.control.stopped
