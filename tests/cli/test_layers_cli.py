"""`cnn-tui layers` (issue 12 part 4), in process on a run trained in process: --json gives
the per-epoch records as metrics.jsonl holds them, the table keeps to 80 columns with a
row per layer, and a run without layer figures says so in one line, exit 1."""

from __future__ import annotations

import json

from cnn_tui.core.layer_stats import MachineStats
from cnn_tui.core.run_records import read_metrics
from cnn_tui.tui.cli.layers import machine_words, sparkline
from cnn_tui.tui.main import main
from runs_support import train_run, write_run


def test_layers_json_the_table_and_an_older_run(tmp_path, capsys, monkeypatch):
    runs = tmp_path / "runs"
    run = train_run(runs, 3)
    assert main(["layers", str(run), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records == [
        {"epoch": line["epoch"], "layers": line["layers"], "machine": line["machine"]}
        for line in lines
    ]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert set(records[0]["layers"]["conv1"]) == {"weight_norm", "grad_norm", "update_ratio"}
    assert records[0]["layers"]["act1"].keys() == {"saturated", "activation"}
    assert records[0]["layers"]["act1"]["activation"] == "tanh"

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["layers", run.name, "--runs", str(runs)]) == 0  # a run by its folder's name
    text = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in text) <= 80, text
    last = read_metrics(run).epochs[-1].layers
    assert last is not None
    row = next(line for line in text if line.startswith("conv1 "))
    assert f"{last['conv1'].weight_norm:.3g}" in row and f"{last['conv1'].grad_norm:.3g}" in row
    assert any(line.startswith("act3 ") and "%" in line for line in text)
    for name in ("conv2", "fc1", "fc2", "act1", "act2"):
        assert sum(line.startswith(f"{name} ") for line in text) == 1, name
    assert any(line.startswith("machine at epoch 3: CPU ") for line in text)

    older = write_run(runs, "older", done=2)  # as a run trained before the figures
    assert main(["layers", str(older)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "cnn-tui: error: run older has no layer figures (an older run)\n"


def test_sparklines_and_flags():
    assert sparkline([1.0, 2.0, 3.0], 10) == "▁▅█"
    assert sparkline([2.0, 2.0], 10) == "▄▄" and sparkline([0.0, 0.0], 10) == "▁▁"
    assert sparkline([None, 1.0, 0.0], 10) == " █▁"
    assert sparkline([float(n) for n in range(100)], 4) == "▁▃▆█"  # runs of 25, averaged
    assert sparkline([0.001, 0.002, 0.5, 1.0], 10, (0.0, 1.0)) == "▁▁▅█"  # a share: 0-100%
    on_a_gpu = machine_words(MachineStats(180.0, 3 << 30, 12, 87.0, 5 << 30))
    assert on_a_gpu == [
        "CPU 180% (of one core), 3,072 MiB resident, 12 threads",
        "GPU 87%, 5.0 GiB of GPU memory held by torch",
    ]
