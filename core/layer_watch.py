"""Measuring inside a training run (issue 12 part 4): each layer's weight and gradient norms
and update-to-weight ratio, each activation's saturation, the weights' histograms and the
machine beside the model, per epoch (the records are core/layer_stats.py's).

What it reads is what the run already computes. Hooks on the run's own optimizer
instance, around its step, read the weights and their gradients: the norms of a step are
a handful of foreach calls whose results are added to sums on the device, so a step waits
on no copy to the host; the sums are read once an epoch. The first step of an epoch and
every `every`-th after it are measured (the others cost nothing). Forward hooks on the
activation modules, armed for the epoch's validation pass (eval mode), count the saturated
outputs of its first SATURATION_IMAGES images, a fixed batch, with no forward pass of their
own; the model runs as it trains (with `pool_first`, an activation before a pool sees the
pooled values, which saturate alike). Every hook is removed when the run ends (close), and
the forward hooks when the epoch ends.

A failure inside the measuring never ends a run: the watch says so once (warn), removes its
hooks, and the run goes on without figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .layer_stats import Histogram, LayerStats, MachineStats
from .machine_watch import MachineWatch

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .events import Event
    from .restore import Trainee

MEASURE_EVERY = 4  # a step in this many has its gradient and update measured (cost: 3%)
HISTOGRAM_BINS = 32
SATURATION_IMAGES = 256  # the fixed validation batch: the first images of the split
TANH_SATURATED = 0.99  # |tanh(x)| above this: its gradient, 1 - y^2, is below 2%


@dataclass(frozen=True)
class Inside:
    """What an epoch's end has measured; all None when nothing was (measuring off, or it
    failed)."""

    layers: dict[str, LayerStats] | None = None
    histograms: dict[str, Histogram] | None = None
    machine: MachineStats | None = None


def weighted_modules(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """(name, weight) of each module with a weight of its own, in the model's order."""
    found = []
    for name, module in model.named_modules():
        own = dict(module.named_parameters(recurse=False))
        if name and "weight" in own:
            found.append((name, own["weight"]))
    return found


def activation_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of each tanh and ReLU module, in the model's order."""
    from torch import nn

    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Tanh, nn.ReLU))]


def kind_of(activation: nn.Module) -> str:
    """ "tanh" or "relu": which rule counts (and flags) the module's saturated outputs."""
    from torch import nn

    return "tanh" if isinstance(activation, nn.Tanh) else "relu"


def saturated_count(module: nn.Module, output: torch.Tensor) -> torch.Tensor:
    """How many of an activation's outputs are saturated: |tanh| > TANH_SATURATED, or a
    ReLU's exact 0 (a unit that passes no gradient for that input)."""
    from torch import nn

    if isinstance(module, nn.Tanh):
        return (output.abs() > TANH_SATURATED).sum()
    return (output == 0).sum()


class SaturationCounter:
    """Forward hooks on the activations that count, while armed, the saturated outputs of
    the first SATURATION_IMAGES images that pass (the validation pass's, in its order)."""

    def __init__(self, activations: list[tuple[str, nn.Module]]) -> None:
        self.activations = activations
        self._handles: list[Any] = []
        self._counts: dict[str, list[torch.Tensor]] = {}
        self._sizes: dict[str, int] = {}
        self._images: dict[str, int] = {}

    def arm(self, fail: Callable[[BaseException], None]) -> None:
        self.disarm()
        self._counts = {name: [] for name, _ in self.activations}
        self._sizes = dict.fromkeys(self._counts, 0)
        self._images = dict.fromkeys(self._counts, 0)
        self._handles = [
            module.register_forward_hook(self._hook_for(name, fail))
            for name, module in self.activations
        ]

    def disarm(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook_for(
        self, name: str, fail: Callable[[BaseException], None]
    ) -> Callable[[nn.Module, Any, torch.Tensor], None]:
        def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            try:
                left = SATURATION_IMAGES - self._images[name]
                if left > 0 and not module.training:
                    part = output[:left]
                    self._counts[name].append(saturated_count(module, part))
                    self._sizes[name] += part.numel()
                    self._images[name] += len(part)
            except Exception as error:
                fail(error)

        return hook

    def shares(self) -> dict[str, float]:
        """Each activation's share of saturated outputs since arm (one copy to the host);
        disarms."""
        import torch

        self.disarm()
        summed = {name: torch.stack(c).sum() for name, c in self._counts.items() if c}
        self._counts = {}
        if not summed:
            return {}
        values = torch.stack(list(summed.values())).tolist()
        return {
            name: value / self._sizes[name]
            for name, value in zip(summed, values, strict=True)
            if self._sizes[name]
        }


class LayerWatch:
    """Measures one run's model (its optimizer's steps, its epochs' ends) on its device."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        warn: Callable[[str], None],
        every: int = 1,
    ) -> None:
        import torch

        self.model, self.warn, self.every = model, warn, max(every, 1)
        named = weighted_modules(model)
        self.weight_names = [name for name, _ in named]
        self.weights = [weight.detach() for _, weight in named]  # views: they follow the steps
        self.params = [weight for _, weight in named]  # for their .grad
        self.activations = activation_modules(model)
        self.saturation = SaturationCounter(self.activations)
        self.machine = MachineWatch(device)
        self._before = [weight.clone() for weight in self.weights]
        self._grad_sum = torch.zeros(len(self.weights), device=device)
        self._ratio_sum = torch.zeros(len(self.weights), device=device)
        self._measured = 0  # steps measured this epoch
        self._step = 0
        self.failed = False
        self._handles = [
            optimizer.register_step_pre_hook(self._before_step),
            optimizer.register_step_post_hook(self._after_step),
        ]

    def close(self) -> None:
        """Remove the hooks: the optimizer steps as if never watched."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.saturation.disarm()

    def before_validation(self) -> None:
        """Count the activations' saturated outputs in the validation pass that follows."""
        if self.failed:
            return
        try:
            self.saturation.arm(self._fail)
        except Exception as error:
            self._fail(error)

    def _fail(self, error: BaseException) -> None:
        """Stop measuring, say so once; the run goes on."""
        if not self.failed:
            self.failed = True
            self.close()
            self.warn(f"layer stats stopped ({type(error).__name__}: {error}); training goes on")

    def _measures(self) -> bool:
        return self._step % self.every == 0

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """Keep the weights as they are before a measured step (for its update)."""
        try:
            if self._measures():
                import torch

                with torch.no_grad():
                    torch._foreach_copy_(self._before, self.weights)
        except Exception as error:
            self._fail(error)

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """Add a measured step's gradient norms and update ratios to the epoch's sums."""
        try:
            if self._measures():
                self._add_step()
            self._step += 1
        except Exception as error:
            self._fail(error)

    def _add_step(self) -> None:
        import torch

        grads = [param.grad for param in self.params]
        if any(grad is None for grad in grads):
            return  # a layer that took no part in this step's loss
        with torch.no_grad():
            self._grad_sum += torch.stack(torch._foreach_norm(grads))  # type: ignore[arg-type]
            before = torch.stack(torch._foreach_norm(self._before))
            torch._foreach_sub_(self._before, self.weights)  # minus the update, in place
            update = torch.stack(torch._foreach_norm(self._before))
            self._ratio_sum += update / before.clamp_min(1e-12)
        self._measured += 1

    def epoch_end(self) -> Inside:
        """The epoch's figures (the step sums read and restarted), or an empty Inside when
        measuring has failed (now or before) or the model has no weights."""
        if self.failed or not self.weights:
            return Inside()
        try:
            return Inside(self._layers(), self._histograms(), self.machine.epoch_reading())
        except Exception as error:
            self._fail(error)
            return Inside()

    def live_machine(self) -> MachineStats | None:
        """The machine now, at most once a second (for Progress); None between, or failed."""
        if self.failed:
            return None
        try:
            return self.machine.live_reading()
        except Exception as error:
            self._fail(error)
            return None

    def _layers(self) -> dict[str, LayerStats]:
        import torch

        with torch.no_grad():
            norms = torch.stack(torch._foreach_norm(self.weights)).tolist()
            steps = max(self._measured, 1)
            grads = (self._grad_sum / steps).tolist() if self._measured else None
            ratios = (self._ratio_sum / steps).tolist() if self._measured else None
            self._grad_sum.zero_()
            self._ratio_sum.zero_()
        self._measured = self._step = 0  # each epoch's first step is measured
        figures = {
            name: LayerStats(
                weight_norm=norms[i],
                grad_norm=grads[i] if grads else None,
                update_ratio=ratios[i] if ratios else None,
            )
            for i, name in enumerate(self.weight_names)
        }
        saturation = self.saturation.shares()
        for name, module in self.activations:
            figures[name] = LayerStats(saturated=saturation.get(name), activation=kind_of(module))
        order = [name for name, _ in self.model.named_modules() if name in figures]
        return {name: figures[name] for name in order}

    def _histograms(self) -> dict[str, Histogram]:
        """Each weight's values in HISTOGRAM_BINS equal bins from its lowest to its highest."""
        import torch

        with torch.no_grad():
            ranges = torch.stack([torch.stack(torch.aminmax(w)) for w in self.weights]).tolist()
            found = {}
            for name, weight, (low, high) in zip(
                self.weight_names, self.weights, ranges, strict=True
            ):
                if high <= low:  # all one value: a bin around it
                    low, high = low - 0.5, low + 0.5
                counts = torch.histc(weight.float(), HISTOGRAM_BINS, low, high)
                found[name] = (low, high, counts)
            rows = torch.stack([counts for _, _, counts in found.values()]).tolist()
        return {
            name: Histogram(low, high, tuple(int(c) for c in row))
            for (name, (low, high, _)), row in zip(found.items(), rows, strict=True)
        }


def start_watch(
    trainee: Trainee, device: torch.device, emit: Callable[[Event], None]
) -> LayerWatch | None:
    """A LayerWatch on the run's own model and optimizer, warning through emit; None (said
    once) where one cannot be made: the run trains without figures."""
    from .events import Log

    def warn(message: str) -> None:
        emit(Log(message, "warning"))

    try:
        return LayerWatch(trainee.model, trainee.optimizer, device, warn, every=MEASURE_EVERY)
    except Exception as error:
        warn(f"layer stats are off ({type(error).__name__}: {error}); training goes on")
        return None
