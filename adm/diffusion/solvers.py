"""Few-step samplers for an x0-predicting network: DPM-Solver++(2M) and its SDE form (Lu et al.
2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models").

With ``alpha_t = sqrt(abar_t)``, ``sigma_t = sqrt(1 - abar_t)`` and the half log-SNR
``lambda_t = log(alpha_t / sigma_t)``, the probability-flow ODE in the data-prediction form has
the exact solution (their eq. 8)

    x_t = sigma_t / sigma_s * x_s + sigma_t * integral_{lambda_s}^{lambda_t} e^lambda x0(lambda) dl.

Taking ``x0`` constant over a step of length ``h = lambda_t - lambda_s`` gives the first-order
update (DDIM); taking it linear in ``lambda`` through the previous step's estimate gives the
multistep second-order update (2M, their algorithm 2):

    x_t = sigma_t / sigma_s * x_s - alpha_t (e^-h - 1) D,   D = x0_s + (x0_s - x0_prev) / (2 r),

with ``r = h_prev / h``. The SDE form (their appendix, the same linear-in-lambda idea applied to
the reverse SDE) injects fresh noise each step:

    x_t = sigma_t / sigma_s e^-h x_s + alpha_t (1 - e^-2h) (x0_s + (x0_s - x0_prev) / (2 r))
          + sigma_t sqrt(1 - e^-2h) z,

whose first-order form is exactly the DDPM posterior step between the two points. The first
step has no previous estimate and is first order; when fewer than ``LOWER_ORDER_BELOW``
evaluations are made the step into the last point is first order too, because there ``h`` is
large compared with the step before and the linear extrapolation is unstable (the paper's
"lower order final" rule).

The network is evaluated at ``K`` indices of the process from the noisiest ``T - 1`` down to
``0`` (:func:`solver_indices`), one call each; the result is the network's ``x0`` at index 0,
as the last DDPM step returns. All coefficients are computed in float64 and cast to ``x``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from adm.diffusion.gaussian import GaussianDiffusion
from adm.diffusion.reverse import Model
from adm.samplers import SOLVER_LABELS

Solver = Literal["dpmpp_2m", "dpmpp_2m_sde"]
SOLVERS: dict[str, str] = SOLVER_LABELS
LOWER_ORDER_BELOW = 15
# Spacing of the evaluation points (see solver_indices), dense near the clean end.
SPACING_POWER = 2.0

Noise = Callable[[Tensor], Tensor]


def solver_indices(num_timesteps: int, calls: int, power: float = 2.0) -> list[int]:
    """``calls`` distinct process indices from ``T - 1`` down to 0, descending:
    ``t_k = (T - 1) (1 - k / (calls - 1)) ** power``, rounded.

    ``power = 2`` (DPM-Solver's "time quadratic" spacing, what the solvers use) is dense near
    ``t = 0``, where the log-SNR of the cosine schedule changes fastest. On Gaussian data, where
    the exact solution is known, it is the spacing with which both forms are accurate: evenly in
    time (power 1) or denser near ``T`` (power < 1) leave a long last step in log-SNR, where the
    second-order extrapolation inflates the variance several-fold (first order there instead
    collapses it), and evenly in log-SNR is no better, because the schedule's clipped last betas
    put a jump of several units of log-SNR into the last few indices. Rounding can make
    neighbours coincide; those are moved apart (at the clean end 0, 1, 2, ...; at the noisy end
    T - 1, T - 2, ...).

    Raises:
        ValueError: ``calls`` is not in ``[1, T]`` or ``power`` is not positive.
    """
    if not 1 <= calls <= num_timesteps:
        raise ValueError(f"solver steps must be in [1, {num_timesteps}], got {calls}")
    if not power > 0:
        raise ValueError(f"spacing power must be positive, got {power}")
    if calls == 1:
        return [num_timesteps - 1]
    points = (num_timesteps - 1) * np.linspace(1.0, 0.0, calls) ** power
    indices = [int(round(p)) for p in points]
    for k in range(calls - 2, -1, -1):  # from the clean end up: at least one apart
        indices[k] = max(indices[k], indices[k + 1] + 1)
    indices[0] = num_timesteps - 1
    for k in range(1, calls):  # and down from the noisy end, so none passes T - 1
        indices[k] = min(indices[k], indices[k - 1] - 1)
    return indices


class MultistepSolver:
    """DPM-Solver++(2M) over ``calls`` network evaluations of ``diffusion`` (see module doc).

    Args:
        diffusion: the process the network was trained on (its ``alphas_cumprod`` and
            ``timestep_map`` give the points and the indices the network receives).
        calls: network evaluations (one per point; the number of steps).
        stochastic: the SDE form (fresh noise each step) instead of the ODE form.
    """

    def __init__(self, diffusion: GaussianDiffusion, calls: int, stochastic: bool = False):
        self.diffusion = diffusion
        self.indices = solver_indices(diffusion.num_timesteps, calls, SPACING_POWER)
        self.stochastic = bool(stochastic)
        abar = np.asarray(diffusion.alphas_cumprod, dtype=np.float64)[self.indices]
        self.alpha = np.sqrt(abar)
        self.sigma = np.sqrt(1.0 - abar)
        self.lam = np.log(self.alpha) - np.log(self.sigma)
        self.model_steps = [int(diffusion.timestep_map[i]) for i in self.indices]

    @property
    def calls(self) -> int:
        return len(self.indices)

    def coefficients(self, k: int) -> tuple[float, float, float, float]:
        """Update from point ``k - 1`` to point ``k`` (k >= 1) as
        ``x_k = a x + b x0 + c (x0 - x0_prev) + d z``: returns ``(a, b, c, d)`` in float64."""
        h = self.lam[k] - self.lam[k - 1]
        second = k >= 2 and not (self.calls < LOWER_ORDER_BELOW and k == self.calls - 1)
        r = (self.lam[k - 1] - self.lam[k - 2]) / h if second else math.inf
        alpha, ratio = self.alpha[k], self.sigma[k] / self.sigma[k - 1]
        if self.stochastic:
            a = ratio * math.exp(-h)
            b = alpha * -math.expm1(-2.0 * h)
            d = self.sigma[k] * math.sqrt(-math.expm1(-2.0 * h))
        else:
            a, b, d = ratio, alpha * -math.expm1(-h), 0.0
        c = b / (2.0 * r) if second else 0.0
        return float(a), float(b), float(c), float(d)

    def sample(self, model: Model, x: Tensor, cond: object, noise: Noise | None = None) -> Tensor:
        """Run the solver from ``x`` ``[B, ...]`` (the noise at index ``T - 1``) to ``x_0``.

        Args:
            model: ``model(x_t, t, cond)``, called ``calls`` times with the whole batch.
            x: the initial noise.
            cond: passed to the model untouched.
            noise: ``noise(x) -> z`` of the shape of ``x``, for the SDE form (lets the caller
                draw each row from its own generator); unused by the ODE form.
        """
        if self.stochastic and noise is None:
            raise ValueError("the stochastic solver needs a noise source")
        batch = x.shape[0]
        x0 = x0_prev = x  # replaced by the network's estimates before they are read
        with torch.no_grad():
            for k, (index, step) in enumerate(zip(self.indices, self.model_steps, strict=True)):
                if k > 0:
                    a, b, c, d = self.coefficients(k)
                    update = a * x + b * x0
                    if c != 0.0:  # second order: the slope of x0 in lambda from the last step
                        update = update + c * (x0 - x0_prev)
                    if d != 0.0:
                        update = update + d * noise(x)
                    x, x0_prev = update, x0
                t = torch.full((batch,), step, dtype=torch.long, device=x.device)
                x0 = self._as_x0(model(x, t, cond), x, index)
        return x0

    def _as_x0(self, out: Tensor, x: Tensor, index: int) -> Tensor:
        if out.shape != x.shape:
            raise ValueError(f"model output shape {tuple(out.shape)} != x_t {tuple(x.shape)}")
        if self.diffusion.prediction == "x0":
            return out
        t = torch.full((x.shape[0],), index, dtype=torch.long, device=x.device)
        return self.diffusion.predict_x0_from_eps(x, t, out)


def make_solver(diffusion: GaussianDiffusion, name: str, calls: int) -> MultistepSolver:
    """The solver called ``name`` (a key of :data:`SOLVERS`) with ``calls`` evaluations."""
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {name!r} (known: {sorted(SOLVERS)})")
    return MultistepSolver(diffusion, calls, stochastic=name.endswith("_sde"))
