"""The Explore screen's three views: feature maps, the kernel playground, conv1's kernels.

Each view lays out its widgets and draws what the screen hands it (the session's computed
records and the screen's settings); the screen keeps the settings, the keys and the work.
Clickable words run the screen's actions (`screen.…`), as its keys do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from cnn_tui.core.kernels import KernelError, parse_kernel
from cnn_tui.tui.session.exploring import KernelView, LayerView, ModelSide, Picture
from cnn_tui.tui.widgets.heatmap import HeatMap, colour_bar
from cnn_tui.tui.widgets.map_grid import MapGrid
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Static

POOL_NAMES = {None: "none", "max": "max pool 2", "avg": "avg pool 2"}


def fmt(value: float) -> str:
    return f"{value:.3g}"


def click(action: str) -> Style:
    """A style that runs an action when clicked (the mouse works as the keys do)."""
    return Style.from_meta({"@click": action})


class MapsView(Vertical):
    """One layer's channels as a grid of small maps, and the selected channel large."""

    def compose(self) -> ComposeResult:
        yield Static(id="maps-head")
        with Horizontal(id="maps-body"):
            yield MapGrid(id="maps-grid", max_scale=3)
            with Vertical(id="maps-detail"):
                yield Static(id="detail-title")
                yield HeatMap(id="detail-map")
                yield Static(id="detail-bar")

    def show(
        self, side: ModelSide | None, index: int, channel: int, shared: bool, status: str
    ) -> int:
        """Draw layer `index` of side, or why there is none (status first); returns the
        channel selected, kept within the layer's channels. shared: colours over the
        whole layer's range, not each channel's."""
        head = self.query_one("#maps-head", Static)
        grid = self.query_one("#maps-grid", MapGrid)
        if side is None or not side.layers:
            reason = status or (side.error if side else "") or "nothing yet"
            weights = f"weights: {side.label}\n" if side else ""
            head.update(Text(f"{weights}{reason}"))  # file names, errors: no markup
            grid.show([])
            self.show_detail(None, channel, shared)
            return channel
        layer = side.layers[index]
        c, h, w = layer.shape
        lo, hi = layer.value_range
        head.update(
            Text.assemble(
                (f"{index + 1}/{len(side.layers)} {layer.name}", "bold"),
                f"  {layer.detail} → ({c}, {h}, {w})  range {fmt(lo)} … {fmt(hi)}\n",
                (
                    f"weights: {side.label} · colours per {'layer' if shared else 'channel'} (r)",
                    "dim",
                ),
            )
        )
        channel = min(channel, c - 1)
        ranges = [layer.value_range] * c if shared else layer.ranges
        grid.show(layer.maps, ranges=ranges, selected=channel)
        self.show_detail(layer, channel, shared)
        return channel

    def show_detail(self, layer: LayerView | None, channel: int, shared: bool) -> None:
        """The selected channel large, with its colour bar and its own range."""
        title = self.query_one("#detail-title", Static)
        bar = self.query_one("#detail-bar", Static)
        big = self.query_one("#detail-map", HeatMap)
        if layer is None:
            title.update("")
            bar.update("")
            big.clear()
            return
        c, h, w = layer.shape
        lo, hi = layer.value_range if shared else layer.ranges[channel]
        title.update(
            Text.assemble((f"{layer.name} channel {channel}", "bold"), f" of {c} · {h}x{w}")
        )
        big.show(layer.maps[channel], lo, hi)
        own = layer.ranges[channel]
        bar.update(Text.assemble(colour_bar(lo, hi, 12), f"\nvalues {fmt(own[0])} … {fmt(own[1])}"))


class KernelText(Validator):
    """The typed kernel: nine finite numbers (core.kernels.parse_kernel says why not)."""

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_kernel(value)
        except KernelError as error:
            return self.failure(str(error))
        return self.success()


class PlaygroundView(Vertical):
    """The kernel playground: the kernels to pick, the switches, the image and its output."""

    def compose(self) -> ComposeResult:
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

    def show_choices(
        self,
        names: Sequence[str],
        choice: str,
        learned: str,
        switches: tuple[bool, str | None, str],
    ) -> None:
        """The kernels to pick (the chosen one marked; learned: the label of conv1's) and
        the switches (padding, pool, scale)."""
        choices = Text()
        for name in names:
            label = learned if name == "learned" and learned else name
            style = click(f"screen.choose({name!r})")
            if name == choice:
                style += Style(reverse=True, bold=True)
            choices.append(f" {label} ", style)
        self.query_one("#kp-choices", Static).update(choices)
        padding, pool, scale = switches
        options = Text.assemble(
            (f"p {'padding 1' if padding else 'no padding'}", click("screen.toggle_padding")),
            " · ",
            (f"o {POOL_NAMES[pool]}", click("screen.next_pool")),
            " · ",
            (
                f"s {'normalised' if scale == 'normalized' else '0..1'}",
                click("screen.toggle_scale"),
            ),
        )
        self.query_one("#kp-options", Static).update(options)

    def show_kernel(self, text: Text, typed_error: str, note: str) -> None:
        """The kernel beside the images, and below them the typed kernel's error or the
        note (the shapes on the way, or why the kernel could not be applied)."""
        self.query_one("#kp-kernel", Static).update(text)
        message = self.query_one("#kp-message", Static)
        if typed_error:
            colour = self.app.theme_variables.get("error") or "red"
            message.update(Text(f"typed kernel: {typed_error}", style=Style(color=colour)))
        else:
            message.update(note)

    def show_result(self, picture: Picture | None, shown: KernelView, scale: str) -> None:
        """The image as the kernel reads it and what comes out."""
        if picture is not None:
            self.query_one("#kp-in", HeatMap).show(picture.rgb)
        lo, hi = shown.value_range
        self.query_one("#kp-out", HeatMap).show(shown.output, lo, hi)
        c, h, w = shown.input_shape[1:]
        self.query_one("#kp-in-title", Static).update(
            f"input ({c}, {h}, {w}) {'normalised' if scale == 'normalized' else '0..1'}"
        )
        out_h, out_w = shown.output_shape[2:]
        self.query_one("#kp-out-title", Static).update(
            f"output {out_h}x{out_w} · {fmt(lo)} … {fmt(hi)}"
        )


def shape_path(shown: KernelView, padding: bool, pool: str | None) -> str:
    """The shapes from input to output, as the book writes them."""

    def compact(shape: tuple[int, ...]) -> str:
        return "(" + ",".join(str(v) for v in shape) + ")"

    pad = "pad 1" if padding else "no pad"
    text = f"{compact(shown.input_shape)} → conv 3x3 {pad} → {compact(shown.conv_shape)}"
    if pool:
        text += f" → {pool} pool 2 → {compact(shown.output_shape)}"
    return text


class LearnedView(Vertical):
    """conv1's kernels as 3x3 colour tiles, one's numbers, and it applied to the image."""

    def compose(self) -> ComposeResult:
        yield Static(id="ln-head")
        with Horizontal(id="ln-body"):
            yield MapGrid(id="ln-grid", max_scale=4)
            yield Static(id="ln-numbers")
            with Vertical(id="ln-out-pane"):
                yield Static(id="ln-out-title", classes="pane-title")
                yield HeatMap(id="ln-out", reference=(32, 32))

    def show(self, side: ModelSide | None, status: str, index: int) -> None:
        head = self.query_one("#ln-head", Static)
        grid = self.query_one("#ln-grid", MapGrid)
        if side is None or not side.kernel_tiles:
            head.update(
                Text(
                    (side.error if side else status) or "this model has no convolution on the image"
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
        grid.show(side.kernel_tiles, selected=index)
        self.show_numbers(side, index)

    def show_numbers(self, side: ModelSide | None, index: int) -> None:
        box = self.query_one("#ln-numbers", Static)
        if side is None or not side.kernel_weights:
            box.update("")
            return
        text = Text(f"#{index}\n", style="bold")
        for channel, name in zip(side.kernel_weights[index], "RGB", strict=False):
            text.append(f"{name}\n", style="dim")
            for row in channel:
                text.append(" ".join(f"{v:+.2f}" for v in row) + "\n")
        text.append(f"bias {side.kernel_bias[index]:+.3f}")
        box.update(text)

    def show_output(
        self, index: int, output: list[list[float]], value_range: tuple[float, float]
    ) -> None:
        lo, hi = value_range
        self.query_one("#ln-out", HeatMap).show(output, lo, hi)
        self.query_one("#ln-out-title", Static).update(
            f"#{index} applied (= conv1 channel {index}) · {fmt(lo)} … {fmt(hi)}"
        )


def kernel_text(
    name: str,
    kernel: Sequence[Sequence[float]] | Sequence[Sequence[Sequence[float]]] | None,
    bias: float,
    tile: list[list[tuple[int, int, int]]] | None,
    note: str,
) -> Text:
    """The playground's kernel beside the images: its numbers, or for one of conv1's
    kernels (tile given) its colour tile; note: what the kernel does, in words."""
    text = Text(f"{name}\n", style="bold")
    if kernel is None:
        text.append("t: type nine\nnumbers, then\nEnter\n")
        return text
    if tile is not None:
        for tile_row in tile:
            for rgb in tile_row:
                text.append("   ", Style(bgcolor=Color.from_rgb(*rgb)))
            text.append("\n")
        text.append(f"R, G and B\neach its own\n3x3; bias {bias:+.2f}\n")
        text.append("\nthe model's own\nconv1 channel", style="dim")
        return text
    for row in cast("Sequence[Sequence[float]]", kernel):  # 3x3 when no tile is given
        text.append(" ".join(f"{_short(v):>4}" for v in row) + "\n")
    text.append("on R, G and B,\nadded; bias 0\n")
    if note:
        text.append(f"\n{note}", style="dim")
    return text


def _short(value: float) -> str:
    if abs(value - 1 / 9) < 1e-9:
        return "1/9"
    return f"{value:.3g}"
