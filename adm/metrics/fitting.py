"""The minibatch loop shared by the two metric models (motion autoencoder, face VAE).

Windows are drawn without replacement in a fresh random order each epoch (a torch generator
seeded by ``seed``, so a fit is reproducible), a last batch of fewer than 2 windows is skipped
(BatchNorm needs 2), and the loss of every step is returned for the training record. An
observer may look at the model between steps (``python -m adm.bench metric-curve`` measures
held-out reconstruction there) without changing the fit.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from adm.metrics.tensors import as_tensor
from adm.metrics.windows import SequenceWindows

Windows = np.ndarray | SequenceWindows
#: ``progress(step, total_steps, loss)`` after every optimiser step.
Progress = Callable[[int, int, float], None]
#: ``observe(step, model)`` after every optimiser step (``step`` counts from 1); it must leave
#: the model's weights, buffers and training flag as it found them (evaluate under
#: :func:`adm.metrics.tensors.eval_mode`), so that observing does not change the fit.
Observer = Callable[[int, nn.Module], None]
#: ``loss_fn(model, batch [B, L, D], generator) -> scalar tensor``.
LossFn = Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor]


def resolve_steps(num: int, batch: int, iterations: int | None, epochs: int | None) -> int:
    """Optimiser steps from ``iterations`` or ``epochs`` (exactly one must be given)."""
    if (iterations is None) == (epochs is None):
        raise ValueError("give exactly one of iterations= or epochs=")
    if iterations is not None:
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        return iterations
    assert epochs is not None
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    full, rest = divmod(num, batch)
    return epochs * (full + (1 if rest >= 2 else 0))


def _batches(num: int, batch: int, gen: torch.Generator) -> Iterator[np.ndarray]:
    while True:
        order = torch.randperm(num, generator=gen).numpy()
        for start in range(0, num, batch):
            idx = order[start : start + batch]
            if len(idx) >= 2:
                yield np.sort(idx)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (e.g. model construction) with the CPU RNG seeded, restoring it after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def train_on_windows(
    model: nn.Module,
    windows: Windows,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    *,
    steps: int,
    batch: int,
    seed: int,
    device: torch.device | str,
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> list[float]:
    """Run ``steps`` optimiser steps on random batches of ``windows [N, L, D]``.

    Returns the loss of every step. Leaves the model in eval mode.
    """
    num = len(windows)
    if num < 2:
        raise ValueError(f"training needs at least 2 windows, got {num}")
    if batch < 2:
        raise ValueError(f"batch must be >= 2 (BatchNorm), got {batch}")
    gen = torch.Generator().manual_seed(seed)
    noise = torch.Generator(device=device).manual_seed(seed + 1)
    losses: list[float] = []
    model.train()
    for step, idx in zip(range(steps), _batches(num, batch, gen), strict=False):
        x = as_tensor(windows[idx], device)
        loss = loss_fn(model, x, noise)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"training loss is {loss.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step + 1, steps, losses[-1])
        if observe is not None:
            observe(step + 1, model)
    model.eval()
    return losses
