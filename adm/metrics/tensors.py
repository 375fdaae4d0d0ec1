"""Feeding arrays to the metric models: float32 tensors on the model's device, eval mode.

Used by the models' encoders (:mod:`.conv_window`), their training loop (:mod:`.fitting`) and
the evaluation's feature extraction, so it depends on nothing else in the package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn


def as_tensor(x: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """float32 tensor on ``device`` (no copy when it already is one)."""
    return torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).to(
        device=device, dtype=torch.float32
    )


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode and no autograd for a block, restoring the previous training flag."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)
