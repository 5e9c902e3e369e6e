"""`cnn-tui attack`: the JSON object, exit 0 when fooled and 1 when the budget is too small,
one line for bad input; `cnn-tui fooled` on a CIFAR-10 image folder. Run in this process
through main() (no torch import per run)."""

from __future__ import annotations

import json
import re

from cnn_tui.core import paths
from cnn_tui.tui.main import main
from PIL import Image

WEIGHTS = paths.shipped_weights_dir()
KEYS = {"path", "target", "eps", "linf", "success", "out", "original", "adversarial"}


def test_attack_json_exit_codes_and_bad_input(shared_data, tmp_path, monkeypatch, capsys):
    image = shared_data / "cifar10-jpeg" / "test" / "airplane" / "0001.jpg"
    monkeypatch.chdir(tmp_path)
    assert main(["attack", str(image), "--target", "bird", "--json"]) == 0
    fooled = json.loads(capsys.readouterr().out)
    assert set(fooled) == KEYS and fooled["success"] and fooled["out"] == "0001-as-bird.png"
    assert fooled["original"]["class"] == "airplane" and fooled["adversarial"]["class"] == "bird"
    assert set(fooled["adversarial"]) == {"class", "probabilities"}
    assert 0 < fooled["linf"] <= fooled["eps"] == 8 / 255

    # no budget: not fooled, exit 1, the best attempt (here the image itself) still written
    assert main(["attack", str(image), "--target", "bird", "--eps", "0", "--json"]) == 1
    kept = json.loads(capsys.readouterr().out)
    assert not kept["success"] and kept["linf"] == 0 and kept["adversarial"]["class"] == "airplane"
    assert (tmp_path / "0001-as-bird.png").is_file()

    mine = tmp_path / "mine.png"
    Image.new("RGB", (4, 4)).save(mine)
    before = mine.read_bytes()
    for args, status, words in (
        ([str(image), "--target", "cat"], 2, "'cat' is not one of the model's classes"),
        ([str(tmp_path / "gone.jpg"), "--target", "bird"], 1, "gone.jpg: no such file"),
        ([str(image), "--target", "bird", "--out", str(mine)], 1, "exists already"),
    ):
        assert main(["attack", *args]) == status
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and err.startswith("cnn-tui: error: ") and words in err
    assert mine.read_bytes() == before  # a user's picture is never replaced


def test_fooled_lists_only_the_classes_the_model_does_not_know(tmp_path, make_image_folder, capsys):
    data = make_image_folder(tmp_path / "c10", ("airplane", "bird", "frog", "ship"), 1, 3)
    assert main(["fooled", "--data", str(data), "--min", "0", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found) == 6 and {f["true_class"] for f in found} == {"frog", "ship"}
    assert [f["probability"] for f in found] == sorted(
        (f["probability"] for f in found), reverse=True
    )
    assert main(["fooled", "--data", str(data), "--min", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "6 validation images of frog, ship: " in out and "read as airplane or bird" in out
    assert main(["fooled", "--min", "2"]) == 2
    assert "min must be a probability" in capsys.readouterr().err


def test_attack_models_ranks_the_shipped_models_smallest_first(
    shared_data, tmp_path, make_image_folder, monkeypatch, capsys
):
    shipped = tmp_path / "shipped"  # two of the seven, to keep the test cheap
    shipped.mkdir()
    for name in ("birds_vs_airplanes", "net-depth"):
        for suffix in (".pt", ".json"):
            (shipped / (name + suffix)).write_bytes((WEIGHTS / (name + suffix)).read_bytes())
    monkeypatch.setattr(paths, "shipped_weights_dir", lambda: shipped)
    data = make_image_folder(tmp_path / "c2", train=1, test=1)
    for name in ("airplane", "bird"):  # real pictures: they flip in a few small budgets
        [random] = (data / "test" / name).iterdir()
        random.write_bytes((shared_data / "cifar10-jpeg" / "test" / name / "0000.jpg").read_bytes())
    assert main(["attack", "--models", "--data", str(data), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["parameters"]) for r in rows] == [("net-depth", 16_130), ("net", 18_090)]
    assert all(r["images"] == 2 and 0 <= r["flipped_within_default_eps"] <= 1 for r in rows)
    assert set(rows[0]) == {
        "weights",
        "model",
        "parameters",
        "val_accuracy",
        "images",
        "median_eps",
        "flipped_within_default_eps",
    }
    assert main(["attack", "--models", "--data", str(data)]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^net-depth\s+16,130\s+0\.8910\s+(\d/255|>8/255)\s+\d+%$", table, re.M)
    assert "2 of 2 read from" in table  # measured once: the second time from the cache
    assert main(["attack", "--models", "--data", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == rows  # the cache gives the same figures
    for args, words in (
        (["--models", "x.png"], "it takes no IMAGE"),
        (["x.png"], "give IMAGE and --target CLASS (or --models)"),
        (["x.png", "--target", "bird", "--data", "d"], "--data goes with --models"),
    ):
        assert main(["attack", *args]) == 2
        assert words in capsys.readouterr().err
