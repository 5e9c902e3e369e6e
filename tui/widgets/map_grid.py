"""A grid of many small maps (a layer's channels, the learned filters), one selected.

Apart from heatmap.py's single picture because the grid adds layout, selection and keys;
its tiles are drawn with the same half-block colours (heatmap's to_colours, resample and
half_block_lines), so nothing here imports torch or numpy either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cnn_tui.tui.widgets.heatmap import half_block_lines, resample, to_colours
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget


def grid_layout(
    count: int,
    h: int,
    w: int,
    width: int,
    height: int,
    *,
    gap: int = 1,
    label_rows: int = 1,
    max_scale: int = 4,
) -> tuple[int, int, int]:
    """(columns, pixel rows, pixel columns) of the largest tiles that fit count maps.

    Tiles shrink (area average) as far as needed; they grow only by whole factors up to
    max_scale, so every source pixel keeps the same size.
    """
    if count <= 0 or h <= 0 or w <= 0 or width <= 0 or height <= 0:
        return 1, 0, 0
    for pw in range(min(w * max_scale, width), 0, -1):
        if pw > w and pw % w:
            continue
        ph = max(1, round(pw * h / w))
        cell_rows = (ph + 1) // 2 + label_rows
        fit_rows = height // cell_rows
        fit_cols = (width + gap) // (pw + gap)
        if fit_rows >= 1 and fit_cols >= 1 and fit_rows * fit_cols >= count:
            cols = min(fit_cols, count)
            # As few columns as keep the row count (a squarer grid reads better).
            rows = math.ceil(count / cols)
            cols = math.ceil(count / rows)
            return cols, ph, pw
    return min(count, max(1, (width + gap) // (1 + gap))), 1, 1


class MapGrid(Widget, can_focus=True):
    """Many small maps (or RGB tiles) in a grid, one of them selected; arrows move it.

    Each map is stretched over its own range (or one shared range), labelled beneath with
    its number; the selected label is highlighted. Enter or a click chooses.
    """

    DEFAULT_CSS = """
    MapGrid {
        width: 1fr;
        height: 1fr;
    }
    MapGrid > .mapgrid--label {
        color: $text-muted;
    }
    MapGrid > .mapgrid--selected {
        color: $text;
        background: $accent 40%;
        text-style: bold;
    }
    MapGrid:focus > .mapgrid--selected {
        background: $accent;
        color: $text;
    }
    """
    COMPONENT_CLASSES = {"mapgrid--label", "mapgrid--selected"}
    BINDINGS = [
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("home", "go(0)", "First", show=False),
        Binding("end", "go(-1)", "Last", show=False),
        Binding("enter", "choose", "Choose", show=False),
    ]

    selected: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The selection moved to another map."""

        def __init__(self, grid: MapGrid, index: int) -> None:
            super().__init__()
            self.grid = grid
            self.index = index

        @property
        def control(self) -> MapGrid:
            return self.grid

    class Chosen(Highlighted):
        """Enter or a click on a map."""

    def __init__(
        self,
        *,
        max_scale: int = 4,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_scale = max_scale
        self._maps: list[Sequence[Sequence]] = []
        self._ranges: list[tuple[float, float]] | None = None
        self._labels: list[str] = []
        self._lines: list[list[Segment]] = []
        self._layout: tuple[int, int, int] = (1, 0, 0)
        self._drawn_for: tuple | None = None

    def show(
        self,
        maps: Sequence[Sequence[Sequence]],
        *,
        ranges: list[tuple[float, float]] | None = None,
        labels: list[str] | None = None,
        selected: int | None = None,
    ) -> None:
        """Draw these maps; ranges: one (lo, hi) per map (default: each map's own)."""
        self._maps = list(maps)
        self._ranges = ranges
        self._labels = labels or [str(i) for i in range(len(maps))]
        if selected is not None:
            self.set_reactive(MapGrid.selected, max(0, min(selected, len(maps) - 1)))
        elif self.selected >= len(maps):
            self.set_reactive(MapGrid.selected, 0)
        self._drawn_for = None
        self.refresh()

    @property
    def count(self) -> int:
        return len(self._maps)

    @property
    def layout_now(self) -> tuple[int, int, int]:
        """(columns, pixel rows, pixel columns) at the widget's present size."""
        self._prepare()
        return self._layout

    def watch_selected(self, old: int, new: int) -> None:
        self._drawn_for = None
        self.refresh()
        if old != new:
            self.post_message(self.Highlighted(self, new))

    def _prepare(self) -> None:
        key = (self.size.width, self.size.height, self.selected, self.has_focus)
        if self._drawn_for == key:
            return
        self._drawn_for = key
        self._lines = []
        if not self._maps:
            return
        h, w = len(self._maps[0]), len(self._maps[0][0])
        cols, ph, pw = grid_layout(
            len(self._maps), h, w, self.size.width, self.size.height, max_scale=self.max_scale
        )
        self._layout = (cols, ph, pw)
        label_style = self.get_component_rich_style("mapgrid--label")
        selected_style = self.get_component_rich_style("mapgrid--selected")
        base = self.rich_style
        gap = Segment(" ", base)
        tiles = []
        for index, grid in enumerate(self._maps):
            lo, hi = self._ranges[index] if self._ranges else (None, None)
            tiles.append(half_block_lines(resample(to_colours(grid, lo, hi), ph, pw)))
        tile_rows = (ph + 1) // 2
        for start in range(0, len(tiles), cols):
            row = tiles[start : start + cols]
            for line in range(tile_rows):
                segments: list[Segment] = []
                for k, tile in enumerate(row):
                    if k:
                        segments.append(gap)
                    segments.extend(tile[line])
                self._lines.append(segments)
            labels: list[Segment] = []
            for k in range(len(row)):
                index = start + k
                if k:
                    labels.append(gap)
                text = self._labels[index][: pw if pw > 1 else 2].center(pw)
                style = selected_style if index == self.selected else label_style
                labels.append(Segment(text, style))
            self._lines.append(labels)

    def render_line(self, y: int) -> Strip:
        self._prepare()
        width = self.size.width
        base = self.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, base)
        strip = Strip(self._lines[y])
        if base.bgcolor is not None:
            strip = strip.apply_style(Style(bgcolor=base.bgcolor))
        return strip.extend_cell_length(width, base).crop(0, width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._lines))

    def index_at(self, x: int, y: int) -> int | None:
        """The map under content offset (x, y), if any."""
        cols, ph, pw = self.layout_now
        if not pw:
            return None
        cell_rows = (ph + 1) // 2 + 1
        col, within = divmod(x, pw + 1)
        if within >= pw or col >= cols:
            return None
        index = (y // cell_rows) * cols + col
        return index if index < len(self._maps) else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.index_at(offset.x, offset.y)
        if index is not None:
            self.selected = index
            self.post_message(self.Chosen(self, index))

    def action_move(self, dx: int, dy: int) -> None:
        if not self._maps:
            return
        cols = self.layout_now[0]
        index = self.selected + dx + dy * cols
        if 0 <= index < len(self._maps):
            self.selected = index

    def action_go(self, index: int) -> None:
        if self._maps:
            self.selected = index % len(self._maps)

    def action_choose(self) -> None:
        if self._maps:
            self.post_message(self.Chosen(self, self.selected))


__all__ = ["MapGrid", "grid_layout"]
