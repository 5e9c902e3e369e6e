"""The thread count a CPU run trains with is measured on its own batches (core/threads.py)."""

from __future__ import annotations

import pytest
from cnn_tui.core.threads import BLOCK, ThreadTuner


class Machine:
    """A fake CPU: a batch costs `cost[threads]` seconds of a fake clock."""

    def __init__(self, cost: dict[int, float]) -> None:
        self.cost, self.now, self.threads = cost, 0.0, 2
        self.set_calls: list[int] = []
        self.lines: list[str] = []

    def set_threads(self, n: int) -> None:
        self.threads = n
        self.set_calls.append(n)

    def tuner(self, steps: int = 100) -> ThreadTuner:
        return ThreadTuner((1, 2), self.set_threads, self.lines.append, steps, lambda: self.now)

    def epoch(self, tuner: ThreadTuner, steps: int) -> float:
        """Train one epoch of `steps` batches; returns its images per second (64 a batch)."""
        started = self.now
        for _ in range(steps):
            tuner.before_batch()
            self.now += self.cost[self.threads]
            tuner.after_batch()
        rate = steps * 64 / (self.now - started)
        tuner.epoch_done(rate)
        return rate


@pytest.mark.parametrize(
    ("two_threads", "chosen"),
    [
        (0.008, 2),  # an idle machine: the second core pays
        (0.0098, 1),  # 2% faster is not worth a second thread
        (0.014, 1),  # one core busy elsewhere: two threads wait on each other
    ],
)
def test_the_faster_count_is_kept_and_said(two_threads: float, chosen: int) -> None:
    machine = Machine({1: 0.010, 2: two_threads})
    tuner = machine.tuner()
    machine.epoch(tuner, 100)
    assert tuner.chosen == chosen and machine.threads == chosen and not tuner.measuring
    # a warm-up block, then three timed blocks of each count in the order 1 2 2 1 1 2
    assert machine.set_calls[:7] == [2, 1, 2, 2, 1, 1, 2]
    (line,) = machine.lines
    assert line.startswith(f"threads: {chosen} (ms a batch: 10.0 with 1, ")
    assert f"{two_threads * 1000:.1f} with 2; OMP_NUM_THREADS fixes it)" in line
    assert len(line) <= 80  # one line of a terminal


def test_a_count_far_slower_after_one_block_is_not_timed_again() -> None:
    """On a busy machine a batch at two threads takes four times one thread's: after a
    block of each, the choice is plain and the remaining rounds would only cost."""
    machine = Machine({1: 0.010, 2: 0.040})
    tuner = machine.tuner()
    machine.epoch(tuner, 100)
    assert tuner.chosen == 1 and machine.set_calls == [2, 1, 2, 1]


def test_a_block_cut_by_the_epochs_end_is_timed_again() -> None:
    """Blocks never span the validation between epochs: with 12 batches an epoch, the
    last 4 of each epoch start a block that the next epoch starts over."""
    machine = Machine({1: 0.010, 2: 0.008})
    tuner = machine.tuner(steps=12)
    epochs = 0
    while tuner.measuring:
        machine.epoch(tuner, 12)
        epochs += 1
    assert epochs == 7 and tuner.chosen == 2  # one whole block of 8 per epoch


def test_a_short_epoch_times_blocks_of_the_whole_epoch() -> None:
    machine = Machine({1: 0.010, 2: 0.005})
    tuner = machine.tuner(steps=3)  # the bundled sample's 8 batches, or fewer
    assert tuner.block == 3 < BLOCK
    for _ in range(7):
        machine.epoch(tuner, 3)
    assert tuner.chosen == 2


def test_a_machine_that_gets_busy_is_measured_again() -> None:
    machine = Machine({1: 0.010, 2: 0.006})
    tuner = machine.tuner()
    machine.epoch(tuner, 100)  # measures and picks 2 (a speed of mixed counts: no reference)
    machine.epoch(tuner, 100)  # the reference speed
    assert tuner.chosen == 2 and not tuner.measuring
    machine.cost[2] = 0.022  # something else takes a core
    machine.epoch(tuner, 100)
    assert not tuner.measuring  # one slow epoch may be noise
    machine.epoch(tuner, 100)
    assert tuner.measuring and "slower than before; measuring again" in machine.lines[-1]
    calls = len(machine.set_calls)
    machine.epoch(tuner, 100)
    assert tuner.chosen == 1 and machine.threads == 1
    assert machine.set_calls[calls] == 1  # no warm-up block this time: straight to timing


def test_one_epoch_off_is_noise_not_a_reason_to_measure() -> None:
    machine = Machine({1: 0.010, 2: 0.008})
    tuner = machine.tuner()
    for cost in (0.008, 0.008, 0.012, 0.008, 0.012, 0.008):  # every other epoch slow
        machine.cost[2] = cost
        machine.epoch(tuner, 100)
        assert not tuner.measuring
    assert len(machine.lines) == 1  # the one choice


def test_a_pause_is_no_batchs_time() -> None:
    machine = Machine({1: 0.010, 2: 0.006})
    tuner = machine.tuner()
    for _ in range(BLOCK + 3):  # the warm-up block, then 3 batches into a timed one
        tuner.before_batch()
        machine.now += machine.cost[machine.threads]
        tuner.after_batch()
    machine.now += 60.0  # paused for a minute
    tuner.restart_block()
    machine.epoch(tuner, 100)
    assert tuner.chosen == 2  # the minute did not make one thread look faster


def test_a_cli_training_picks_its_threads_and_gives_them_back(
    tiny_data, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """train(tune_threads=True), as `cnn-tui train` calls it, logs its choice and leaves
    torch's thread count as it found it; OMP_NUM_THREADS turns the measuring off."""
    import torch
    from cnn_tui.core.config import TrainConfig
    from cnn_tui.core.events import Log
    from cnn_tui.core.train import train

    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    torch.set_num_threads(2)
    try:
        config = TrainConfig(model="net", epochs=8, batch_size=16, data_dir=str(tiny_data))
        lines: list[str] = []

        def heard(event: object) -> None:
            if isinstance(event, Log):
                lines.append(event.message)

        train(config, heard, runs_dir=tmp_path / "runs", tune_threads=True)
        assert any(line.startswith("threads: ") for line in lines), lines
        assert torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        lines.clear()
        train(config, heard, runs_dir=tmp_path / "runs", tune_threads=True)
        assert not any(line.startswith("threads: ") for line in lines)
    finally:
        torch.set_num_threads(before)
