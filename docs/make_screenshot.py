"""Make docs/screenshot.svg, the README's picture of the app, with Textual's own screenshot.

The Train screen as a newcomer first sees it work: a real short run of the book's `net` (the
`fast` preset) on the bundled sample (the data every fresh install has), drawn at 120x34 in
the dark theme.
Run from the checkout after any change to what the Train screen shows:

    .venv/bin/python docs/make_screenshot.py            # writes docs/screenshot.svg
    .venv/bin/python docs/make_screenshot.py --size 80x24 --out /tmp/shot.svg

Runs, weights and the decode cache go to a temporary folder: nothing of the user's is read
or written.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


async def shoot(out: Path, width: int, height: int, epochs: int) -> None:
    from cnn_tui.core.data import load_sample
    from cnn_tui.tui.app import CnnTuiApp
    from cnn_tui.tui.state import AppOptions

    app = CnnTuiApp(
        AppOptions(preset="fast", epochs=epochs, runs="runs", theme="textual-dark"),
        dataset=load_sample("cifar2"),
    )
    async with app.run_test(size=(width, height)) as pilot:
        await until(pilot, lambda: app.session.engine_state == "ready", 60)
        await until(pilot, lambda: getattr(app.screen, "built", False), 30)
        await pilot.press("s")
        await until(pilot, lambda: app.session.train.active, 30)
        await until(pilot, lambda: not app.session.train.active, 600)
        app.clear_notifications()
        await pilot.pause(0.5)
        out.write_text(app.export_screenshot(title="cnn-tui"), encoding="utf-8")


async def until(pilot, condition, timeout: float) -> None:
    """Let the app run until condition() holds; give up with a clear line after timeout s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"make_screenshot: gave up after {timeout:.0f} s waiting for the app")
        await pilot.pause(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "screenshot.svg")
    parser.add_argument("--size", default="120x34", help="WIDTHxHEIGHT (default 120x34)")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="cnn-tui-shot-") as scratch:
        for name in ("DATA", "CACHE", "STATE"):
            os.environ[f"CNN_TUI_{name}"] = str(Path(scratch) / name.lower())
        os.environ["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")
        out = args.out.resolve()
        os.chdir(scratch)  # runs go to ./runs there, named short in the log
        asyncio.run(shoot(out, width, height, args.epochs))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
