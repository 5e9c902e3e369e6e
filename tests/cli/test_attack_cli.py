"""`cnn-tui attack`: the JSON object, exit 0 when fooled and 1 when the budget is too small,
one line for bad input; `cnn-tui fooled` on a CIFAR-10 image folder. Run in this process
through main() (no torch import per run)."""

from __future__ import annotations

import json

from cnn_tui.tui.main import main
from PIL import Image

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
