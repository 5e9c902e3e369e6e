"""Benchmarks of the app: first frame, training throughput, key latency, memory.

    python tests/bench/bench_app.py [--data ../shared/data/cifar10-jpeg] [--rounds 3]
        [--epochs 4] [--memory-epochs 100] [--skip first-frame,throughput,keys,memory]

Everything runs `cnn-tui` as a user would, in a pseudo-terminal (100x30), and reads what
it paints; nothing in the app is instrumented.

- first frame: from starting `cnn-tui` to the first painted frame (the Train screen's
  "loading engine..." status), to the form being painted, and to the engine being ready
  ("press s to start"), against
  `python -c "import torch"`, `python -c "pass"` and a two-widget Textual app (the floor
  any Textual app pays) on the same machine.
- throughput: the same config (`--epochs`, the `book` preset, batch 64, CIFAR-2 from
  --data) trained by `cnn-tui train` headless and by the app (key s), alternated in rounds
  so load from other processes hits both alike; images/s is read from each run's
  metrics.jsonl (the loop's own figure), the first epoch left out (warm-up).
- keys: while the app trains, the time from pressing 5 (then 1) to the other screen being
  painted (a full repaint's worth of output).
- memory: the app's resident set size at each epoch end of a `--memory-epochs` run on a
  small image folder (made from --data, else random images): growth past the first epochs.

A developer's tool, not a test: pytest does not collect it (no test_ prefix). Results for
this machine are in README.md ("The app").
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from fcntl import ioctl
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cifar10-jpeg"
VENV_BIN = Path(sys.executable).parent
CNN_TUI = str(VENV_BIN / "cnn-tui")
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(\x07|\x1b\\)|\x1b[=>()][0-9A-Za-z]?"
)


def _take_the_terminal() -> None:  # in the child: the pty becomes its controlling tty
    ioctl(0, termios.TIOCSCTTY, 0)


# What a terminal answers: its background colour (OSC 11; dark) and Device Attributes.
ANSWERS = {
    b"\x1b]11;?": b"\x1b]11;rgb:1e1e/1e1e/1e1e\x1b\\",
    b"\x1b[c": b"\x1b[?62;22c",
}


class Terminal:
    """A program in a pseudo-terminal that is its controlling terminal, as a shell's is;
    it answers the queries a real terminal answers. What it writes is kept, with when."""

    def __init__(self, argv: list[str], env: dict[str, str], size=(100, 30)) -> None:
        master, slave = pty.openpty()
        ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_the_terminal,
        )
        os.close(slave)
        self.master = master
        self.raw = bytearray()
        self.text = ""  # the output without escape sequences
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    if self.process.poll() is not None:
                        return
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            for query, answer in ANSWERS.items():
                if query in chunk:
                    os.write(self.master, answer)
            with self.lock:
                self.raw += chunk
                self.text += ANSI.sub(b"", chunk).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float, after: int = 0) -> float:
        """Seconds since start when needle appeared in the text past offset `after`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if needle in self.text[after:]:
                    return time.perf_counter() - self.started
            if self.process.poll() is not None:
                break
            time.sleep(0.002)
        raise TimeoutError(f"{needle!r} did not appear within {timeout}s")

    def mark(self) -> int:
        with self.lock:
            return len(self.text)

    def wait_for_repaint(self, after: int, size: int = 1500, timeout: float = 30) -> float:
        """Seconds since start when `size` characters of text came past offset `after`:
        a screen switch repaints the whole screen, whatever the screen shows."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if len(self.text) - after >= size:
                    return time.perf_counter() - self.started
            time.sleep(0.002)
        raise TimeoutError(f"no repaint within {timeout}s")

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()
        finally:
            os.close(self.master)


def app_env(runs: Path, cache: Path, data: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    env.update(CNN_TUI_RUNS=str(runs), CNN_TUI_CACHE=str(cache))
    env["XDG_CONFIG_HOME"] = str(cache / "config")  # no theme saved: the terminal is asked
    if data is not None:
        env["CNN_TUI_DATA"] = str(data)
    return env


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


HELLO = """
from textual.app import App
from textual.widgets import Footer, Static


class Hello(App):
    def compose(self):
        yield Static("hello, first frame")
        yield Footer()


Hello().run()
"""


def bench_first_frame(rounds: int, work: Path) -> dict:
    env = app_env(work / "runs", work / "cache", work / "empty-data")
    hello = work / "hello.py"
    hello.parent.mkdir(parents=True, exist_ok=True)
    hello.write_text(HELLO)
    frames, forms, readies, floor, asked = [], [], [], [], []
    for _ in range(rounds):
        term = Terminal([CNN_TUI], env)
        frames.append(term.wait_for("loading engine", 30))
        forms.append(term.wait_for("batch size", 30))
        readies.append(term.wait_for("press s to start", 60))
        asked.append(b"\x1b]11;?" in term.raw)
        term.send("q")
        term.close()
        term = Terminal([sys.executable, str(hello)], env)
        floor.append(term.wait_for("hello, first frame", 30))
        term.send("\x11")  # ctrl+q
        term.close()
    torch_import = [timed([sys.executable, "-c", "import torch"]) for _ in range(rounds)]
    bare = [timed([sys.executable, "-c", "pass"]) for _ in range(rounds)]
    return {
        "first_frame_s": statistics.median(frames),
        "form_and_charts_s": statistics.median(forms),
        "engine_ready_s": statistics.median(readies),
        "textual_hello_world_first_frame_s": statistics.median(floor),
        "python_import_torch_s": statistics.median(torch_import),
        "python_pass_s": statistics.median(bare),
        "asked_the_terminal_its_background": all(asked),
        "rounds": rounds,
    }


def latest_run(runs: Path) -> Path:
    return max(runs.iterdir(), key=lambda p: p.stat().st_mtime)


def rates(run_dir: Path) -> list[float]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["images_per_second"] for line in lines if line.strip()]


def run_headless(data: Path, epochs: int, runs: Path, cache: Path) -> list[float]:
    runs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [CNN_TUI, "train", "--preset", "book", "--epochs", str(epochs), "--batch-size", "64",
         "--data", str(data), "--runs", str(runs)],
        check=True, capture_output=True, env=app_env(runs, cache),
    )  # fmt: skip
    return rates(latest_run(runs))


def run_in_app(data: Path, epochs: int, runs: Path, cache: Path, keys: bool = False) -> dict:
    runs.mkdir(parents=True, exist_ok=True)
    term = Terminal(
        [CNN_TUI, "--preset", "book", "--epochs", str(epochs), "--batch-size", "64",
         "--data", str(data), "--runs", str(runs)],
        app_env(runs, cache),
    )  # fmt: skip
    term.wait_for("press s to start", 60)
    term.send("s")
    latencies = []
    deadline = time.perf_counter() + 3600
    while time.perf_counter() < deadline:
        done = [p for p in runs.iterdir() if (p / "state.json").exists()]
        if done:
            state = json.loads((done[-1] / "state.json").read_text() or "{}")
            if state.get("state") in ("finished", "stopped", "failed"):
                break
            if keys and (done[-1] / "metrics.jsonl").exists() and len(latencies) < 6:
                # switch screens mid-run: 2 then 1, timing each until it is painted
                for key in "51":  # to the Runs screen and back, timed until painted
                    mark, sent = term.mark(), time.perf_counter()
                    term.send(key)
                    latencies.append(term.wait_for_repaint(mark) + term.started - sent)
                    time.sleep(0.5)
        time.sleep(0.1)
    term.send("q")
    term.close()
    return {"rates": rates(latest_run(runs)), "key_latency_s": latencies}


def bench_throughput(data: Path, epochs: int, rounds: int, work: Path) -> dict:
    headless, app = [], []
    cache = work / "cache"
    for index in range(rounds):
        headless.append(rates_after_warmup(run_headless(data, epochs, work / f"h{index}", cache)))
        app.append(rates_after_warmup(run_in_app(data, epochs, work / f"a{index}", cache)["rates"]))
    # Key latency in a run of its own: switching screens costs the run some throughput.
    latencies = run_in_app(data, epochs, work / "keys", cache, keys=True)["key_latency_s"]
    median_headless = statistics.median(r for run in headless for r in run)
    median_app = statistics.median(r for run in app for r in run)
    return {
        "headless_images_per_s": median_headless,
        "app_images_per_s": median_app,
        "app_over_headless": median_app / median_headless,
        "per_round_headless": [round(statistics.median(run)) for run in headless],
        "per_round_app": [round(statistics.median(run)) for run in app],
        "key_latency_during_training_s": [round(x, 3) for x in sorted(latencies)],
        "epochs_each": epochs,
        "rounds": rounds,
    }


def rates_after_warmup(values: list[float]) -> list[float]:
    return values[1:] if len(values) > 1 else values


def small_folder(data: Path | None, root: Path, train: int = 256, val: int = 64) -> Path:
    """An image folder of a few hundred CIFAR-2 images (copied from data, else random)."""
    for split, count in (("train", train), ("test", val)):
        for name in ("airplane", "bird"):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            source = data / split / name if data else None
            if source and source.is_dir():
                for path in sorted(source.iterdir())[:count]:
                    shutil.copy(path, folder / path.name)
            else:
                import numpy as np
                from PIL import Image

                rng = np.random.default_rng(len(str(folder)))
                for i in range(count):
                    pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                    Image.fromarray(pixels).save(folder / f"{i:04d}.png")
    return root


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def follow_rss(pid: int, runs: Path, epochs: int) -> dict[int, int]:
    """RSS (KiB) of pid each time the run's metrics.jsonl gains an epoch line."""
    samples: dict[int, int] = {}
    while True:
        run = [p for p in runs.iterdir() if (p / "metrics.jsonl").exists()]
        if run:
            done = len((run[0] / "metrics.jsonl").read_text().splitlines())
            if done not in samples:
                samples[done] = rss_kib(pid)
            if done >= epochs:
                return samples
        time.sleep(0.02)


def growth(samples: dict[int, int]) -> dict:
    early = samples.get(10) or samples[min(samples)]
    return {
        "rss_mib_at_epoch_10": round(early / 1024, 1),
        "rss_mib_at_end": round(samples[max(samples)] / 1024, 1),
        "growth_mib_after_epoch_10": round((samples[max(samples)] - early) / 1024, 1),
    }


def bench_memory(data: Path | None, epochs: int, work: Path) -> dict:
    """The app against `cnn-tui train` on the same small run: what the app adds."""
    folder = small_folder(data, work / "small")
    args = ["--preset", "book", "--epochs", str(epochs), "--data", str(folder)]
    runs = work / "mem-app"
    runs.mkdir(parents=True, exist_ok=True)
    term = Terminal([CNN_TUI, *args, "--runs", str(runs)], app_env(runs, work / "cache"))
    term.wait_for("press s to start", 60)
    term.send("s")
    app = follow_rss(term.process.pid, runs, epochs)
    term.send("q")
    term.close()
    runs = work / "mem-headless"
    runs.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [CNN_TUI, "train", *args, "--runs", str(runs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=app_env(runs, work / "cache"),
    )
    headless = follow_rss(process.pid, runs, epochs)
    process.wait()
    return {"epochs": epochs, "app": growth(app), "headless": growth(headless)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--memory-epochs", type=int, default=100)
    parser.add_argument("--skip", default="", help="comma list: first-frame,throughput,memory")
    parser.add_argument(
        "--threads",
        type=int,
        help="OMP_NUM_THREADS for every program run (default: as in the environment; the "
        "app then keeps a core for its UI, `cnn-tui train` uses them all)",
    )
    args = parser.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    skip = set(filter(None, args.skip.split(",")))
    has_data = (args.data / "train").is_dir()
    results: dict = {
        "cpus": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_avg_at_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="cnn-tui-bench-app-") as tmp:
        work = Path(tmp)
        if "first-frame" not in skip:
            results["first_frame"] = bench_first_frame(args.rounds, work / "ff")
            print(json.dumps(results["first_frame"]), flush=True)
        if "throughput" not in skip:
            if has_data:
                results["throughput"] = bench_throughput(
                    args.data, args.epochs, args.rounds, work / "tp"
                )
                print(json.dumps(results["throughput"]), flush=True)
            else:
                print(f"throughput: skipped, no image folder at {args.data}", file=sys.stderr)
        if "memory" not in skip:
            results["memory"] = bench_memory(
                args.data if has_data else None, args.memory_epochs, work / "mem"
            )
            print(json.dumps(results["memory"]), flush=True)
    results["load_avg_at_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
