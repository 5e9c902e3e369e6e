"""Small pictures in text cells: heat maps of feature maps and RGB tiles, by half blocks.

Each terminal cell shows two pixels stacked: the upper half block "▀" drawn in the upper
pixel's colour on a background of the lower pixel's colour. So a 32x32 map takes 32
columns and 16 rows, and pixels stay square on the usual 1:2 cell. Values become colours
through viridis (perceptually uniform, readable in colour-blind vision and in grey),
stretched between the map's smallest and largest value (or a range given).

The data are plain nested lists (rows of floats, or rows of (r, g, b) tuples): the screen
converts tensors in its worker thread, so nothing here imports torch or numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

Grid = Sequence[Sequence[float]]  # rows of values
RGB = tuple[int, int, int]

# viridis at 0, 1/8, ..., 1 (matplotlib's), interpolated linearly in between.
_VIRIDIS_ANCHORS: list[RGB] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2C, 0x7A),
    (0x3B, 0x51, 0x8B),
    (0x2C, 0x71, 0x8E),
    (0x21, 0x90, 0x8D),
    (0x27, 0xAD, 0x81),
    (0x5C, 0xC8, 0x63),
    (0xAA, 0xDC, 0x32),
    (0xFD, 0xE7, 0x25),
]
HALF = "▀"


def _build_lut(steps: int = 256) -> list[RGB]:
    lut = []
    last = len(_VIRIDIS_ANCHORS) - 1
    for i in range(steps):
        t = i / (steps - 1) * last
        k = min(int(t), last - 1)
        f = t - k
        a, b = _VIRIDIS_ANCHORS[k], _VIRIDIS_ANCHORS[k + 1]
        red, green, blue = (round(a[c] + (b[c] - a[c]) * f) for c in range(3))
        lut.append((red, green, blue))
    return lut


VIRIDIS: list[RGB] = _build_lut()


def colour_of(value: float, lo: float, hi: float) -> RGB:
    """The viridis colour of value on the scale lo..hi (lo and NaN: the darkest)."""
    if not hi > lo or value != value:
        return VIRIDIS[0]
    t = (value - lo) / (hi - lo)
    return VIRIDIS[max(0, min(255, int(t * 255 + 0.5)))]


@lru_cache(maxsize=8192)
def _style(top: RGB, bottom: RGB | None) -> Style:
    return Style(
        color=Color.from_rgb(*top),
        bgcolor=Color.from_rgb(*bottom) if bottom is not None else None,
    )


def value_range(grid: Grid) -> tuple[float, float]:
    values = [v for row in grid for v in row if v == v]
    if not values:
        return 0.0, 0.0
    return min(values), max(values)


def resample(grid: Sequence[Sequence], out_h: int, out_w: int) -> list[list]:
    """grid (rows of floats or of RGB tuples) at out_h x out_w pixels.

    Shrinking averages the source pixels each new pixel covers (no aliasing of thin
    edges); growing repeats pixels (nearest), so values stay the computed ones.
    """
    h, w = len(grid), len(grid[0]) if grid else 0
    if h == 0 or w == 0 or out_h <= 0 or out_w <= 0:
        return []
    if (out_h, out_w) == (h, w):
        return [list(row) for row in grid]

    def spans(n_in: int, n_out: int) -> list[tuple[int, int]]:
        if n_out >= n_in:
            return [(i * n_in // n_out, i * n_in // n_out + 1) for i in range(n_out)]
        out = []
        for i in range(n_out):
            a = i * n_in // n_out
            b = max((i + 1) * n_in // n_out, a + 1)
            out.append((a, b))
        return out

    rows, cols = spans(h, out_h), spans(w, out_w)
    rgb = isinstance(grid[0][0], tuple | list)
    result = []
    for r0, r1 in rows:
        line = []
        for c0, c1 in cols:
            if r1 - r0 == 1 and c1 - c0 == 1:
                line.append(grid[r0][c0])
                continue
            cells = [grid[r][c] for r in range(r0, r1) for c in range(c0, c1)]
            if rgb:
                line.append(tuple(round(sum(p[k] for p in cells) / len(cells)) for k in range(3)))
            else:
                line.append(sum(cells) / len(cells))
        result.append(line)
    return result


def to_colours(grid: Sequence[Sequence], lo: float | None = None, hi: float | None = None):
    """Rows of RGB: value grids through viridis (lo..hi, default the grid's own range)."""
    if grid and grid[0] and isinstance(grid[0][0], tuple | list):
        return [[tuple(p) for p in row] for row in grid]
    if lo is None or hi is None:
        found = value_range(grid)
        lo = found[0] if lo is None else lo
        hi = found[1] if hi is None else hi
    return [[colour_of(v, lo, hi) for v in row] for row in grid]


def half_block_lines(colours: Sequence[Sequence[RGB]]) -> list[list[Segment]]:
    """Rows of RGB pixels -> lines of half-block segments (two pixel rows per line)."""
    lines = []
    for y in range(0, len(colours), 2):
        top = colours[y]
        bottom = colours[y + 1] if y + 1 < len(colours) else None
        segments = []
        for x, colour in enumerate(top):
            segments.append(Segment(HALF, _style(colour, bottom[x] if bottom else None)))
        lines.append(segments)
    return lines


def fitted_size(h: int, w: int, width: int, height: int, reference: tuple[int, int] | None):
    """Pixel size (ph, pw) of an h x w map drawn in width x height cells.

    Scaled by one factor so that `reference` (default the map itself) fits; with a
    reference, maps of different sizes keep their relative size (32x32 and 16x16 side by
    side look it).
    """
    rh, rw = reference or (h, w)
    if rh <= 0 or rw <= 0 or width <= 0 or height <= 0:
        return 0, 0
    scale = min(width / rw, 2 * height / rh)
    if scale >= 1:
        scale = math.floor(scale * 4) / 4  # quarter steps: pixels grow evenly enough
    ph = max(1, min(2 * height, int(h * scale)))
    pw = max(1, min(width, int(w * scale)))
    return ph, pw


def colour_bar(lo: float, hi: float, width: int = 16, digits: int = 3) -> Text:
    """'lo ████████ hi': the colour scale with its two ends' values."""
    text = Text(f"{lo:.{digits}g} ")
    for i in range(max(2, width)):
        rgb = VIRIDIS[round(i / (max(2, width) - 1) * 255)]
        text.append(" ", Style(bgcolor=Color.from_rgb(*rgb)))
    text.append(f" {hi:.{digits}g}")
    return text


class HeatMap(Widget):
    """One map (values through viridis, or RGB pixels) fitted into the widget, centred."""

    DEFAULT_CSS = """
    HeatMap {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(
        self,
        *,
        reference: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.reference = reference
        self._grid: Sequence[Sequence] = []
        self._range: tuple[float | None, float | None] = (None, None)
        self._lines: list[list[Segment]] = []
        self._drawn_for: tuple | None = None

    def show(
        self,
        grid: Sequence[Sequence],
        lo: float | None = None,
        hi: float | None = None,
        reference: tuple[int, int] | None = None,
    ) -> None:
        """Draw this grid (rows of floats, or rows of RGB tuples) from now on."""
        self._grid = grid
        self._range = (lo, hi)
        if reference is not None:
            self.reference = reference
        self._drawn_for = None
        self.refresh()

    def clear(self) -> None:
        self.show([])

    @property
    def pixel_size(self) -> tuple[int, int]:
        """The (rows, columns) of pixels the map is drawn at now."""
        if not self._grid:
            return 0, 0
        h, w = len(self._grid), len(self._grid[0])
        return fitted_size(h, w, self.size.width, self.size.height, self.reference)

    def _prepare(self) -> None:
        key = (self.size.width, self.size.height)
        if self._drawn_for == key:
            return
        self._drawn_for = key
        self._lines = []
        ph, pw = self.pixel_size
        if ph and pw:
            colours = to_colours(self._grid, *self._range)
            self._lines = half_block_lines(resample(colours, ph, pw))

    def render_line(self, y: int) -> Strip:
        self._prepare()
        width = self.size.width
        base = self.rich_style
        top = (self.size.height - len(self._lines)) // 2
        index = y - top
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        segments = self._lines[index]
        left = max(0, (width - len(segments)) // 2)
        parts = [Segment(" " * left, base)] if left else []
        parts.extend(segments)
        right = width - left - len(segments)
        if right > 0:
            parts.append(Segment(" " * right, base))
        bg = base.bgcolor
        strip = Strip(parts)
        if bg is not None:
            strip = strip.apply_style(Style(bgcolor=bg))  # under odd rows' missing half
        return strip.crop(0, width)


__all__ = [
    "VIRIDIS",
    "HeatMap",
    "colour_bar",
    "colour_of",
    "fitted_size",
    "half_block_lines",
    "resample",
    "to_colours",
]
