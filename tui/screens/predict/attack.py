"""The attack view (`a` on the Predict screen): the chapter's second exercise on the picked
image. Side by side: the picture the model sees, the change the attack made (amplified to
be visible), and the adversarial picture, each read by the model.

The attack is core/attack.py's PGD through the session's `tricking`, in a thread worker;
the target class (`t` cycles, default: the class other than the one predicted) and the
budget eps (`+`/`-`, whole 8-bit levels from 1/255 to 32/255) start it again, and only the
last request's answer is drawn. The answer is judged as `cnn-tui attack` judges it: on the
8-bit picture. `s` writes it as a PNG into the current folder (never over a file cnn-tui
did not write) and says where.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.tui.errors import ReportsWorkerErrors, describe
from cnn_tui.tui.screens.base import AppScreen
from cnn_tui.tui.screens.mounting import DismissOnce
from cnn_tui.tui.session.errors import SessionError
from cnn_tui.tui.session.tricking import (
    DEFAULT_LEVELS,
    MAX_LEVELS,
    MIN_LEVELS,
    save_trick,
)
from cnn_tui.tui.widgets.picture import PicturePanel, load_textual_image, top_class
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from cnn_tui.tui.session.tricking import Trick
    from cnn_tui.tui.state import CurrentModel, PickedImage


class AttackScreen(ReportsWorkerErrors, DismissOnce, AppScreen):
    """Make the picked image read as another class, within a budget eps."""

    DEFAULT_CSS = """
    #attack-head, #attack-status { height: auto; max-height: 2; padding: 0 1; }
    #attack-status { color: $text-muted; }
    #attack-status.-error { color: $text-error; }
    #attack-panels { height: 1fr; }
    #attack-panels PicturePanel { width: 1fr; height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("t", "next_target", "Target", tooltip="Attack toward the next class"),
        Binding(
            "plus,equals_sign", "eps(1)", "eps+", tooltip="Budget eps up by 1/255 (at most 32/255)"
        ),
        Binding("minus", "eps(-1)", "eps-", tooltip="Budget eps down by 1/255 (at least 1/255)"),
        Binding("s", "save", "Save PNG", tooltip="Write the adversarial picture as a PNG"),
        Binding("h", "halfcell", "Half blocks", tooltip="Force half blocks (for tmux, SSH)"),
        Binding("escape", "close", "Back", tooltip="Back to the Predict screen"),
    ]
    COMMANDS_HELP = {
        "next_target": ("Attack: next target class", "Attack toward the next class (t)"),
        "save": ("Attack: save the PNG", "Write the adversarial picture as a PNG (s)"),
    }

    def __init__(
        self,
        picked: PickedImage,
        current: CurrentModel,
        classes: list[str],
        predicted: str,
        halfcell: bool = False,
    ) -> None:
        """classes: the model's, in its order; the first target is the class after
        `predicted` (the class the picture reads as now): the other one, of two.
        halfcell: draw with half blocks, as the Predict screen was told to (h)."""
        super().__init__(id="attack-screen")
        self.picked = picked
        self.current = current
        self.class_names = classes
        self.levels = DEFAULT_LEVELS
        self.halfcell = halfcell
        after = classes.index(predicted) + 1 if predicted in classes else 0
        self.target = classes[after % len(classes)]
        self.trick: Trick | None = None  # the last answer drawn
        self._asked = 0  # counts requests: only the last one's answer is drawn

    def compose(self) -> ComposeResult:
        yield Static("", id="attack-head")
        yield Static("", id="attack-status")
        with Horizontal(id="attack-panels"):
            yield PicturePanel(id="attack-seen")
            yield PicturePanel(id="attack-change")
            yield PicturePanel(id="attack-result")
        yield Footer()

    def on_mount(self) -> None:
        if self.halfcell:
            for panel in self.query(PicturePanel):
                panel.set_halfcell(True)
        self._ask()

    # -- keys ---------------------------------------------------------------------------

    def action_next_target(self) -> None:
        names = self.class_names
        self.target = names[(names.index(self.target) + 1) % len(names)]
        self._ask()

    def action_eps(self, step: int) -> None:
        levels = min(max(self.levels + step, MIN_LEVELS), MAX_LEVELS)
        if levels == self.levels:
            self.notify(f"eps stays within {MIN_LEVELS}/255 to {MAX_LEVELS}/255")
            return
        self.levels = levels
        self._ask()

    def action_save(self) -> None:
        trick = self.trick
        if trick is None or self._asked_for() != (trick.target, trick.levels):
            self.notify("the attack is still running: save once it is shown", severity="warning")
            return
        try:
            written = save_trick(trick, self.picked, Path.cwd())
        except SessionError as error:
            self._say(f"not written: {error}", error=True)
            return
        self._say(f"wrote {written.absolute()}")
        self.notify(f"wrote {written.absolute()}")

    def action_halfcell(self) -> None:
        for panel in self.query(PicturePanel):
            panel.set_halfcell(not panel.force_halfcell)

    def action_close(self) -> None:
        self.dismiss()

    # -- the attack, in a worker --------------------------------------------------------

    def _asked_for(self) -> tuple[str, int]:
        return self.target, self.levels

    def _ask(self) -> None:
        self._asked += 1
        eps = f"eps {self.levels}/255 = {self.levels / 255:.3f}"
        head = Text.assemble(
            ("Trick the model: ", "bold"),
            f"{self.picked.label} · target ",
            (self.target, "bold"),
            f" (t) · {eps} (+ -)",
        )
        self.query_one("#attack-head", Static).update(head)
        self._say(f"attacking toward {self.target} within {eps}...")
        self.run_worker(
            partial(self._job, self._asked, self.target, self.levels),
            thread=True,
            group="attack",
            exit_on_error=False,
        )

    def _job(self, asked: int, target: str, levels: int) -> None:
        load_textual_image()
        try:
            trick = self.session.tricking.attack(self.current, self.picked.pixels, target, levels)
        except SessionError as error:
            self._from_thread(self._failed, asked, str(error))
            return
        except Exception as error:  # one line on screen; the app carries on
            self._from_thread(self._failed, asked, describe(error))
            return
        self._from_thread(self.attacked, asked, trick)

    def _failed(self, asked: int, reason: str) -> None:
        if asked == self._asked:
            self._say(f"the attack failed: {reason}", error=True)

    def attacked(self, asked: int, trick: Trick) -> None:
        """Draw an attack's answer, unless a newer request was made meanwhile."""
        if asked != self._asked:
            return
        self.trick = trick
        original, adversarial = trick.original, trick.adversarial
        self.query_one("#attack-seen", PicturePanel).show(
            trick.original_pixels, "the picture", original.probabilities
        )
        change = f"change ×{trick.gain:.0f} (amplified)" if trick.moved else "no change"
        self.query_one("#attack-change", PicturePanel).show(
            trick.change,
            change,
            None,
            note=f"grey: unchanged; ±{trick.moved}/255 → full range" if trick.moved else "",
        )
        self.query_one("#attack-result", PicturePanel).show(
            trick.adversarial_pixels,
            "the result (8-bit)",
            adversarial.probabilities,
            note=f"target {trick.target}",
        )
        self._say(outcome(trick))

    def _say(self, message: str, error: bool = False) -> None:
        line = self.query_one("#attack-status", Static)
        line.update(Text(message))
        line.set_class(error, "-error")


def outcome(trick: Trick) -> str:
    """What happened, in one line, as `cnn-tui attack` says it."""
    moved = f"no pixel moved more than {trick.moved}/255"
    target, adversarial = trick.target, trick.adversarial
    if trick.original.label == target:
        return f"already read as {target}: nothing to change (s writes it as it is)"
    if trick.success:
        return (
            f"fooled: it now reads as {target} ({adversarial.probabilities[target]:.1%}) "
            f"after {trick.steps} step{'' if trick.steps == 1 else 's'}; {moved} · s saves"
        )
    top = top_class(adversarial.probabilities)
    return (
        f"not fooled within {trick.levels}/255: the best attempt still reads as {top} "
        f"({target} {adversarial.probabilities[target]:.1%}); + tries a larger eps"
    )
