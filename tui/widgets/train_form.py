"""The training form: model, data, preset and the numbers, refused at the field when wrong.

The form knows nothing of training; it turns what the user typed into a validated
core.config.TrainConfig, using core.config's own checks so the app and the CLI refuse the
same values with the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnn_tui.core.architecture import BOOK_NET, Architecture
from cnn_tui.core.config import (
    DATASETS,
    OPTIMIZERS,
    PRESETS,
    ConfigError,
    TrainConfig,
    check_batch_size,
    check_epochs,
    check_lr,
    preset_config,
)
from cnn_tui.core.registry import MODELS
from cnn_tui.tui.widgets.train_text import FittedText
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Checkbox, Input, Label, Select, Static

NUMBER_FIELDS = ("epochs", "lr", "batch_size")
LAB_HELP = "the book's Net, reshaped in the Model screen's Lab:"


class CoreCheck(Validator):
    """Wraps one of core.config's check_* functions as a Textual validator."""

    def __init__(self, check: Callable[[Any], Any]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(value.strip())
        except ConfigError as error:
            return self.failure(str(error))
        return self.success()


def format_lr(lr: float) -> str:
    return f"{lr:g}"


class TrainForm(VerticalScroll, can_focus=False):
    """The Train screen's settings; `config()` gives a TrainConfig or None with reasons shown."""

    class PresetApplied(Message):
        """A preset filled the fields."""

    def __init__(
        self,
        initial: TrainConfig,
        source: str,
        *,
        folder: str | None = None,
        id: str | None = None,
    ) -> None:
        """source: what training would read, in words; folder: the data folder named in
        it (shortened from the left where the form is narrow)."""
        super().__init__(id=id)
        self.initial = initial
        self.source = source
        self.folder = folder
        self._model = initial.model
        self._preset = initial.preset if initial.preset in PRESETS else "book"
        self.architecture = initial.architecture  # net's, from the Model screen's Lab

    def compose(self) -> ComposeResult:
        config = self.initial
        with Horizontal(classes="field"):
            yield Label("model", classes="field-label")
            yield Select(
                [(name, name) for name in MODELS],
                value=config.model,
                allow_blank=False,
                compact=True,
                id="model",
            )
        yield FittedText(MODELS.get(config.model, ""), id="model-help", classes="field-help")
        yield Static("", id="architecture", classes="field-arch")
        with Horizontal(classes="field section"):
            yield Label("data set", classes="field-label")
            yield Select(
                [(name, name) for name in DATASETS],
                value=config.dataset,
                allow_blank=False,
                compact=True,
                id="dataset",
            )
        yield FittedText(self.source, path=self.folder, id="source", classes="field-help")
        with Horizontal(classes="field section"):
            yield Label("preset", classes="field-label")
            yield Select(
                [(name, name) for name in PRESETS],
                value=self._preset,
                allow_blank=False,
                compact=True,
                id="preset",
            )
        for name, label, value, check in (
            ("epochs", "epochs", str(config.epochs), check_epochs),
            ("lr", "learn rate", format_lr(config.lr), check_lr),
            ("batch_size", "batch size", str(config.batch_size), check_batch_size),
        ):
            with Horizontal(classes="field"):
                yield Label(label, classes="field-label")
                yield Input(
                    value,
                    validators=[CoreCheck(check)],
                    validate_on=["changed", "submitted", "blur"],
                    compact=True,
                    id=name,
                    select_on_focus=True,
                )
            yield Static("", id=f"{name}-error", classes="field-error")
        with Horizontal(classes="field"):
            yield Label("optimizer", classes="field-label")
            yield Select(
                [(name, name) for name in OPTIMIZERS],
                value=config.optimizer,
                allow_blank=False,
                compact=True,
                id="optimizer",
            )
        with Horizontal(classes="field"):
            yield Label("augment", classes="field-label")
            yield Checkbox("random flips", config.augment, compact=True, id="augment")

    def on_mount(self) -> None:
        self._show_architecture()
        for name in NUMBER_FIELDS:
            field = self.query_one(f"#{name}", Input)
            self._show_error(name, field.validate(field.value))

    # -- reading and filling ------------------------------------------------------------

    def _show_error(self, name: str, result: ValidationResult | None) -> None:
        error = self.query_one(f"#{name}-error", Static)
        reasons = result.failure_descriptions if result is not None else []
        error.update(Text(reasons[0]) if reasons else "")  # the value as typed: no markup
        error.set_class(bool(reasons), "-shown")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in NUMBER_FIELDS:
            self._show_error(event.input.id, event.validation_result)

    @on(Select.Changed, "#preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        # Select also reports its first value when it mounts: only a change fills the form.
        if isinstance(event.value, str) and event.value != self._preset:
            self.apply_preset(event.value)

    @on(Select.Changed, "#model")
    def _model_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str) or event.value == self._model:
            return
        previous, self._model = self._model, event.value
        if event.value != "net":
            self.architecture = None  # another model: its own shapes
        self._show_architecture()  # (and the model's description)
        # The book trains NetResDeep with a smaller learning rate: follow the preset's lr
        # when the field still holds the preset's value for the previous model.
        field = self.query_one("#lr", Input)
        if field.value.strip() == format_lr(preset_config(self._preset, model=previous).lr):
            field.value = format_lr(preset_config(self._preset, model=event.value).lr)

    def apply_preset(self, name: str) -> None:
        """Fill the numbers, optimizer and augmentation from a preset of core.config."""
        self._preset = name
        config = preset_config(name, model=self._model)
        self.query_one("#epochs", Input).value = str(config.epochs)
        self.query_one("#lr", Input).value = format_lr(config.lr)
        self.query_one("#batch_size", Input).value = str(config.batch_size)
        self.query_one("#optimizer", Select).value = config.optimizer
        self.query_one("#augment", Checkbox).value = config.augment
        preset = self.query_one("#preset", Select)
        if preset.value != name:
            preset.value = name
        self.post_message(self.PresetApplied())

    def set_architecture(self, architecture: Architecture | None) -> None:
        """Train this member of the Net family (the model becomes net); None: the book's."""
        self.architecture = None if architecture == BOOK_NET else architecture
        if self.architecture is not None:
            self.query_one("#model", Select).value = "net"
        self._show_architecture()

    def _show_architecture(self) -> None:
        """The architecture in words under the model's description, while there is one."""
        line = self.query_one("#architecture", Static)
        line.display = self.architecture is not None
        if self.architecture is None:
            self.query_one("#model-help", FittedText).set_text(MODELS.get(self._model, ""))
        else:
            self.query_one("#model-help", FittedText).set_text(LAB_HELP)
            line.update(
                Text.assemble(
                    (self.architecture.describe(), "bold"), ("\nn: back to the book's Net", "dim")
                )
            )
        self.screen.refresh_bindings()  # (the Train screen's n)

    def set_source(self, text: str, folder: str | None = None) -> None:
        self.source, self.folder = text, folder
        self.query_one("#source", FittedText).set_text(text, folder)

    # The full text of a shortened help line while its field has the focus (the tooltip
    # shows it to the mouse).
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._expand_help()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.call_after_refresh(self._expand_help)  # the focus has moved on by then

    def _expand_help(self) -> None:
        focused = self.screen.focused
        for field, help_id in (("#model", "#model-help"), ("#dataset", "#source")):
            within = focused is not None and focused in self.query_one(field).walk_children(
                with_self=True
            )
            self.query_one(help_id, FittedText).expanded = within

    def errors(self) -> dict[str, str]:
        """Check every number field now; show and return the reasons of those refused."""
        found = {}
        for name in NUMBER_FIELDS:
            field = self.query_one(f"#{name}", Input)
            result = field.validate(field.value)
            self._show_error(name, result)
            if result is not None and not result.is_valid:
                found[name] = result.failure_descriptions[0]
        return found

    def config(self, data_dir: str | None) -> TrainConfig | None:
        """The config the form describes, or None (the reasons are shown at the fields)."""
        if self.errors():
            return None
        model = str(self.query_one("#model", Select).value)
        preset = str(self.query_one("#preset", Select).value)
        base = preset_config(preset, model=model)
        values = {
            "epochs": check_epochs(self.query_one("#epochs", Input).value.strip()),
            "lr": check_lr(self.query_one("#lr", Input).value.strip()),
            "batch_size": check_batch_size(self.query_one("#batch_size", Input).value.strip()),
            "optimizer": str(self.query_one("#optimizer", Select).value),
            "augment": bool(self.query_one("#augment", Checkbox).value),
        }
        edited = any(getattr(base, key) != value for key, value in values.items())
        return base.with_changes(
            **values,
            architecture=self.architecture if model == "net" else None,
            dataset=str(self.query_one("#dataset", Select).value),
            data_dir=data_dir,
            preset="custom" if edited else preset,
        )
