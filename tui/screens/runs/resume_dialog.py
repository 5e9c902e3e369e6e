"""The question before a run resumes: here, in the app's training worker, or in the
background, in a process of its own (and, when a plain resume is refused, on what terms)."""

from __future__ import annotations

from cnn_tui.core.resume import ResumePlan, ResumeRefused
from cnn_tui.core.runs import RunSummary
from cnn_tui.tui.screens.mounting import DismissOnce
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ResumeScreen(DismissOnce, ModalScreen[str | None]):
    """Where to resume a run: here (the app's training worker) or in the background.

    When a plain resume is refused (no last.pt, other data), the dialog offers the choice
    that allows it (from best.pt, on the other data) and says what it costs; its buttons
    name that choice, so picking one is explicit.
    """

    BINDINGS = [
        Binding("h", "answer('here')", "Here", show=False),
        Binding("b", "answer('background')", "Background", show=False),
        Binding("escape", "answer(None)", "Cancel"),
    ]

    def __init__(
        self,
        run: RunSummary,
        here: str | None,
        plan: ResumePlan | None = None,
        refusals: list[ResumeRefused] | None = None,
    ) -> None:
        """here: None when the app can train it, else why it cannot (the button is off).
        plan: what the resume will do; refusals: what a plain resume would have met."""
        super().__init__()
        self.run = run
        self.why_not_here = here
        self.plan = plan
        self.refusals = refusals or []

    def question(self) -> str:
        run = self.run
        plan = self.plan
        planned = plan.config.epochs if plan else run.epochs_planned or "?"
        name = f"{run.model or 'the run'} ({run.name})"
        from_best = plan is not None and plan.request.from_best
        if from_best and plan is not None:
            cut = plan.describe_cut()
            lines = [
                f"{name} cannot resume from its last checkpoint: "
                + "; ".join(r.reason for r in self.refusals if r.fix == "from_best")
                + ".",
                f"Continue from best.pt (epoch {plan.best_epoch}) to epoch {planned} instead?"
                + (f" That {cut}." if cut else ""),
            ]
        else:
            lines = [
                f"Resume {name} after epoch {run.epochs_done} of {planned}, "
                "from its last checkpoint?"
            ]
        lines += [f"Other data: {r.reason}." for r in self.refusals if r.fix == "other_data"]
        lines.append(
            "Here: in this app, as the Train screen's run. In the background: a process of "
            "its own that goes on when the app quits."
        )
        if self.why_not_here:
            lines.append(f"(Not here: {self.why_not_here}.)")
        return "\n".join(lines)

    def compose(self) -> ComposeResult:
        choices = []
        if self.plan is not None and self.plan.request.from_best:
            choices.append("from best.pt")
        if self.plan is not None and self.plan.request.other_data:
            choices.append("on other data")
        how = f" {', '.join(choices)}" if choices else ""
        with Vertical(id="confirm-dialog", classes="resume-dialog"):
            yield Static(Text(self.question()), id="confirm-question")  # run names: no markup
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    f"Here{how} (h)",
                    variant="warning" if choices else "primary",
                    id="here",
                    compact=True,
                    disabled=bool(self.why_not_here),
                )
                yield Button(
                    f"In the background{how} (b)",
                    variant="warning" if choices else "primary",
                    id="background",
                    compact=True,
                )
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        # (none if the dialog was dismissed before it mounted)
        for button in self.query("#background" if self.why_not_here else "#here").results(Button):
            button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)

    def action_answer(self, answer: str | None) -> None:
        if answer == "here" and self.why_not_here:
            self.notify(f"Not here: {self.why_not_here}.", severity="warning")
            return
        self.dismiss(answer)
