"""The package finds its weights/, sample and .tcss files however it is installed.

A wheel is built from a copy of the working tree (so the checkout gets no build/ folder),
installed with `pip install --no-deps --target`, and run from another folder with only
that copy on PYTHONPATH; an editable wheel of the checkout itself is installed the same
way and must resolve every path into the checkout. About 10-20 s, so marked slow; it is
still part of the default run and of CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]
SOURCES = ("core", "tui", "weights")  # installed as cnn_tui.core, cnn_tui.tui, cnn_tui.weights
PACKAGED = {".py", ".tcss", ".npz", ".pt", ".json"}
TOP_FILES = ("pyproject.toml", "README.md", "LICENSE")


def _need_build_tools() -> None:
    # find_spec, not import: ruff would sort `import build` as first-party wherever
    # `pip install .` has left a build/ folder in the checkout.
    if importlib.util.find_spec("build") is None:
        pytest.skip("cannot build a wheel here: no `build` module (pip install '.[test]')")
    try:
        import setuptools
    except ImportError:
        pytest.skip("cannot build a wheel here: no setuptools (pip install '.[test]')")
    major = int(setuptools.__version__.split(".")[0])
    if major < 77:
        pytest.skip(f"setuptools {setuptools.__version__} is too old to build this project (>=77)")


def _source_files() -> list[Path]:
    """The files under core/, tui/ and weights/ that the wheel must carry."""
    return sorted(
        path.relative_to(CHECKOUT)
        for folder in SOURCES
        for path in (CHECKOUT / folder).rglob("*")
        if path.is_file() and path.suffix in PACKAGED and "__pycache__" not in path.parts
    )


def _build(kind: str, source: Path, outdir: Path) -> Path:
    from build import ProjectBuilder

    return Path(ProjectBuilder(source).build(kind, outdir))


def _pip_target(wheel: Path, target: Path) -> None:
    """Install a wheel into a plain folder; unlike --prefix this never touches our own env."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
        + ["--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run(args: list[str], cwd: Path, pythonpath: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args[:3]} failed ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


PROBE = """
import json, sys
from importlib.resources import files
import cnn_tui.core.paths as paths
tui = files("cnn_tui.tui")
print(json.dumps({
    "paths_module": paths.__file__,
    "weights_dir": str(paths.shipped_weights_dir()),
    "default_weights": str(paths.default_weights()),
    "weights_exists": paths.default_weights().exists(),
    "sample": str(files("cnn_tui.core.sample").joinpath("cifar2_sample.npz")),
    "sample_exists": files("cnn_tui.core.sample").joinpath("cifar2_sample.npz").is_file(),
    "tcss": sorted(p.name for p in tui.iterdir() if p.name.endswith(".tcss")),
}))
"""


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, site folder it is installed in), built from a copy of the working tree."""
    _need_build_tools()
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in TOP_FILES:
        if (CHECKOUT / name).exists():
            shutil.copy2(CHECKOUT / name, source / name)
    for folder in SOURCES:
        shutil.copytree(
            CHECKOUT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    wheel = _build("wheel", source, base / "dist")
    site = base / "site"
    _pip_target(wheel, site)
    return wheel, site


def test_wheel_carries_every_module_and_data_file(wheel_install):
    wheel, _ = wheel_install
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [str(path) for path in _source_files() if f"cnn_tui/{path.as_posix()}" not in names]
    assert not missing, f"not in the wheel (add the package to pyproject.toml): {missing}"
    assert "cnn_tui/core/sample/cifar2_sample.npz" in names
    assert any(name.startswith("cnn_tui/tui/") and name.endswith(".tcss") for name in names)
    assert any(name.endswith("/licenses/LICENSE") for name in names)
    assert not any("tests/" in name for name in names)


def test_installed_wheel_finds_its_own_files(wheel_install, tmp_path):
    _, site = wheel_install
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = json.loads(_run([sys.executable, "-c", PROBE], elsewhere, pythonpath=site))
    for key in ("paths_module", "weights_dir", "default_weights", "sample"):
        assert Path(found[key]).is_relative_to(site), f"{key} is not the wheel's: {found[key]}"
    assert Path(found["weights_dir"]) == site / "cnn_tui" / "weights"
    assert found["sample_exists"]
    assert found["tcss"] == sorted(p.name for p in (CHECKOUT / "tui").glob("*.tcss"))
    assert found["weights_exists"] == (CHECKOUT / "weights" / "birds_vs_airplanes.pt").exists()


def test_installed_wheels_console_script_runs_from_another_folder(wheel_install, tmp_path):
    _, site = wheel_install
    script = site / "bin" / "cnn-tui"
    assert script.is_file()
    out = _run([sys.executable, str(script), "summary", "--json"], tmp_path, pythonpath=site)
    summary = json.loads(out)
    assert summary["model"] == "net" and summary["total_params"] == 18_090
    assert summary["param_list"] == [432, 16, 1152, 8, 16384, 32, 64, 2]


def test_installed_wheels_shipped_weights_load(wheel_install, tmp_path):
    _, site = wheel_install
    if not (CHECKOUT / "weights" / "birds_vs_airplanes.pt").exists():
        pytest.skip("weights/birds_vs_airplanes.pt not trained yet")
    code = (
        "import json; from cnn_tui.core.paths import default_weights;"
        "from cnn_tui.core.weights import load_model;"
        "model, meta = load_model(default_weights());"
        "print(json.dumps({'path': meta['path'], 'model': meta['model']}))"
    )
    found = json.loads(_run([sys.executable, "-c", code], tmp_path, pythonpath=site))
    assert Path(found["path"]).is_relative_to(site) and found["model"] == "net"


def test_editable_install_resolves_into_the_checkout(tmp_path):
    _need_build_tools()
    wheel = _build("editable", CHECKOUT, tmp_path / "dist")
    site = tmp_path / "site"
    _pip_target(wheel, site)
    # -S: no site-packages, so nothing but this editable install can provide cnn_tui.
    probe = f"import site; site.addsitedir({str(site)!r})\n" + PROBE
    found = json.loads(_run([sys.executable, "-S", "-c", probe], tmp_path))
    assert Path(found["paths_module"]) == CHECKOUT / "core" / "paths.py"
    assert Path(found["weights_dir"]) == CHECKOUT / "weights"
    assert Path(found["sample"]) == CHECKOUT / "core" / "sample" / "cifar2_sample.npz"
    assert found["sample_exists"]


def test_this_install_finds_the_shipped_weights():
    """Whatever installed the package under test (editable here, a wheel in CI)."""
    from cnn_tui.core.paths import default_weights, shipped_weights_dir

    folder = shipped_weights_dir()
    assert folder.is_dir() and (folder / "__init__.py").is_file()
    assert default_weights().parent == folder
    shipped = {p.name for p in (CHECKOUT / "weights").glob("*.pt")}
    assert shipped <= {p.name for p in folder.glob("*.pt")}
