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

Numbers come from core through the session's `exploring`, in thread workers, in float64
(the same on every machine); no torch here. The image is the one picked on the Predict
screen, else a validation image of the app's data or the bundled sample (i and I step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from cnn_tui.core.kernels import KERNEL_NOTES, KERNELS, KernelError, format_kernel, parse_kernel
from cnn_tui.tui.errors import ReportsWorkerErrors
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.screens.mounting import closed_before_mounting
from cnn_tui.tui.session.exploring import (
    ImageKey,
    KernelView,
    LayerView,
    ModelRef,
    ModelSide,
    Picture,
    apply,
)
from cnn_tui.tui.state import PickedImage
from cnn_tui.tui.widgets.explore_views import (
    LearnedView,
    MapsView,
    PlaygroundView,
    click,
    kernel_text,
    shape_path,
)
from cnn_tui.tui.widgets.map_grid import MapGrid
from cnn_tui.tui.widgets.nav import NavBar
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import ScreenResume
from textual.widgets import ContentSwitcher, Footer, Input, Static
from textual.worker import get_current_worker

TABS = [("maps", "f", "Feature maps"), ("kernels", "k", "Kernels"), ("learned", "l", "Learned")]
CHOICES = [*KERNELS, "typed"]  # the playground's kernels before conv1's own
POOLS = [None, "max", "avg"]
Kernel = Sequence[Sequence[float]] | Sequence[Sequence[Sequence[float]]]  # 3x3, or C x 3x3
VIEW_KEYS = Binding.Group("View", compact=True)
MAPS_KEYS = Binding.Group("Maps", compact=True)
KERNEL_KEYS = Binding.Group("Kernel", compact=True)


class ExploreScreen(ReportsWorkerErrors, AppScreen):
    """Feature maps, the kernel playground and conv1's kernels for the picked image."""

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
        self.typed: tuple[tuple[float, float, float], ...] | None = None
        self.learned_index = 0  # conv1's kernel shown on Learned (and used when "learned")
        self.padding = True
        self.pool: str | None = None
        self.scale = "normalized"
        # What is computed
        self.image_index = 0
        self._ignored_pick: int | None = None  # i leaves a picked image for the validation set
        self.picture: Picture | None = None
        self.side: ModelSide | None = None
        self._status = "loading..."
        self._playground_note = ""
        self._typed_error = ""

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield NavBar("explore")
        yield Static(id="explore-tabs")
        with ContentSwitcher(initial="maps", id="explore-switcher"):
            yield MapsView(id="maps")
            yield PlaygroundView(id="kernels")
            yield LearnedView(id="learned")
        yield Footer()

    def on_mount(self) -> None:
        if closed_before_mounting(self):
            return
        self.session.current_model_changed.subscribe(self, self._model_changed)
        self._draw_tabs()
        self._draw_playground_text()
        self.sync()

    @on(ScreenResume)
    def _resumed(self) -> None:
        self.sync()

    def _model_changed(self, _model: object) -> None:
        self.sync()

    # -- what to compute ----------------------------------------------------------------

    def _image_ref(self) -> tuple[ImageKey, PickedImage | None]:
        """(key, picked image or None) of the image to use now."""
        picked = self.session.picked_image
        if picked is not None and id(picked) != self._ignored_pick:
            return ("picked", id(picked)), picked
        return ("index", self.image_index), None

    def sync(self) -> None:
        """Start whatever the session's state asks for that is not computed yet (cheap if
        none)."""
        session = self.session
        if session.engine_state == "loading":
            self._set_status("loading the engine (torch is being imported)...")
            return
        if session.engine_state == "failed":
            self._set_status("the engine could not be loaded: nothing can be computed")
            return
        image_key, picked = self._image_ref()
        model = ModelRef.of(session.current_model, session.options.model or "net")
        stale_image = self.picture is None or self.picture.key != image_key
        if stale_image or self.side is None or self.side.key != model.key:
            self._compute_all(model, image_key, picked)

    def _set_status(self, text: str) -> None:
        self._status = text
        self._draw_maps()

    def _failed(self, text: str) -> None:
        self._set_status(text)
        self.notify(text, title="Explore", severity="error")

    @work(thread=True, exclusive=True, group="explore-model", exit_on_error=False)
    def _compute_all(
        self, model: ModelRef, image_key: ImageKey, picked: PickedImage | None
    ) -> None:
        """The image, the model, its feature maps and kernels, then the playground."""
        worker = get_current_worker()
        try:
            computed = self.session.exploring.compute(
                model,
                image_key,
                picked,
                self.image_index,
                self.picture,
                lambda: worker.is_cancelled,
            )
        except Exception as error:  # one line on the screen; the app goes on
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            self.app.call_from_thread(self._failed, f"cannot show this: {message}")
            return
        if computed is not None and not worker.is_cancelled:
            self.app.call_from_thread(self._show_side, *computed)

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

    def _kernel_now(self) -> tuple[Kernel | None, float, str]:
        """(kernel, bias, name) the playground applies."""
        if self.choice == "typed":
            return self.typed, 0.0, "typed"
        if self.choice == "learned" and self.side and self.side.kernel_weights:
            index = self.learned_index
            name = f"{self.side.kernel_layer} #{index}"
            return self.side.kernel_weights[index], self.side.kernel_bias[index], name
        return KERNELS[self.choice], 0.0, self.choice

    def _playground_settings(self) -> tuple[object, ...]:
        """Everything the playground's output depends on besides the image."""
        return (self.choice, self.learned_index, self.typed, self.padding, self.pool, self.scale)

    @work(thread=True, exclusive=True, group="explore-playground", exit_on_error=False)
    def _compute_playground(self) -> None:
        picture = self.picture
        kernel, bias, name = self._kernel_now()
        if picture is None or kernel is None:
            return
        settings = self._playground_settings()
        try:
            result = apply(
                picture, kernel, padding=self.padding, pool=self.pool, bias=bias, scale=self.scale
            )
        except KernelError as error:
            self.app.call_from_thread(self._show_playground_error, str(error))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_playground, result, settings)

    def _show_playground_error(self, message: str) -> None:
        self._playground_note = message
        self._draw_playground_text()

    def _show_playground(self, shown: KernelView, settings: tuple[object, ...]) -> None:
        if settings != self._playground_settings():
            return  # a newer setting is on its way
        self.query_one(PlaygroundView).show_result(self.picture, shown, self.scale)
        self._playground_note = shape_path(shown, self.padding, self.pool)
        self._draw_playground_text()

    def _draw_playground_text(self) -> None:
        names = list(CHOICES)
        if self.side and self.side.kernel_tiles:
            names.append("learned")
        learned = f"{self.side.kernel_layer} #{self.learned_index}" if self.side else ""
        view = self.query_one(PlaygroundView)
        view.show_choices(names, self.choice, learned, (self.padding, self.pool, self.scale))
        view.show_kernel(self._kernel_text(), self._typed_error, self._playground_note)

    def _kernel_text(self) -> Text:
        kernel, bias, name = self._kernel_now()
        learned = self.choice == "learned" and self.side is not None
        tile = self.side.kernel_tiles[self.learned_index] if learned and self.side else None
        return kernel_text(name, kernel, bias, tile, KERNEL_NOTES.get(self.choice, ""))

    # -- drawing ------------------------------------------------------------------------

    def _draw_tabs(self) -> None:
        text = Text(" ")
        for mode, key, title in TABS:
            style = click(f"screen.show_tab({mode!r})")
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
        view = self.query_one(MapsView)
        status = self._status
        self.channel = view.show(
            self.side, self.layer_index, self.channel, self.shared_range, status
        )

    def _draw_detail(self) -> None:
        self.query_one(MapsView).show_detail(self._layer(), self.channel, self.shared_range)

    def _draw_learned(self) -> None:
        self.query_one(LearnedView).show(self.side, self._status, self.learned_index)

    def _draw_learned_numbers(self) -> None:
        self.query_one(LearnedView).show_numbers(self.side, self.learned_index)

    @work(thread=True, exclusive=True, group="explore-learned", exit_on_error=False)
    def _compute_learned_output(self) -> None:
        side, picture, index = self.side, self.picture, self.learned_index
        if side is None or picture is None or not side.kernel_weights:
            return
        result = apply(picture, side.kernel_weights[index], bias=side.kernel_bias[index])
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(
                self._show_learned_output, index, result.output, result.value_range
            )

    def _show_learned_output(
        self, index: int, output: list[list[float]], value_range: tuple[float, float]
    ) -> None:
        if index != self.learned_index or self.side is None:
            return
        self.query_one(LearnedView).show_output(index, output, value_range)

    # -- reacting to the widgets --------------------------------------------------------

    def _has_channel(self, index: int) -> bool:
        """False for a grid message from the layer before a `[` (tui-monkey seed 707)."""
        layer = self._layer()
        return layer is not None and 0 <= index < layer.shape[0]

    @on(MapGrid.Highlighted, "#maps-grid")
    def _channel_moved(self, message: MapGrid.Highlighted) -> None:
        if self._has_channel(message.index):
            self.channel = message.index
            self._draw_detail()

    @on(MapGrid.Chosen, "#maps-grid")
    def _channel_chosen(self, message: MapGrid.Chosen) -> None:
        if not self._has_channel(message.index):
            return
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
        failures = result.failures if result is not None else []
        self._typed_error = "" if valid or not failures else str(failures[0].description)
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
        picked = self.session.picked_image
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
            if kernel is not None:  # 3x3: a playground kernel, not one of conv1's
                field_.value = format_kernel(cast("Sequence[Sequence[float]]", kernel))
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


__all__ = ["ExploreScreen"]
