"""The picked image, large, beside what the network makes of it (the Predict screen's panel).

Images are drawn with textual-image: terminal graphics (the kitty protocol or Sixel) where
the terminal has them, coloured half blocks elsewhere; `h` on the Predict screen forces half
blocks (tmux and SSH often pass the graphics through badly).

textual-image asks the terminal about its graphics when it is imported, which costs up to
0.3 s on a terminal that does not answer and cannot work once Textual reads the keyboard.
So it is imported late (off the UI thread), told it is not on a terminal so it asks
nothing, and the kind of graphics is read from the environment instead: `CNN_TUI_GRAPHICS`
(tgp, sixel, halfcell) if set, else what TERM, TERM_PROGRAM and friends say.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cnn_tui.tui.errors import cannot_draw
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Container, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import PIL.Image
    from textual_image.widget import BaseImage

GRAPHICS = ("tgp", "sixel", "halfcell")
SIXEL_PROGRAMS = {"WezTerm", "iTerm.app", "mintty", "contour"}
SIXEL_TERMS = {"foot", "foot-extra", "mlterm", "yaft-256color", "contour"}
UPSCALE = 8  # 32x32 pixels become 256x256, kept sharp (nearest neighbour)
PICTURE_SIZE = 32 * UPSCALE  # a larger picture (an overlay already enlarged) stays as it is

_import_lock = threading.Lock()


def detect_graphics(env: Mapping[str, str] | None = None, is_tty: bool | None = None) -> str:
    """tgp, sixel or halfcell, from the environment alone (no terminal query)."""
    env = os.environ if env is None else env
    chosen = env.get("CNN_TUI_GRAPHICS", "").strip().lower()
    if chosen in GRAPHICS:
        return chosen
    if is_tty is None:
        is_tty = bool(sys.__stdout__ and sys.__stdout__.isatty())
    if not is_tty or env.get("TMUX") or env.get("STY"):
        return "halfcell"  # not a terminal, or tmux/screen between us and it
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID"):
        return "tgp"
    if program in SIXEL_PROGRAMS or term in SIXEL_TERMS or env.get("KONSOLE_VERSION"):
        return "sixel"
    return "halfcell"


class _NotATerminal:
    """sys.__stdout__ as textual-image sees it while importing: it asks the terminal nothing."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def load_textual_image() -> Any:
    """textual_image.widget, imported without terminal queries (call from a worker thread)."""
    loaded = sys.modules.get("textual_image.widget")
    if loaded is not None:
        return loaded
    with _import_lock:
        real = sys.__stdout__
        sys.__stdout__ = _NotATerminal(real) if real is not None else real  # type: ignore[misc, assignment]
        try:
            import textual_image.widget as widgets
        finally:
            sys.__stdout__ = real  # type: ignore[misc]
        _measure_cells()
    return widgets


def _measure_cells() -> None:
    """The terminal's cell size in pixels from the kernel (no query), for graphics scaling."""
    try:
        import fcntl
        import struct
        import termios

        from textual_image._terminal import CellSize, get_cell_size

        if sys.__stdout__ is None or not sys.__stdout__.isatty():
            return
        packed = fcntl.ioctl(sys.__stdout__.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        rows, columns, width, height = struct.unpack("HHHH", packed)
        if rows and columns and width and height:
            get_cell_size._result = CellSize(width // columns, height // rows)  # type: ignore[attr-defined]
    except Exception:  # the default cell size is a fine guess
        return


def widget_class(graphics: str) -> type[BaseImage]:
    widgets = load_textual_image()
    return {"tgp": widgets.TGPImage, "sixel": widgets.SixelImage}.get(
        graphics, widgets.HalfcellImage
    )


def to_picture(pixels: npt.ArrayLike) -> PIL.Image.Image:
    """A (32, 32, 3) uint8 array as a PIL image, enlarged with sharp pixels to about
    PICTURE_SIZE (a picture that large already is left as it is).

    Any other array is made one first: NaN becomes 0, values are clipped to 0..255.
    """
    import numpy as np
    from PIL import Image

    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.nan_to_num(pixels.astype(np.float64)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    scale = max(1, PICTURE_SIZE // max(image.width, image.height))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


class ProbabilityBars(Widget):
    """One line per class: name, a bar, the probability; the predicted class in bold."""

    DEFAULT_CSS = """
    ProbabilityBars {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.probabilities: dict[str, float] = {}
        self.true: str | None = None

    def show(self, probabilities: dict[str, float] | None, true: str | None = None) -> None:
        self.probabilities = dict(probabilities or {})
        self.true = true
        self.refresh(layout=True)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(len(self.probabilities), 0)

    def render(self) -> RenderResult:
        try:
            return self._bars()
        except Exception as error:  # one line in its place; the app goes on
            return cannot_draw("class bars", error)

    def _bars(self) -> RenderResult:
        if not self.probabilities:
            return ""
        width = max(self.size.width, 20)
        name_width = min(max(len(name) for name in self.probabilities), 10)
        bar_width = max(width - name_width - 9, 4)  # mark, name, space, bar, ' 100.0%'
        top = top_class(self.probabilities)
        colours = self.app.theme_variables
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, (name, p) in enumerate(self.probabilities.items()):
            mark = "*" if name == self.true else " "
            known = math.isfinite(p)  # a model whose output overflowed gives NaN: drawn as ?
            filled = min(max(p, 0.0), 1.0) * bar_width if known else 0.0
            full = int(filled)
            part = " ▏▎▍▌▋▊▉"[int((filled - full) * 8)] if full < bar_width else ""
            bar = ("█" * full + part.strip()).ljust(bar_width)
            style = "bold" if name == top else ""
            colour = colours.get("success" if name == top else "primary", "")
            text.append(mark, style="bold")
            text.append(f"{name[:name_width]:<{name_width}} ", style=style)
            text.append(bar, style=colour)
            text.append(f" {p * 100:5.1f}%" if known else "      ?", style=style)
            if index < len(self.probabilities) - 1:
                text.append("\n")
        return text


class PicturePanel(Vertical):
    """The picked image as large as the panel allows, its class bars and a one-line note.

    `show(...)` draws a new image and answer; `fail(...)` says why a file could not be used
    and keeps nothing of the previous picture on screen, so no answer is misread. Either
    posts Shown. `cover(...)` draws another picture of the same image in its place (the
    Grad-CAM overlay), with a caption, until the next image.
    """

    class Shown(Message):
        """The panel shows another image (or none): what covered the last one is gone."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.graphics = detect_graphics()
        self.force_halfcell = False
        self.pixels: npt.NDArray[np.uint8] | None = None  # (32, 32, 3), shown now
        self.covered_with: npt.NDArray[np.uint8] | None = None  # drawn instead of pixels
        self._image: BaseImage | None = None

    def compose(self) -> ComposeResult:
        yield Static("No image picked yet.", id="picture-title")
        yield Static("", id="picture-cover")
        with Container(id="picture-frame"):
            yield Static("", id="picture-empty")
        yield Static("", id="picture-verdict")
        yield ProbabilityBars(id="picture-bars")
        yield Static("", id="picture-note")

    @property
    def image_widget(self) -> BaseImage | None:
        """The textual-image widget now drawing the picture (None before the first)."""
        return self._image

    @property
    def mode(self) -> str:
        return "halfcell" if self.force_halfcell else self.graphics

    def show(
        self,
        pixels: npt.NDArray[np.uint8],
        title: str,
        probabilities: dict[str, float] | None,
        *,
        true: str | None = None,
        note: str = "",
    ) -> None:
        self.pixels = pixels
        self._drop_cover()
        self.query_one("#picture-title", Static).update(Text(title, no_wrap=True))
        self.query_one("#picture-note", Static).update(Text(note))
        self.query_one("#picture-note").set_class(False, "-error")
        self.query_one(ProbabilityBars).show(probabilities, true)
        self.query_one("#picture-verdict", Static).update(verdict(probabilities, true))
        self._draw()
        self.post_message(self.Shown())

    def fail(self, title: str, reason: str) -> None:
        self.pixels = None
        self._drop_cover()
        self.query_one("#picture-title", Static).update(Text(title, no_wrap=True))
        self.query_one("#picture-verdict", Static).update("")
        self.query_one(ProbabilityBars).show(None)
        note = self.query_one("#picture-note", Static)
        note.update(Text(reason))
        note.set_class(True, "-error")
        self._draw()
        self.post_message(self.Shown())

    def cover(self, picture: npt.NDArray[np.uint8] | None, caption: str = "") -> None:
        """Draw `picture` (of the image shown, e.g. with a heat map over it) in its place,
        or the image itself for None; the caption line says what is drawn (none: hidden)."""
        if self.pixels is None:
            picture, caption = None, ""
        self.covered_with = picture
        line = self.query_one("#picture-cover", Static)
        line.update(Text(caption))
        line.display = bool(caption)
        self._draw()

    def _drop_cover(self) -> None:
        self.covered_with = None
        self.query_one("#picture-cover", Static).display = False

    def drawn_with(self) -> str:
        """How images are drawn now, in a sentence for the user (after h)."""
        graphics = {"tgp": "kitty graphics", "sixel": "Sixel graphics"}.get(self.graphics)
        if self.force_halfcell:
            return "Images are drawn with half blocks (h: back to the terminal's best)."
        if graphics:
            return f"Images are drawn with {graphics} (h: half blocks, for tmux or SSH)."
        return (
            "This terminal gets half blocks anyway; CNN_TUI_GRAPHICS=sixel or tgp tries graphics."
        )

    def set_halfcell(self, force: bool) -> None:
        self.force_halfcell = force
        if self._image is not None:
            self._image.remove()
            self._image = None
        self._draw()

    def _draw(self) -> None:
        try:
            self._draw_picture()
        except Exception as error:  # one line in its place; the app goes on
            if self._image is not None:
                self._image.display = False
            empty = self.query_one("#picture-empty", Static)
            empty.update(cannot_draw("picture", error))
            empty.display = True

    def _draw_picture(self) -> None:
        empty = self.query_one("#picture-empty", Static)
        empty.update("")
        if self.pixels is None:
            if self._image is not None:
                self._image.display = False
            empty.display = True
            return
        empty.display = False
        shown = self.pixels if self.covered_with is None else self.covered_with
        picture = to_picture(shown)
        if self._image is None:
            self._image = widget_class(self.mode)(picture, classes="picture-image")
            self.query_one("#picture-frame").mount(self._image)
        else:
            self._image.image = picture
            self._image.display = True
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Make the image the largest square the frame holds (cells are about 1:2)."""
        if self._image is None:
            return
        frame = self.query_one("#picture-frame").content_size
        if frame.width <= 0 or frame.height <= 0:
            return
        from textual_image._terminal import get_cell_size

        cell = get_cell_size()
        ratio = cell.height / cell.width if cell.width else 2.0  # a cell's height in widths
        width = min(frame.width, int(frame.height * ratio))
        height = max(1, round(width / ratio))
        if (self._image.styles.width, self._image.styles.height) != (width, height):
            self._image.styles.width = width
            self._image.styles.height = height


def verdict(probabilities: dict[str, float] | None, true: str | None) -> Text:
    """`bird 93.1%` and, where the true class is known, whether that is right."""
    if not probabilities:
        return Text("")
    top = top_class(probabilities)
    p = probabilities[top]
    text = Text.assemble(("→ ", "dim"), (top, "bold"), f" {p:.1%}" if _number(p) else " ?")
    if true is not None:
        right = true == top
        text.append("  true ", style="dim")
        text.append(true, style="bold")
        text.append(" ✓" if right else " ✗", style="green" if right else "red bold")
    return text


def top_class(probabilities: dict[str, float]) -> str:
    """The most probable class; a NaN, infinite or missing probability never wins."""
    return max(probabilities, key=lambda name: p if _number(p := probabilities[name]) else -1.0)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
