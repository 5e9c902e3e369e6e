"""A model's layers as data: what `cnn-tui summary` prints and the app's Model screen shows.

The numbers come from torchinfo running one (1, 3, 32, 32) batch through the model, so
output shapes and parameter counts are measured, never typed in. Rows are the leaf layers
in the order the forward pass calls them, named by their dotted module path
(`conv1`, `resblocks.0.conv`, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from .architecture import Architecture

INPUT_SIZE = (1, 3, 32, 32)


def summarize(
    model_name: str,
    num_classes: int = 2,
    n_blocks: int = 10,
    architecture: Architecture | None = None,
) -> dict[str, Any]:
    """The stable `cnn-tui summary --json` object for a fresh model of this name (and, for
    net, this architecture; None: the book's).

    Raises ValueError for an unknown model name.
    """
    from .models import build_model

    model = build_model(model_name, num_classes, n_blocks, architecture=architecture)
    return summarize_model(model, model_name)


def summarize_model(model: nn.Module, name: str) -> dict[str, Any]:
    """The summary of a built (perhaps trained) model; its weights are not changed.

    Keys: model, total_params, param_list (the book's `[p.numel() for p in
    model.parameters()]`) and layers, one row per leaf layer with name, type,
    output_shape, params, mult_adds, trainable (the layer has parameters that training
    updates) and kernel_size (a list of ints, or None for layers without a kernel).
    """
    import torch
    import torchinfo

    was_training = model.training
    model.eval()  # batch norm and dropout as in evaluation; nothing is learned here
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            stats = torchinfo.summary(
                model,
                input_size=INPUT_SIZE,
                device=device,
                verbose=0,
                col_names=("output_size", "num_params", "mult_adds", "trainable"),
            )
    finally:
        model.train(was_training)
    names = {id(module): path for path, module in model.named_modules()}
    layers = []
    for info in stats.summary_list:
        if info.depth == 0 or not info.is_leaf_layer:
            continue
        own = list(info.module.parameters())
        layers.append(
            {
                "name": names.get(id(info.module), info.var_name),
                "type": info.class_name,
                "output_shape": [int(n) for n in _shape(info.output_size)],
                "params": int(sum(p.numel() for p in own)),
                "mult_adds": int(info.macs),
                "trainable": bool(own) and any(p.requires_grad for p in own),
                "kernel_size": _kernel(info.module),
            }
        )
    param_list = [int(p.numel()) for p in model.parameters()]
    return {
        "model": name,
        "total_params": sum(param_list),
        "param_list": param_list,
        "layers": layers,
    }


def _shape(size: Any) -> list[int]:
    # torchinfo gives a list of ints for a single tensor output
    if size and isinstance(size[0], (list, tuple)):
        size = size[0]
    return list(size)


def _kernel(module: nn.Module) -> list[int] | None:
    kernel = getattr(module, "kernel_size", None)
    if kernel is None:
        return None
    if isinstance(kernel, int):
        return [kernel, kernel]
    return [int(k) for k in kernel]
