"""The Explore screen (4): what each convolution sees, the chapter's kernels, conv1's kernels.

Three views, switched with f, k and l:
- Feature maps: every channel of every convolution, activation and pooling layer of the
  current model for the picked image, as a grid of small heat maps; [ and ] step through
  the layers, the arrows pick a channel, z (or Enter) shows it large with its range.
- Kernels: the kernel playground of section 8.2.2: the image and what one 3x3 kernel makes
  of it, side by side; blur, vertical and horizontal edge, sharpen, identity, a kernel
  typed as nine numbers, or one of conv1's; padding 1 or none, max or average pool 2.
- Learned: conv1's kernels of the current weights as 3x3 colour tiles; one applied to the
  image; u (or Enter) takes it to the playground.

All numbers come from core (core/features.py, core/kernels.py), computed in thread
workers in float64 (so pictures and numbers are the same on every machine, whatever its
float32 summation order); this module imports no torch. The image is the one picked on
the Predict screen (`App.picked_image`), else a validation image of the data given to the
app, else of the bundled sample (i and I step through those).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.core.kernels import KERNEL_NOTES, KERNELS, KernelError, format_kernel, parse_kernel
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.widgets.heatmap import HeatMap, colour_bar
from cnn_tui.tui.widgets.map_grid import MapGrid
from cnn_tui.tui.widgets.nav import NavBar
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import ScreenResume
from textual.validation import ValidationResult, Validator
from textual.widgets import ContentSwitcher, Footer, Input, Static
from textual.worker import get_current_worker

TABS = [("maps", "f", "Feature maps"), ("kernels", "k", "Kernels"), ("learned", "l", "Learned")]
CHOICES = [*KERNELS, "typed"]  # the playground's kernels before conv1's own
POOL_NAMES = {None: "none", "max": "max pool 2", "avg": "avg pool 2"}
POOLS = [None, "max", "avg"]
VIEW_KEYS = Binding.Group("View", compact=True)
MAPS_KEYS = Binding.Group("Maps", compact=True)
KERNEL_KEYS = Binding.Group("Kernel", compact=True)


class KernelText(Validator):
    """The typed kernel: nine finite numbers (core.kernels.parse_kernel says why not)."""

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_kernel(value)
        except KernelError as error:
            return self.failure(str(error))
        return self.success()


@dataclass
class LayerView:
    """One layer's maps as plain lists (made in the worker) for the widgets."""

    name: str
    kind: str
    detail: str
    shape: tuple[int, int, int]
    maps: list  # C x H x W floats
    ranges: list[tuple[float, float]]  # per channel
    value_range: tuple[float, float]


@dataclass
class ModelSide:
    """What the current weights give for the current image."""

    key: Any
    label: str  # "net from birds_vs_airplanes.pt (shipped)"
    layers: list[LayerView] = field(default_factory=list)
    error: str = ""  # why there are no feature maps (e.g. a model without convolutions)
    kernel_layer: str = ""
    kernel_tiles: list = field(default_factory=list)  # K x 3 x 3 RGB tuples
    kernel_weights: list = field(default_factory=list)  # K x C x 3 x 3 floats
    kernel_bias: list[float] = field(default_factory=list)


@dataclass
class Picture:
    """The image everything is computed for."""

    key: Any
    label: str  # where it comes from, in words
    pixels: Any  # uint8 torch tensor (3, 32, 32)
    rgb: list  # 32 rows of 32 (r, g, b)


def _describe_pick(picked: Any) -> str:
    for name in ("label", "name", "title", "path"):
        value = getattr(picked, name, None)
        if value:
            return f"picked: {Path(str(value)).name if name == 'path' else value}"
    return "picked on Predict"


def _as_chw(pixels: Any):
    """A picked image's pixels as a uint8 (3, 32, 32) torch tensor, or None."""
    import torch

    if pixels is None:
        return None
    tensor = pixels if isinstance(pixels, torch.Tensor) else torch.as_tensor(pixels)
    if tensor.dim() == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tuple(tensor.shape) == (32, 32, 3):
        tensor = tensor.permute(2, 0, 1)
    if tuple(tensor.shape) != (3, 32, 32):
        return None
    if tensor.dtype != torch.uint8:
        if tensor.is_floating_point() and float(tensor.max()) <= 1.0:
            tensor = tensor * 255
        tensor = tensor.round().clamp(0, 255).to(torch.uint8)
    return tensor.contiguous().cpu()


def _fmt(value: float) -> str:
    return f"{value:.3g}"


class ExploreScreen(ReportsWorkerErrors, AppScreen):
    """Feature maps, the kernel playground and conv1's kernels for the picked image."""

    CSS_PATH = str(Path(__file__).resolve().parent.parent / "explore.tcss")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("f", "show_tab('maps')", "Maps", group=VIEW_KEYS, tooltip="Feature maps"),
        Binding("k", "show_tab('kernels')", "Kernels", group=VIEW_KEYS, tooltip="Playground"),
        Binding("l", "show_tab('learned')", "Learned", group=VIEW_KEYS, tooltip="conv1's kernels"),
        Binding("i", "next_image(1)", "Image", tooltip="The next validation image"),
        Binding("I", "next_image(-1)", "Prev image", show=False),
        Binding("]", "step(1)", "Next", key_display="[ ]", tooltip="Next layer or kernel"),
        Binding("[", "step(-1)", "Prev", show=False, tooltip="Previous layer or kernel"),
        Binding("z", "zoom", "Zoom", group=MAPS_KEYS, tooltip="The selected channel, large"),
        Binding("r", "toggle_range", "Range", group=MAPS_KEYS, tooltip="Per channel or layer"),
        Binding("p", "toggle_padding", "Pad", group=KERNEL_KEYS, tooltip="Padding 1 or none"),
        Binding("o", "next_pool", "Pool", group=KERNEL_KEYS, tooltip="None, max or avg pool 2"),
        Binding("s", "toggle_scale", "Scale", group=KERNEL_KEYS, tooltip="Normalised or 0..1"),
        Binding("t", "type_kernel", "Type", group=KERNEL_KEYS, tooltip="Type nine numbers"),
        Binding("u", "use_learned", "Use", tooltip="Take this kernel to the playground"),
        Binding("escape", "back", "Back", show=False),
    ]
    COMMANDS_HELP = {
        "show_tab('maps')": ("Explore: feature maps", "Every layer's channels (f)"),
        "show_tab('kernels')": ("Explore: kernel playground", "Apply a 3x3 kernel (k)"),
        "show_tab('learned')": ("Explore: learned kernels", "conv1's kernels (l)"),
        "next_image(1)": ("Explore: next image", "The next validation image (i)"),
        "zoom": ("Explore: zoom the channel", "The selected channel large (z)"),
        "toggle_range": ("Explore: colour range", "Per channel or per layer (r)"),
        "toggle_padding": ("Kernels: padding", "Padding 1 or none (p)"),
        "next_pool": ("Kernels: pooling", "None, max pool 2 or average pool 2 (o)"),
        "toggle_scale": ("Kernels: input scale", "The book's normalisation or 0..1 (s)"),
        "type_kernel": ("Kernels: type a kernel", "Nine numbers, row by row (t)"),
        "use_learned": ("Learned: use in the playground", "Apply this kernel there (u)"),
    }

    def __init__(self) -> None:
        super().__init__(id="explore-screen")
        self.tab = "maps"
        # Feature maps
        self.layer_index = 0
        self.channel = 0
        self.zoomed = False
        self.shared_range = False  # colours over the whole layer's range, not each channel's
        # Playground
        self.choice = "vertical edge"  # a KERNELS name, "typed" or "learned"
        self.typed: tuple | None = None
        self.learned_index = 0  # conv1's kernel shown on Learned (and used when "learned")
        self.padding = True
        self.pool: str | None = None
        self.scale = "normalized"
        # What is computed
        self.image_index = 0
        self._ignored_pick: int | None = None  # i leaves a picked image for the validation set
        self.picture: Picture | None = None
        self.side: ModelSide | None = None
        self._model: Any = None  # the torch module, touched only in workers
        self._model_key: Any = None
        self._model_label = ""
        self._lock = threading.Lock()  # one model load at a time (workers cannot be stopped)
        self._status = "loading..."
        self._playground_note = ""
        self._typed_error = ""

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield NavBar("explore")
        yield Static(id="explore-tabs")
        with ContentSwitcher(initial="maps", id="explore-switcher"):
            with Vertical(id="maps"):
                yield Static(id="maps-head")
                with Horizontal(id="maps-body"):
                    yield MapGrid(id="maps-grid", max_scale=3)
                    with Vertical(id="maps-detail"):
                        yield Static(id="detail-title")
                        yield HeatMap(id="detail-map")
                        yield Static(id="detail-bar")
            with Vertical(id="kernels"):
                yield Static(id="kp-choices")
                with Horizontal(id="kp-controls"):
                    yield Static(id="kp-options")
                    yield Input(
                        placeholder="t: type nine numbers",
                        id="kp-typed",
                        validators=[KernelText()],
                        validate_on=["changed", "submitted"],
                    )
                with Horizontal(id="kp-images"):
                    with Vertical(classes="kp-pane"):
                        yield Static(id="kp-in-title", classes="pane-title")
                        yield HeatMap(id="kp-in", reference=(32, 32))
                    yield Static(id="kp-kernel")
                    with Vertical(classes="kp-pane"):
                        yield Static(id="kp-out-title", classes="pane-title")
                        yield HeatMap(id="kp-out", reference=(32, 32))
                yield Static(id="kp-message")
            with Vertical(id="learned"):
                yield Static(id="ln-head")
                with Horizontal(id="ln-body"):
                    yield MapGrid(id="ln-grid", max_scale=4)
                    yield Static(id="ln-numbers")
                    with Vertical(id="ln-out-pane"):
                        yield Static(id="ln-out-title", classes="pane-title")
                        yield HeatMap(id="ln-out", reference=(32, 32))
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        self.app.current_model_changed.subscribe(self, self._model_changed)
        self._draw_tabs()
        self._draw_playground_text()
        self.sync()

    @on(ScreenResume)
    def _resumed(self) -> None:
        self.sync()

    def _model_changed(self, _model: Any) -> None:
        self.sync()

    # -- what to compute ----------------------------------------------------------------

    def _model_ref(self) -> tuple[Any, str | None, str, str]:
        """(key, path or None, model name, origin) of the weights to use now."""
        current = getattr(self.app, "current_model", None)
        if current is not None:
            path = Path(current.path)
            try:
                stamp = path.stat().st_mtime_ns
            except OSError:
                stamp = 0
            return (str(path), stamp), str(path), "", current.origin
        name = self.session.options.model or "net"
        return ("untrained", name), None, name, "untrained"

    def _image_ref(self) -> tuple[Any, Any]:
        """(key, picked object or None) of the image to use now."""
        picked = getattr(self.app, "picked_image", None)
        if picked is not None and id(picked) != self._ignored_pick:
            return ("picked", id(picked)), picked
        return ("index", self.image_index), None

    def sync(self) -> None:
        """Start whatever the app's state asks for that is not computed yet (cheap if none)."""
        engine = getattr(self.app, "engine_state", "ready")
        if engine == "loading":
            self._set_status("loading the engine (torch is being imported)...")
            return
        if engine == "failed":
            self._set_status("the engine could not be loaded: nothing can be computed")
            return
        image_key, picked = self._image_ref()
        model_key = self._model_ref()[0]
        stale_image = self.picture is None or self.picture.key != image_key
        if stale_image or self.side is None or self.side.key != model_key:
            self._compute_all(image_key, picked)

    def _set_status(self, text: str) -> None:
        self._status = text
        self._draw_maps()

    def _failed(self, text: str) -> None:
        self._set_status(text)
        self.notify(text, title="Explore", severity="error")

    @work(thread=True, exclusive=True, group="explore-model", exit_on_error=False)
    def _compute_all(self, image_key: Any, picked: Any) -> None:
        """The image, the model, its feature maps and kernels, then the playground."""
        with self._lock:
            if get_current_worker().is_cancelled:
                return  # a newer request came while this one waited
            try:
                picture = self._load_picture(image_key, picked)
                side = self._load_side(picture)
            except Exception as error:  # one line on the screen; app goes on
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                self.app.call_from_thread(self._failed, f"cannot show this: {message}")
                return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_side, picture, side)

    def _load_picture(self, image_key: Any, picked: Any) -> Picture:
        if self.picture is not None and self.picture.key == image_key:
            return self.picture
        pixels = None
        label = ""
        if picked is not None:
            pixels = _as_chw(getattr(picked, "pixels", picked))
            label = _describe_pick(picked)
        if pixels is None:
            dataset = getattr(self.app, "dataset", None)
            if dataset is None:
                from cnn_tui.core.data import load_sample

                dataset = load_sample()
                where = "sample"
            else:
                where = "data"
            images, labels = dataset.val.images, dataset.val.labels
            index = self.image_index % len(images)
            pixels = images[index].contiguous()
            name = dataset.classes[int(labels[index])]
            label = f"{where} val #{index} ({name})"
            if picked is not None:
                label = f"{label}; the picked image is not 32x32 RGB"
        rgb = [[tuple(p) for p in row] for row in pixels.permute(1, 2, 0).tolist()]
        return Picture(image_key, label, pixels, rgb)

    def _load_side(self, picture: Picture) -> ModelSide:
        from cnn_tui.core.features import FeatureError, feature_maps
        from cnn_tui.core.kernels import learned_kernels

        key, path, name, origin = self._model_ref()
        if self._model is None or self._model_key != key:
            if path is not None:
                from cnn_tui.core.weights import load_model

                model, meta = load_model(path)
                label = f"{meta['model']} from {Path(path).name} ({origin})"
            else:
                from cnn_tui.core.models import build_model

                model = build_model(name)
                label = f"{name} with untrained random weights (no weights file)"
            self._model, self._model_key, self._model_label = model, key, label
        side = ModelSide(key, self._model_label)
        try:
            layers = feature_maps(self._model, picture.pixels, precise=True)
        except FeatureError as error:
            side.error = str(error)
            layers = []
        for layer in layers:
            side.layers.append(
                LayerView(
                    layer.name,
                    layer.kind,
                    layer.detail,
                    layer.shape,
                    layer.maps.tolist(),
                    layer.channel_ranges(),
                    layer.value_range,
                )
            )
        try:
            kernels = learned_kernels(self._model)
        except KernelError:
            return side
        side.kernel_layer = kernels.layer
        side.kernel_tiles = [
            [[tuple(p) for p in row] for row in tile] for tile in kernels.tiles().tolist()
        ]
        side.kernel_weights = kernels.weights.tolist()
        side.kernel_bias = kernels.bias.tolist()
        return side

    def _show_side(self, picture: Picture, side: ModelSide) -> None:
        changed_model = self.side is None or self.side.key != side.key
        self.picture = picture
        self.side = side
        self._status = ""
        if side.layers:
            self.layer_index = min(self.layer_index, len(side.layers) - 1)
        if changed_model:
            self.learned_index = min(self.learned_index, max(0, len(side.kernel_tiles) - 1))
            if not side.kernel_tiles and self.choice == "learned":
                self.choice = "vertical edge"
        self._draw_tabs()
        self._draw_maps()
        self._draw_learned()
        self._draw_playground_text()
        self._compute_playground()
        self._compute_learned_output()

    # -- the playground -----------------------------------------------------------------

    def _kernel_now(self) -> tuple[Any, float, str]:
        """(kernel, bias, name) the playground applies."""
        if self.choice == "typed":
            return self.typed, 0.0, "typed"
        if self.choice == "learned" and self.side and self.side.kernel_weights:
            index = self.learned_index
            name = f"{self.side.kernel_layer} #{index}"
            return self.side.kernel_weights[index], self.side.kernel_bias[index], name
        return KERNELS[self.choice], 0.0, self.choice

    @work(thread=True, exclusive=True, group="explore-playground", exit_on_error=False)
    def _compute_playground(self) -> None:
        from cnn_tui.core.kernels import apply_kernel

        picture = self.picture
        kernel, bias, name = self._kernel_now()
        if picture is None or kernel is None:
            return
        settings = (self.choice, self.learned_index, self.typed, self.padding, self.pool)
        settings += (self.scale,)
        try:
            result = apply_kernel(
                picture.pixels,
                kernel,
                padding=self.padding,
                pool=self.pool,
                bias=bias,
                scale=self.scale,
                precise=True,
            )
        except KernelError as error:
            self.app.call_from_thread(self._show_playground_error, str(error))
            return
        output = result.output.tolist()
        shown = {
            "output": output,
            "range": result.value_range,
            "input_shape": result.input_shape,
            "conv_shape": result.conv_shape,
            "output_shape": result.output_shape,
            "name": name,
            "settings": settings,
        }
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_playground, shown)

    def _show_playground_error(self, message: str) -> None:
        self._playground_note = message
        self._draw_playground_text()

    def _show_playground(self, shown: dict) -> None:
        current = (self.choice, self.learned_index, self.typed, self.padding, self.pool)
        current += (self.scale,)
        if shown["settings"] != current:
            return  # a newer setting is on its way
        picture = self.picture
        if picture is not None:
            self.query_one("#kp-in", HeatMap).show(picture.rgb)
        lo, hi = shown["range"]
        self.query_one("#kp-out", HeatMap).show(shown["output"], lo, hi)
        c, h, w = shown["input_shape"][1:]
        self.query_one("#kp-in-title", Static).update(
            f"input ({c}, {h}, {w}) {'normalised' if self.scale == 'normalized' else '0..1'}"
        )
        out_h, out_w = shown["output_shape"][2:]
        self.query_one("#kp-out-title", Static).update(
            f"output {out_h}x{out_w} · {_fmt(lo)} … {_fmt(hi)}"
        )
        self._playground_note = self._shape_path(shown)
        self._draw_playground_text()

    def _shape_path(self, shown: dict) -> str:
        def compact(shape: tuple[int, ...]) -> str:
            return "(" + ",".join(str(v) for v in shape) + ")"

        pad = "pad 1" if self.padding else "no pad"
        text = f"{compact(shown['input_shape'])} → conv 3x3 {pad} → {compact(shown['conv_shape'])}"
        if self.pool:
            text += f" → {self.pool} pool 2 → {compact(shown['output_shape'])}"
        return text

    def _draw_playground_text(self) -> None:
        choices = Text()
        names = list(CHOICES)
        if self.side and self.side.kernel_tiles:
            names.append("learned")
        for name in names:
            label = name
            if name == "learned" and self.side:
                label = f"{self.side.kernel_layer} #{self.learned_index}"
            style = _click(f"screen.choose({name!r})")
            if name == self.choice:
                style += Style(reverse=True, bold=True)
            choices.append(f" {label} ", style)
        self.query_one("#kp-choices", Static).update(choices)
        options = Text.assemble(
            (f"p {'padding 1' if self.padding else 'no padding'}", _click("screen.toggle_padding")),
            " · ",
            (f"o {POOL_NAMES[self.pool]}", _click("screen.next_pool")),
            " · ",
            (
                f"s {'normalised' if self.scale == 'normalized' else '0..1'}",
                _click("screen.toggle_scale"),
            ),
        )
        self.query_one("#kp-options", Static).update(options)
        self.query_one("#kp-kernel", Static).update(self._kernel_text())
        message = self.query_one("#kp-message", Static)
        if self._typed_error:
            colour = self.app.theme_variables.get("error") or "red"
            message.update(Text(f"typed kernel: {self._typed_error}", style=Style(color=colour)))
        else:
            message.update(self._playground_note)

    def _kernel_text(self) -> Text:
        kernel, bias, name = self._kernel_now()
        text = Text(f"{name}\n", style="bold")
        if kernel is None:
            text.append("t: type nine\nnumbers, then\nEnter\n")
            return text
        if self.choice == "learned" and self.side:
            tile = self.side.kernel_tiles[self.learned_index]
            for row in tile:
                for rgb in row:
                    text.append("   ", Style(bgcolor=Color.from_rgb(*rgb)))
                text.append("\n")
            text.append(f"R, G and B\neach its own\n3x3; bias {bias:+.2f}\n")
            text.append("\nthe model's own\nconv1 channel", style="dim")
            return text
        for row in kernel:
            text.append(" ".join(f"{_short(v):>4}" for v in row) + "\n")
        text.append("on R, G and B,\nadded; bias 0\n")
        note = KERNEL_NOTES.get(self.choice)
        if note:
            text.append(f"\n{note}", style="dim")
        return text

    # -- drawing ------------------------------------------------------------------------

    def _draw_tabs(self) -> None:
        text = Text(" ")
        for mode, key, title in TABS:
            style = _click(f"screen.show_tab({mode!r})")
            if mode == self.tab:
                style += Style(reverse=True, bold=True)
            text.append(f" {key} {title} ", style)
            text.append(" ")
        if self.picture is not None:
            text.append(f" {self.picture.label}", Style(dim=True))
        self.query_one("#explore-tabs", Static).update(text)

    def _layer(self) -> LayerView | None:
        if self.side is None or not self.side.layers:
            return None
        return self.side.layers[self.layer_index]

    def _draw_maps(self) -> None:
        head = self.query_one("#maps-head", Static)
        grid = self.query_one("#maps-grid", MapGrid)
        layer = self._layer()
        if layer is None:
            reason = self._status or (self.side.error if self.side else "") or "nothing yet"
            weights = f"weights: {self.side.label}\n" if self.side else ""
            head.update(Text(f"{weights}{reason}"))  # file names, errors: no markup
            grid.show([])
            self._draw_detail()
            return
        c, h, w = layer.shape
        lo, hi = layer.value_range
        total = len(self.side.layers)
        head.update(
            Text.assemble(
                (f"{self.layer_index + 1}/{total} {layer.name}", "bold"),
                f"  {layer.detail} → ({c}, {h}, {w})  range {_fmt(lo)} … {_fmt(hi)}\n",
                (
                    f"weights: {self.side.label} · colours per "
                    f"{'layer' if self.shared_range else 'channel'} (r)",
                    "dim",
                ),
            )
        )
        self.channel = min(self.channel, c - 1)
        ranges = [layer.value_range] * c if self.shared_range else layer.ranges
        grid.show(layer.maps, ranges=ranges, selected=self.channel)
        self._draw_detail()

    def _draw_detail(self) -> None:
        title = self.query_one("#detail-title", Static)
        bar = self.query_one("#detail-bar", Static)
        big = self.query_one("#detail-map", HeatMap)
        layer = self._layer()
        if layer is None:
            title.update("")
            bar.update("")
            big.clear()
            return
        c, h, w = layer.shape
        lo, hi = layer.ranges[self.channel]
        if self.shared_range:
            lo, hi = layer.value_range
        title.update(
            Text.assemble((f"{layer.name} channel {self.channel}", "bold"), f" of {c} · {h}x{w}")
        )
        big.show(layer.maps[self.channel], lo, hi)
        own = layer.ranges[self.channel]
        bar.update(
            Text.assemble(colour_bar(lo, hi, 12), f"\nvalues {_fmt(own[0])} … {_fmt(own[1])}")
        )

    def _draw_learned(self) -> None:
        head = self.query_one("#ln-head", Static)
        grid = self.query_one("#ln-grid", MapGrid)
        side = self.side
        if side is None or not side.kernel_tiles:
            head.update(
                Text(
                    (side.error if side else self._status)
                    or "this model has no convolution on the image"
                )
            )
            grid.show([])
            return
        k = len(side.kernel_tiles)
        head.update(
            Text.assemble(
                (f"{side.kernel_layer}: {k} kernels of 3x3", "bold"),
                f" ({side.label}); each pixel's R, G, B are the kernel's weights on R, G, B, "
                "stretched per kernel",
            )
        )
        grid.show(side.kernel_tiles, selected=self.learned_index)
        self._draw_learned_numbers()

    def _draw_learned_numbers(self) -> None:
        side = self.side
        box = self.query_one("#ln-numbers", Static)
        if side is None or not side.kernel_weights:
            box.update("")
            return
        weights = side.kernel_weights[self.learned_index]
        text = Text(f"#{self.learned_index}\n", style="bold")
        for channel, name in zip(weights, "RGB", strict=False):
            text.append(f"{name}\n", style="dim")
            for row in channel:
                text.append(" ".join(f"{v:+.2f}" for v in row) + "\n")
        text.append(f"bias {side.kernel_bias[self.learned_index]:+.3f}")
        box.update(text)

    @work(thread=True, exclusive=True, group="explore-learned", exit_on_error=False)
    def _compute_learned_output(self) -> None:
        from cnn_tui.core.kernels import apply_kernel

        side, picture, index = self.side, self.picture, self.learned_index
        if side is None or picture is None or not side.kernel_weights:
            return
        result = apply_kernel(
            picture.pixels, side.kernel_weights[index], bias=side.kernel_bias[index], precise=True
        )
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(
                self._show_learned_output, index, result.output.tolist(), result.value_range
            )

    def _show_learned_output(self, index: int, output: list, value_range: tuple) -> None:
        if index != self.learned_index or self.side is None:
            return
        lo, hi = value_range
        self.query_one("#ln-out", HeatMap).show(output, lo, hi)
        self.query_one("#ln-out-title", Static).update(
            f"#{index} applied (= conv1 channel {index}) · {_fmt(lo)} … {_fmt(hi)}"
        )

    # -- reacting to the widgets --------------------------------------------------------

    @on(MapGrid.Highlighted, "#maps-grid")
    def _channel_moved(self, message: MapGrid.Highlighted) -> None:
        self.channel = message.index
        self._draw_detail()

    @on(MapGrid.Chosen, "#maps-grid")
    def _channel_chosen(self, message: MapGrid.Chosen) -> None:
        self.channel = message.index
        if self.has_class("-narrow"):
            self.action_zoom()
        self._draw_detail()

    @on(MapGrid.Highlighted, "#ln-grid")
    def _learned_moved(self, message: MapGrid.Highlighted) -> None:
        self.learned_index = message.index
        self._draw_learned_numbers()
        self._compute_learned_output()
        if self.choice == "learned":
            self._draw_playground_text()
            self._compute_playground()

    @on(MapGrid.Chosen, "#ln-grid")
    def _learned_chosen(self, message: MapGrid.Chosen) -> None:
        self.learned_index = message.index
        self.action_use_learned()

    @on(Input.Changed, "#kp-typed")
    def _typed_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        valid = result is None or result.is_valid or not event.value.strip()
        self._typed_error = "" if valid else result.failures[0].description
        self._draw_playground_text()

    @on(Input.Submitted, "#kp-typed")
    def _typed_submitted(self, event: Input.Submitted) -> None:
        try:
            kernel = parse_kernel(event.value)
        except KernelError as error:
            self._typed_error = str(error)
            self._draw_playground_text()
            return
        self._typed_error = ""
        self.typed = kernel
        self.choice = "typed"
        self.set_focus(None)
        self._kernel_settings_changed()

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("zoom", "toggle_range"):
            return self.tab == "maps"
        if action in ("toggle_padding", "next_pool", "toggle_scale", "type_kernel"):
            return self.tab == "kernels"
        if action == "use_learned":
            return self.tab == "learned" and bool(self.side and self.side.kernel_tiles)
        return True

    def action_show_tab(self, tab: str) -> None:
        self.tab = tab
        self.query_one(ContentSwitcher).current = tab
        focus = {"maps": "#maps-grid", "learned": "#ln-grid"}.get(tab)
        self.set_focus(self.query_one(focus) if focus else None)
        self._draw_tabs()
        self.refresh_bindings()

    def action_next_image(self, step: int) -> None:
        picked = getattr(self.app, "picked_image", None)
        if picked is not None and id(picked) != self._ignored_pick:
            self._ignored_pick = id(picked)  # back to the validation images until a new pick
        else:
            self.image_index += step
        self.sync()

    def action_step(self, step: int) -> None:
        if self.tab == "maps":
            if self.side and self.side.layers:
                self.layer_index = (self.layer_index + step) % len(self.side.layers)
                self._draw_maps()
        elif self.tab == "kernels":
            names = list(CHOICES)
            if self.side and self.side.kernel_tiles:
                names.append("learned")
            if self.typed is None and self.choice != "typed":
                names.remove("typed")
            index = names.index(self.choice) if self.choice in names else 0
            self.choice = names[(index + step) % len(names)]
            self._kernel_settings_changed()
        elif self.side and self.side.kernel_tiles:
            grid = self.query_one("#ln-grid", MapGrid)
            grid.selected = (self.learned_index + step) % len(self.side.kernel_tiles)

    def action_choose(self, name: str) -> None:
        """Pick a playground kernel by name (the clickable names above the images)."""
        if name == "typed" and self.typed is None:
            self.action_type_kernel()
            return
        if name in (*KERNELS, "typed", "learned"):
            self.choice = name
            self._kernel_settings_changed()

    def action_zoom(self) -> None:
        self.zoomed = not self.zoomed
        self.set_class(self.zoomed, "-zoom")

    def action_back(self) -> None:
        if self.focused is not None and isinstance(self.focused, Input):
            self.set_focus(None)
        elif self.zoomed:
            self.action_zoom()

    def action_toggle_range(self) -> None:
        self.shared_range = not self.shared_range
        self._draw_maps()

    def action_toggle_padding(self) -> None:
        self.padding = not self.padding
        self._kernel_settings_changed()

    def action_next_pool(self) -> None:
        self.pool = POOLS[(POOLS.index(self.pool) + 1) % len(POOLS)]
        self._kernel_settings_changed()

    def action_toggle_scale(self) -> None:
        self.scale = "unit" if self.scale == "normalized" else "normalized"
        self._kernel_settings_changed()

    def action_type_kernel(self) -> None:
        field_ = self.query_one("#kp-typed", Input)
        if not field_.value and self.choice != "learned":
            kernel = self._kernel_now()[0]
            if kernel is not None:
                field_.value = format_kernel(kernel)
        field_.focus()

    def action_use_learned(self) -> None:
        if not (self.side and self.side.kernel_tiles):
            return
        self.choice = "learned"
        self.action_show_tab("kernels")
        self._kernel_settings_changed()

    def _kernel_settings_changed(self) -> None:
        self._draw_playground_text()
        self._compute_playground()

    # -- for tests and the command palette ---------------------------------------------

    def describe_kernel(self) -> str:
        """The playground's kernel in words (its note), for tooltips and tests."""
        return KERNEL_NOTES.get(self.choice, "")


def _click(action: str) -> Style:
    """A style that runs an action when clicked (the mouse works as the keys do)."""
    return Style.from_meta({"@click": action})


def _short(value: float) -> str:
    if abs(value - 1 / 9) < 1e-9:
        return "1/9"
    return f"{value:.3g}"


__all__ = ["ExploreScreen"]
