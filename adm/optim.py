"""The Adam optimisers of every trainer (denoisers, metric models, part VQ-VAEs), fused.

``fused=True`` updates all parameters in one kernel per dtype and device instead of a Python
loop of small kernels per tensor, on the CPU as on CUDA. Measured on one CPU thread (torch
2.13, ``python -m adm.bench optimizer``, ``docs/benchmarks.md`` "Fused optimiser steps"): the
FGD motion autoencoder's step (15.9M parameters in 52 tensors) 88 -> 21 ms, DiffSHEG's bundled
network (5.4M in 178 tensors) 25 -> 5.5 ms, MambaTalk's (0.2M in 246 tensors) 10.6 -> 1.5 ms.
The update is the same formula; its rounding differs from the per-tensor loop's in the last
bit, so weights differ from a loop-trained run's by float rounding (resume stays bit-exact: a
run uses one path)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def adam(params: Iterable[Any], **options: Any) -> torch.optim.Adam:
    """``torch.optim.Adam(params, **options)``, fused."""
    return torch.optim.Adam(params, fused=True, **options)


def adamw(params: Iterable[Any], **options: Any) -> torch.optim.AdamW:
    """``torch.optim.AdamW(params, **options)``, fused (decoupled weight decay)."""
    return torch.optim.AdamW(params, fused=True, **options)
