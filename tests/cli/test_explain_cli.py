"""`cnn-tui predict IMAGE --explain OUT.png`: the JSON gains "explain", the PNG is 8-bit RGB
256x256 and may be replaced by the next run, a file cnn-tui did not write never is; more
than one image is refused in one line. Run in this process through main()."""

from __future__ import annotations

import json

import numpy as np
from cnn_tui.tui.main import main
from PIL import Image


def test_predict_explain_writes_an_enlarged_png_and_never_replaces_a_foreign_file(tmp_path, capsys):
    image = tmp_path / "noise.png"
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(image)
    out = tmp_path / "seen.png"
    for _ in range(2):  # the second run replaces the first's file
        assert main(["predict", str(image), "--explain", str(out), "--json"]) == 0
        [answer] = json.loads(capsys.readouterr().out)
        assert set(answer) == {"path", "class", "probabilities", "explain"}
        assert answer["explain"] == str(out)
        with Image.open(out) as written:
            assert (written.format, written.mode, written.size) == ("PNG", "RGB", (256, 256))
    assert main(["predict", str(image), "--explain", str(out), "--explain-class", "Bird"]) == 0
    assert f"wrote {out}: Grad-CAM on conv2 for bird" in capsys.readouterr().out

    before = image.read_bytes()
    for args, status, words in (
        ([str(image), "--explain", str(image)], 1, "exists already (not written by cnn-tui)"),
        ([str(image), str(image), "--explain", str(out)], 2, "give one IMAGE, not 2 images"),
        ([str(image), "--explain-class", "bird"], 2, "--explain-class goes with --explain"),
    ):
        assert main(["predict", *args]) == status
        stdout, err = capsys.readouterr()
        assert stdout == "" and err.count("\n") == 1 and words in err
    assert image.read_bytes() == before  # a user's picture is never replaced
