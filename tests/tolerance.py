"""Float tolerances derived from the dtype and the size of the computation, not guessed.

Rounding model (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 2-3): every
floating-point operation is exact up to a relative error of at most ``u``, the unit roundoff
of its dtype (half the machine epsilon: 6.0e-8 in float32, 1.1e-16 in float64). Hence

- a chain of ``k`` operations on values of magnitude ``m`` is off by at most about ``k u m``;
- a sum or dot product of ``n`` terms is off by at most ``gamma(n) * sum(|terms|)`` with
  ``gamma(n) = n u / (1 - n u)``, whatever the order of the additions, the blocking, the thread
  count or the use of fused multiply-adds: the bound holds on every machine;
- a stack of layers with fan-ins ``n_1 .. n_L`` is, to first order, off by the sum of the
  layers' ``gamma(n_l)`` relative to its output's magnitude.

These worst-case bounds are what a test may rely on across machines (the observed error is
usually far smaller). Each test states the operation count or sum length it uses.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

F32, F64 = np.float32, np.float64


def unit_roundoff(dtype=F32) -> float:
    """``u``: half the spacing of ``dtype`` at 1 (numpy or torch dtype)."""
    if isinstance(dtype, torch.dtype):
        return torch.finfo(dtype).eps / 2
    return float(np.finfo(dtype).eps) / 2


def gamma(n: int, dtype=F32) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)``: relative error bound of a sum of ``n`` terms."""
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"{n} terms exhaust the precision of {dtype}")
    return nu / (1 - nu)


def ops_tol(ops: int, magnitude: float, dtype=F32) -> float:
    """Absolute error bound of ``ops`` rounded operations on values up to ``magnitude``."""
    return gamma(ops, dtype) * float(magnitude)


def sum_tol(n: int, magnitude: float, dtype=F32) -> float:
    """Absolute error bound of a sum of ``n`` terms whose absolute values add to ``magnitude``."""
    return gamma(n, dtype) * float(magnitude)


def layers_rel_tol(fan_ins: Iterable[int], dtype=F32) -> float:
    """First-order relative error bound of a stack of layers with these fan-ins."""
    return sum(gamma(n, dtype) for n in fan_ins)


def fan_ins(module: torch.nn.Module) -> list[int]:
    """The sum lengths of a network's linear maps: ``in * kernel`` per conv, ``in`` per linear
    (each batch-norm adds two more roundings, counted as a fan-in of 2)."""
    sizes = []
    for m in module.modules():
        if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d):
            sizes.append(m.in_channels // m.groups * int(np.prod(m.kernel_size)))
        elif isinstance(m, torch.nn.Linear):
            sizes.append(m.in_features)
        elif isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            sizes.append(2)
    return sizes


def network_tol(model: torch.nn.Module, output: torch.Tensor, extra_sums: Iterable[int] = ()):
    """First-order float32 error bound of a network's output: the sum of gamma over its linear
    maps' fan-ins (and ``extra_sums``, e.g. attention's sums over keys) times the largest
    output magnitude."""
    rel = layers_rel_tol([*fan_ins(model), *extra_sums], output.dtype)
    return rel * float(output.detach().abs().max())


def stored_rotation_tol(euler_rad: np.ndarray, axis_angle: np.ndarray) -> float:
    """Geodesic angle (radians) between two rotations that agree up to float32 storage of
    each: three Euler angles and an axis-angle, each rounded once (``u |value|``), then
    compared through float64 conversions (16-odd roundings of values <= 1)."""
    stored = 3 * ops_tol(1, np.abs(euler_rad).max()) + ops_tol(1, np.abs(axis_angle).max())
    return stored + ops_tol(16, 1.0, F64)
