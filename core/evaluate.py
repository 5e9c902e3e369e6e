"""Loss, accuracy and the confusion matrix of a model on a split, in eval mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .data import normalize

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .data import Split


@dataclass
class Evaluation:
    loss: float
    accuracy: float
    confusion: list[list[int]]  # rows are true classes, columns predicted
    predictions: torch.Tensor  # (N,) predicted labels
    probabilities: torch.Tensor  # (N, classes)


def evaluate(
    model: nn.Module, split: Split, num_classes: int, batch_size: int = 1000
) -> Evaluation:
    """Evaluate with model.eval() and no gradients (the book forgets the first)."""
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss = 0.0
    probs = []
    with torch.inference_mode():
        for start in range(0, len(split), batch_size):
            images = split.images[start : start + batch_size].to(device, non_blocking=True)
            labels = split.labels[start : start + batch_size].to(device, non_blocking=True)
            logits = model(normalize(images))
            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            probs.append(logits.softmax(dim=1).cpu())
    model.train(was_training)
    probabilities = torch.cat(probs) if probs else torch.zeros(0, num_classes)
    predictions = probabilities.argmax(dim=1)
    labels = split.labels.cpu()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    confusion.index_put_((labels, predictions), torch.ones_like(labels), accumulate=True)
    count = max(len(split), 1)
    return Evaluation(
        loss=total_loss / count,
        accuracy=float((predictions == labels).sum()) / count,
        confusion=confusion.tolist(),
        predictions=predictions,
        probabilities=probabilities,
    )
