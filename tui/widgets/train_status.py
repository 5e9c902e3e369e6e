"""The status line and the within-epoch progress bar of the Train screen."""

from __future__ import annotations

from cnn_tui.core.layer_stats import MachineStats
from cnn_tui.tui.state import TrainState, format_duration
from cnn_tui.tui.widgets.layers_text import byte_size
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

PHASE_WORDS = {
    "idle": "ready",
    "starting": "loading data",
    "running": "training",
    "paused": "paused",
    "stopping": "stopping",
    "finished": "finished",
    "stopped": "stopped",
    "failed": "failed",
}


def status_text(state: TrainState, engine: str) -> str:
    """One line: what is happening, epoch k of N, best val accuracy and its epoch, time, device.

    engine: "loading", "ready" or "failed" (whether torch is imported yet).
    """
    if engine == "loading" and not state.active:
        return "loading engine... (torch is being imported)"
    if engine == "failed" and not state.active:
        return "the engine could not be loaded: training is off (see the log)"
    parts = [PHASE_WORDS.get(state.phase, state.phase)]
    sample = state.sample_sizes
    if sample is not None:  # for as long as the run (or the last one) is on the sample
        parts.append(f"sample {sample[0]}/{sample[1]}")
    epochs = state.epochs
    if state.phase == "idle":
        parts.append("press s to start")
    else:
        done = state.history[-1].epoch if state.history else 0
        if state.active and state.progress is not None:
            parts.append(f"epoch {state.progress.epoch} of {epochs}")
        elif state.started is not None or state.history:
            parts.append(f"{done} of {epochs} epochs")
        best = state.best
        if best is not None:
            parts.append(f"best val {best.val_accuracy:.3f} (epoch {best.epoch})")
        if state.started is not None:
            parts.append(f"elapsed {format_duration(state.elapsed)}")
    if state.device:
        parts.append(state.device)
    if state.active and state.machine is not None:  # live only: an ended run's would lie
        parts.append(machine_text(state.machine))
    return " · ".join(parts)


def machine_text(machine: MachineStats) -> str:
    """The trainer process beside the model, short: "190% cpu, 412M mem, 14 threads" (and
    'gpu 45% 1.2G' on a GPU); cpu % is of one core, as top shows it."""
    memory = byte_size(machine.rss_bytes)
    text = f"{machine.cpu_percent:.0f}% cpu, {memory} mem, {machine.threads} threads"
    if machine.gpu_percent is not None:
        text += f", gpu {machine.gpu_percent:.0f}%"
        if machine.gpu_memory_bytes is not None:
            text += f" {byte_size(machine.gpu_memory_bytes)}"
    return text


def rate_text(state: TrainState) -> str:
    progress = state.progress
    if progress is None or not state.active:
        return ""
    left = format_duration(progress.eta_seconds)
    run_left = format_duration(state.run_seconds_left)
    return f"{progress.images_per_second:,.0f} img/s · {left} left · run {run_left}"


class TrainStatus(Vertical):
    """Status line above a progress bar for the batches of the current epoch."""

    DEFAULT_CSS = """
    TrainStatus {
        height: auto;
    }
    TrainStatus #status-line {
        height: auto;
        max-height: 2;
    }
    TrainStatus #progress-row {
        height: 1;
    }
    TrainStatus #epoch-progress {
        width: 1fr;
    }
    TrainStatus #epoch-progress > Bar {
        width: 1fr;
    }
    TrainStatus #rate {
        width: auto;
        height: 1;
        padding-left: 1;
        text-wrap: nowrap;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = ("", "")

    def compose(self) -> ComposeResult:
        yield Static("", id="status-line")
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=1, show_eta=False, id="epoch-progress")
            yield Static("", id="rate")

    def show(self, state: TrainState, engine: str) -> None:
        """Update what changed. A layout of the whole screen is asked for only when the
        status line may change its number of lines: Static.update would otherwise lay the
        screen out four times a second while training, on the UI thread's (and the
        interpreter's) time."""
        status = self.query_one("#status-line", Static)
        text = status_text(state, engine)
        if text != self._shown[0]:
            width = max(1, status.content_region.width or 1)
            lines = -(-len(text) // width)
            status.update(Text(text), layout=lines != -(-len(self._shown[0]) // width))
        rate = rate_text(state)
        if rate != self._shown[1]:  # (its width follows its length: rarely a layout)
            layout = len(rate) != len(self._shown[1])
            self.query_one("#rate", Static).update(rate, layout=layout)
        self._shown = (text, rate)
        bar = self.query_one("#epoch-progress", ProgressBar)
        progress = state.progress
        if progress is not None and state.active:
            bar.update(total=progress.batches, progress=progress.batch)
        elif state.phase in ("finished", "stopped", "failed") and state.history:
            bar.update(total=1, progress=1 if state.phase == "finished" else 0)
        else:  # idle, or loading data: an empty bar (an indeterminate one animates forever)
            bar.update(total=1, progress=0)
