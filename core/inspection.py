"""The chapter's networks measured, as plain data (the Model screen shows them).

- `layer_table`: a model's layers (from core/summary.py, measured by torchinfo) with each
  layer's share of all parameters, and the totals beneath.
- `compare_models`: every model side by side: parameters, mult-adds, and the train and val
  accuracy of the best trained weights found (shipped weights, run folders), next to the
  book's own figures.
- `shape_lesson`: why `net` needs its flatten step, shown by running the book's
  `nn.Sequential` without it and catching the error torch raises.

Nothing here imports Textual; torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .architecture import BOOK_NET, Architecture
from .registry import MODELS

if TYPE_CHECKING:
    from torch import nn

BOOK_ARCHITECTURE = BOOK_NET.to_dict()  # what a sidecar of the book's own Net records
# The book's results on the original CIFAR-2 (train, val), from the chapter's closing chart.
BOOK_ACCURACY: dict[str, tuple[float, float]] = {
    "net": (0.93, 0.89),
    "net-width": (0.96, 0.90),
    "net-dropout": (0.89, 0.88),
    "net-batchnorm": (1.00, 0.89),
    "net-depth": (0.95, 0.90),
    "net-res": (0.97, 0.90),
    "fc-small": (0.998, 0.82),
    "fc-large": (1.00, 0.80),
}


# ---------------------------------------------------------------------------------------
# The layer table


@dataclass(frozen=True)
class LayerRow:
    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    share: float  # this layer's parameters / all parameters (0 for a model without any)
    kernel_size: tuple[int, ...] | None
    mult_adds: int
    trainable: bool


@dataclass(frozen=True)
class LayerTable:
    model: str
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    param_list: list[int]  # the book's `[p.numel() for p in model.parameters()]`
    input_shape: tuple[int, ...] = (1, 3, 32, 32)

    @property
    def list_form(self) -> str:
        """The book's cell output: `18090, [432, 16, 1152, 8, 16384, 32, 64, 2]`."""
        return f"{self.total_params}, [{', '.join(str(n) for n in self.param_list)}]"


def layer_table_from_summary(summary: dict[str, Any]) -> LayerTable:
    """Turn core.summary's object into rows with shares and totals."""
    total = int(summary["total_params"])
    rows = [
        LayerRow(
            name=layer["name"],
            type=layer["type"],
            output_shape=tuple(layer["output_shape"]),
            params=int(layer["params"]),
            share=(layer["params"] / total) if total else 0.0,
            kernel_size=tuple(layer["kernel_size"]) if layer.get("kernel_size") else None,
            mult_adds=int(layer["mult_adds"]),
            trainable=bool(layer["trainable"]),
        )
        for layer in summary["layers"]
    ]
    return LayerTable(
        model=summary["model"],
        rows=rows,
        total_params=total,
        trainable_params=sum(r.params for r in rows if r.trainable),
        total_mult_adds=sum(r.mult_adds for r in rows),
        param_list=list(summary["param_list"]),
    )


def layer_table(
    model_name: str,
    num_classes: int = 2,
    n_blocks: int = 10,
    model: nn.Module | None = None,
    architecture: Architecture | None = None,
) -> LayerTable:
    """The table for a fresh model of this name (for net, of this architecture; None: the
    book's), or for a built (e.g. loaded) model.

    Raises ValueError for an unknown model name.
    """
    from .summary import summarize, summarize_model

    if model is not None:
        return layer_table_from_summary(summarize_model(model, model_name))
    return layer_table_from_summary(summarize(model_name, num_classes, n_blocks, architecture))


def format_kernel_size(kernel: tuple[int, ...] | None) -> str:
    return "x".join(str(k) for k in kernel) if kernel else "-"


def format_shape(shape: tuple[int, ...] | list[int] | None) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")" if shape else "-"


def format_count(n: int | float | None) -> str:
    """1,234 below a million, 1.57M above: short enough for an 80-column table."""
    if n is None:
        return "-"
    if abs(n) >= 10_000_000:
        return f"{n / 1_000_000:.1f}M"
    if abs(n) >= 1_000_000:
        return f"{n / 1_000_000:.2f}M"
    return f"{int(n):,}"


# ---------------------------------------------------------------------------------------
# All models side by side


@dataclass(frozen=True)
class TrainedWeights:
    """A weights file with a sidecar that says how well it scored."""

    path: Path
    model: str
    num_classes: int
    train_accuracy: float | None
    val_accuracy: float | None
    origin: str  # "shipped" or "run"
    trained_on: str = ""  # "trained on the 500-image sample", or "" (see weights.trained_on)

    @property
    def label(self) -> str:
        if self.origin == "shipped":
            return f"shipped {self.path.name}"
        return f"run {self.path.parent.name}"


@dataclass(frozen=True)
class ModelComparison:
    model: str
    description: str
    params: int
    mult_adds: int
    best: TrainedWeights | None  # the trained weights with the best val accuracy
    book: tuple[float, float] | None  # the book's (train, val) accuracy
    others: list[TrainedWeights] = field(default_factory=list)  # every other one found


def _accuracy(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


def read_trained(sidecar: Path, weights: Path, origin: str) -> TrainedWeights | None:
    """The sidecar's model and accuracies, or None for a missing or unreadable one (also
    one that is not a regular file: a named pipe there is never opened to wait)."""
    from .weights import read_small_json, trained_on

    meta = read_small_json(sidecar)
    if not isinstance(meta, dict) or meta.get("model") not in MODELS or not weights.is_file():
        return None
    if meta.get("architecture", BOOK_ARCHITECTURE) != BOOK_ARCHITECTURE:
        return None  # a net of another kernel or width: not the model its row describes
    classes = meta.get("classes")
    num_classes = meta.get("num_classes")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool):
        num_classes = len(classes) if isinstance(classes, list) else 2
    return TrainedWeights(
        path=weights,
        model=meta["model"],
        num_classes=num_classes,
        train_accuracy=_accuracy(meta.get("train_accuracy")),
        val_accuracy=_accuracy(meta.get("val_accuracy")),
        origin=origin,
        trained_on=trained_on(meta),
    )


def find_trained_weights(
    runs_dir: str | Path | None = None, weights_dir: str | Path | None = None
) -> list[TrainedWeights]:
    """Shipped weights (weights/*.pt with their .json) and every run's weights.pt + .json."""
    from .paths import default_runs_dir, shipped_weights_dir
    from .run_files import WEIGHTS
    from .weights import sidecar_path

    found: list[TrainedWeights] = []
    shipped = Path(weights_dir) if weights_dir is not None else shipped_weights_dir()
    try:
        files = sorted(shipped.glob("*.pt"))
    except OSError:
        files = []
    for weights in files:
        item = read_trained(sidecar_path(weights), weights, "shipped")
        if item is not None:
            found.append(item)
    runs = Path(runs_dir).expanduser() if runs_dir is not None else default_runs_dir()
    try:
        run_dirs = sorted(p for p in runs.iterdir() if p.is_dir())
    except OSError:
        run_dirs = []
    for run in run_dirs:
        weights = run / WEIGHTS
        item = read_trained(sidecar_path(weights), weights, "run")
        if item is not None:
            found.append(item)
    return found


def compare_models(
    num_classes: int = 2,
    n_blocks: int = 10,
    runs_dir: str | Path | None = None,
    weights_dir: str | Path | None = None,
) -> list[ModelComparison]:
    """Every model of the registry, in its order, with sizes and the best scores found.

    Only weights for the same number of classes count (a 10-class run is not compared
    with 2-class ones). Mult-adds are for one (1, 3, 32, 32) image.
    """
    from .summary import summarize

    trained = [
        t for t in find_trained_weights(runs_dir, weights_dir) if t.num_classes == num_classes
    ]
    rows = []
    for name, description in MODELS.items():
        summary = summarize(name, num_classes, n_blocks)
        mine = [t for t in trained if t.model == name]
        scored = [t for t in mine if t.val_accuracy is not None]
        best = max(scored, key=lambda t: t.val_accuracy or 0.0) if scored else None
        rows.append(
            ModelComparison(
                model=name,
                description=description,
                params=int(summary["total_params"]),
                mult_adds=sum(int(layer["mult_adds"]) for layer in summary["layers"]),
                best=best,
                book=BOOK_ACCURACY.get(name) if num_classes == 2 else None,
                others=[t for t in mine if t is not best],
            )
        )
    return rows


# ---------------------------------------------------------------------------------------
# The shape lesson: why `net` needs its flatten step


@dataclass(frozen=True)
class ShapeStep:
    layer: str  # e.g. "conv1 Conv2d(3, 16, k3, p1)"
    shape: tuple[int, ...] | None  # the output shape; None where the layer failed


@dataclass(frozen=True)
class ShapeLesson:
    input_shape: tuple[int, ...]
    without_flatten: list[ShapeStep]  # the book's Sequential; the last step failed
    error: str  # what torch said, caught, not typed in
    failed_layer: str
    rows: int  # how many rows the failing Linear saw (every dimension but the last)
    row_length: int  # the length of each row (the last dimension)
    wants: int  # the Linear's in_features
    with_flatten: list[ShapeStep]  # `net` itself, which flattens first
    output_shape: tuple[int, ...]  # what `net` returns

    @property
    def explanation(self) -> list[str]:
        """The lesson in a few lines, every number taken from the run above."""
        before = self.without_flatten[-2].shape if len(self.without_flatten) > 1 else None
        dims = " x ".join(str(n) for n in (before or ())[:-1])
        return [
            f"nn.Linear works on the last dimension only: it read the {format_shape(before)} "
            f"output as {self.rows} rows ({dims}) of {self.row_length} numbers,",
            f"but {self.failed_layer} wants rows of {self.wants} numbers.",
            f"The flatten step turns each image's {format_shape((before or ())[1:])} into one row "
            f"of {self.wants} numbers, so the batch becomes "
            f"{format_shape((self.input_shape[0], self.wants))}.",
        ]


def book_sequential(num_classes: int = 2) -> nn.Module:
    """The book's `nn.Sequential` form of `net`, without the flatten step it needs."""
    from torch import nn

    from .models import build_model

    net = build_model("net", num_classes)
    return nn.Sequential(
        *(module for name, module in net.named_children() if not isinstance(module, nn.Flatten))
    )


def describe_layer(name: str, module: nn.Module) -> str:
    """A short form of a layer that fits a narrow panel: `conv1 Conv2d(3, 16, k3, p1)`."""
    kind = type(module).__name__
    if hasattr(module, "in_channels"):
        conv = cast("nn.Conv2d", module)
        kernel = format_kernel_size(tuple(conv.kernel_size)).split("x")
        size = kernel[0] if len(set(kernel)) == 1 else "x".join(kernel)
        padding = conv.padding if isinstance(conv.padding, str) else max(conv.padding)
        text = f"{kind}({conv.in_channels}, {conv.out_channels}, k{size}, p{padding})"
    elif hasattr(module, "in_features"):
        text = f"{kind}({module.in_features}, {module.out_features})"
    elif kind.startswith("MaxPool") or kind.startswith("AvgPool"):
        text = f"{kind}({module.kernel_size})"
    else:
        text = kind
    return f"{name} {text}" if name else text


def shape_lesson(batch: int = 1, num_classes: int = 2) -> ShapeLesson:
    """Run a batch of zeros through the book's Sequential and through `net`, layer by layer.

    The book calls `model(img.unsqueeze(0))`, a batch of one image, and gets "mat1 and mat2
    shapes cannot be multiplied (64x8 and 512x32)"; a batch of N gives N*64 rows.
    """
    import torch
    from torch import nn

    from .models import build_model

    if batch < 1:
        raise ValueError("batch must be at least 1")
    net = build_model("net", num_classes).eval()
    children = list(net.named_children())
    input_shape = (batch, 3, 32, 32)
    without: list[ShapeStep] = []
    error = failed = ""
    rows = row_length = wants = 0
    with torch.no_grad():
        out = torch.zeros(input_shape)
        for name, module in children:
            if isinstance(module, nn.Flatten):
                continue  # the book's Sequential has no flatten
            try:
                out = module(out)
            except RuntimeError as caught:
                error = str(caught).splitlines()[0]
                failed = name
                rows = int(out.numel() // out.shape[-1])
                row_length = int(out.shape[-1])
                wants = int(getattr(module, "in_features", 0))
                without.append(ShapeStep(describe_layer(name, module), None))
                break
            without.append(ShapeStep(describe_layer(name, module), tuple(out.shape)))
        if not error:
            raise AssertionError("the Sequential without flatten ran; the lesson has no error")
        steps: list[ShapeStep] = []
        out = torch.zeros(input_shape)
        for name, module in children:
            out = module(out)
            steps.append(ShapeStep(describe_layer(name, module), tuple(out.shape)))
    return ShapeLesson(
        input_shape=input_shape,
        without_flatten=without,
        error=error,
        failed_layer=failed,
        rows=rows,
        row_length=row_length,
        wants=wants,
        with_flatten=steps,
        output_shape=tuple(out.shape),
    )
