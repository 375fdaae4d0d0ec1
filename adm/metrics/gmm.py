"""A full-covariance Gaussian mixture fitted by EM, for WInD (SAiD's face metric).

SAiD fits scikit-learn's ``GaussianMixture(covariance_type="full")``; this is the same model
and algorithm (scikit-learn is not a dependency): k-means++ seeding (Arthur and Vassilvitskii
2007) with points assigned to the nearest seed as the initial responsibilities, then EM
(Dempster et al. 1977) until the mean log-likelihood per sample changes by less than ``tol``,
with ``reg_covar`` added to every covariance diagonal so that no component collapses.

Speed (WInD fits 20 mixtures to ~1e5 latents of 64 dims): each EM iteration is one pass over
row chunks that stay in cache. A chunk's E-step is one matrix product ``[c, d] @ [d, K d]``
with the K whitening matrices ``L_k^{-1}`` (``cov_k = L_k L_k^T``), its M-step one product
``[K (d+1), c] @ [c, d+1]`` of the responsibility-weighted rows ``x1 = (x, 1)`` with the rows,
giving all K components' statistics at once; both in float32 torch (all CPU threads). The
sufficient statistics ``sum r``, ``sum r x``, ``sum r x x^T`` of each chunk are summed in
float64, and the data are centred first (means are shifted back at the end), so the
moments ``E[x x^T] - mu mu^T`` stay well conditioned; Cholesky factors, inverses and log
determinants are float64 on the small ``d x d`` matrices. ``precision="float64"`` runs the
same arithmetic in float64 (the reference the tests compare with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

_CHUNK = 4096  # rows per chunk: the [c, K d] whitened block stays in cache


@dataclass(frozen=True)
class GaussianMixture:
    """A fitted mixture: ``weights [K]``, ``means [K, d]``, ``covariances [K, d, d]``."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: float  # mean log-likelihood per sample at the last E-step
    iterations: int
    converged: bool


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices ``[k]`` of k-means++ seeds in ``x [n, d]``: each next seed is drawn with
    probability proportional to the squared distance to the nearest seed so far."""
    n = len(x)
    seeds = [int(rng.integers(n))]
    d2 = np.sum((x - x[seeds[0]]) ** 2, axis=1)
    for _ in range(1, k):
        total = d2.sum()
        nxt = int(rng.integers(n)) if total <= 0 else int(rng.choice(n, p=d2 / total))
        seeds.append(nxt)
        d2 = np.minimum(d2, np.sum((x - x[nxt]) ** 2, axis=1))
    return np.asarray(seeds)


class PreparedData:
    """Rows ``x [n, d]`` centred once and split into chunks, shared by every fit of a set.

    ``centred`` is float64 numpy (seeding); ``chunks`` are ``[c, d + 1]`` torch tensors of
    ``precision`` whose last column is 1, so that one matrix product of the
    responsibility-weighted rows with a chunk gives ``sum r``, ``sum r x`` and ``sum r x x^T``
    together. The work buffers are reused by every pass (fresh large tensors per chunk would
    cost page faults comparable to the arithmetic).
    """

    def __init__(self, x: np.ndarray, precision: str = "float32"):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"GMM needs rows [n, d], got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("GMM input contains NaN or infinite values")
        if precision not in ("float32", "float64"):
            raise ValueError(f"GMM precision must be float32 or float64, got {precision!r}")
        self.center = x.mean(axis=0)
        self.centred = x - self.center
        self.dtype = torch.float32 if precision == "float32" else torch.float64
        n, d = x.shape
        full = torch.ones(n, d + 1, dtype=self.dtype)
        full[:, :d] = torch.from_numpy(self.centred)
        self.chunks = list(torch.split(full, _CHUNK))
        # contiguous copies for the E-step product (a row stride of d + 1 slows it down)
        self.rows = [chunk[:, :d].contiguous() for chunk in self.chunks]
        self._buffers: dict[int, tuple[torch.Tensor, ...]] = {}

    def __len__(self) -> int:
        return len(self.centred)

    def buffers(self, k: int) -> tuple[torch.Tensor, ...]:
        """Work buffers for ``k`` components: whitened ``[C, k d]``, norms ``[C, k]``,
        weighted rows ``[C, k, d + 1]``, moments ``[k (d + 1), d + 1]``, log-norms ``[n]``."""
        if k not in self._buffers:
            c, d1 = len(self.chunks[0]), self.chunks[0].shape[1]
            self._buffers[k] = tuple(
                torch.empty(shape, dtype=self.dtype)
                for shape in ((c, k * (d1 - 1)), (c, k), (c, k, d1), (k * d1, d1), (len(self),))
            )
        return self._buffers[k]


def _hard_m_step(
    x: np.ndarray, labels: np.ndarray, k: int, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step for one-hot responsibilities (the k-means++ assignment), float64."""
    n, d = x.shape
    nk = np.bincount(labels, minlength=k) + 10 * np.finfo(np.float64).eps
    means = np.zeros((k, d))
    covs = np.zeros((k, d, d))
    for j in range(k):
        rows = x[labels == j]
        if len(rows):
            means[j] = rows.sum(axis=0) / nk[j]
            a = rows - means[j]
            covs[j] = a.T @ a / nk[j]
    covs[:, np.arange(d), np.arange(d)] += reg_covar
    return nk / n, means, covs


def _em_pass(
    data: PreparedData, weights: np.ndarray, means: np.ndarray, covs: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """E-step of the mixture and the sufficient statistics of its responsibilities.

    Returns the mean log-likelihood per sample and ``sum r [K]``, ``sum r x [K, d]``,
    ``sum r x x^T [K, d, d]`` (float64).
    """
    k, d = means.shape
    cov64 = torch.from_numpy(covs)
    chol, info = torch.linalg.cholesky_ex(cov64)
    if int(info.max()) > 0:
        raise ValueError(
            "GMM: a component covariance is not positive definite; the data may be "
            "degenerate at this scale (raise reg_covar)"
        )
    eye = torch.eye(d, dtype=torch.float64).expand(k, d, d)
    inv = torch.linalg.solve_triangular(chol, eye, upper=False)  # [K, d, d], L_k^{-1}
    dtype = data.chunks[0].dtype
    # whiten[i, k d + j] = inv_k[j, i], so (x @ whiten)[k d + j] = (L_k^{-1} x)_j.
    whiten = inv.permute(2, 0, 1).reshape(d, k * d).to(dtype)
    neg_shift = -torch.einsum("kij,kj->ki", inv, torch.from_numpy(means)).reshape(-1).to(dtype)
    log_det = 2.0 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(dim=1)
    const = (torch.from_numpy(np.log(weights)) - 0.5 * (d * math.log(2 * math.pi) + log_det)).to(
        dtype
    )
    y_buf, norm_buf, w_buf, mom_buf, ll_buf = data.buffers(k)
    moments = torch.zeros(k * (d + 1), d + 1, dtype=torch.float64)
    start = 0
    for x, x1 in zip(data.rows, data.chunks, strict=True):
        c = len(x1)
        y = torch.addmm(neg_shift, x, whiten, out=y_buf[:c])  # [c, K d], whitened
        maha = torch.linalg.vector_norm(y.view(c, k, d), dim=2, out=norm_buf[:c]).square_()
        log_p = maha.mul_(-0.5).add_(const)  # [c, K]
        norm = torch.logsumexp(log_p, dim=1, keepdim=True)
        ll_buf[start : start + c] = norm[:, 0]
        start += c
        resp = log_p.sub_(norm).exp_()
        weighted = torch.mul(x1.unsqueeze(1), resp.unsqueeze(2), out=w_buf[:c])  # [c, K, d+1]
        moments += torch.mm(weighted.view(c, -1).T, x1, out=mom_buf)  # float64 sum over chunks
    # moments[k, i, j] = sum r_k x1_i x1_j with x1 = (x, 1).
    m = moments.view(k, d + 1, d + 1)
    total_ll = float(ll_buf.sum(dtype=torch.float64))
    return total_ll / len(data), m[:, d, d].numpy(), m[:, :d, d].numpy(), m[:, :d, :d].numpy()


def _m_step(
    nk: np.ndarray, sx: np.ndarray, sxx: np.ndarray, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = sx.shape[1]
    nk = nk + 10 * np.finfo(np.float64).eps
    means = sx / nk[:, None]
    covs = sxx / nk[:, None, None] - means[:, :, None] * means[:, None, :]
    covs = 0.5 * (covs + covs.transpose(0, 2, 1))  # exact symmetry for the Cholesky
    covs[:, np.arange(d), np.arange(d)] += reg_covar
    # float32 responsibilities sum to 1 per row only to rounding: normalise (as scikit-learn
    # does) so that the weights are a distribution, as WInD's transport LP needs.
    return nk / nk.sum(), means, covs


def fit_prepared(
    data: PreparedData,
    components: int = 5,
    *,
    seed: int = 0,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-3,
) -> GaussianMixture:
    """:func:`fit_gmm` on data prepared once (see :class:`PreparedData`)."""
    n = len(data)
    if n < components:
        raise ValueError(f"GMM needs at least {components} rows, got {n}")
    xc = data.centred
    rng = np.random.default_rng(seed)
    seeds = xc[kmeans_plus_plus(xc, components, rng)]
    sq = np.einsum("ij,ij->i", seeds, seeds)
    labels = np.argmin(sq[None, :] - 2.0 * xc @ seeds.T, axis=1)
    weights, means, covs = _hard_m_step(xc, labels, components, reg_covar)
    previous = -np.inf
    converged = False
    ll = -np.inf
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        # One pass gives this mixture's log-likelihood and the next mixture's statistics; on
        # convergence the statistics are dropped and this mixture is returned (plain EM).
        ll, nk, sx, sxx = _em_pass(data, weights, means, covs)
        if abs(ll - previous) < tol:
            converged = True
            break
        previous = ll
        weights, means, covs = _m_step(nk, sx, sxx, reg_covar)
    return GaussianMixture(weights, means + data.center, covs, ll, iterations, converged)


def fit_gmm(
    x: np.ndarray,
    components: int = 5,
    *,
    seed: int = 0,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-3,
    precision: str = "float32",
) -> GaussianMixture:
    """Fit a ``components``-component full-covariance mixture to rows of ``x [n, d]``.

    Args:
        seed: seeds k-means++ (different seeds give the "different mixture seeds" of WInD).
        reg_covar: added to each covariance diagonal.
        max_iter: EM iterations at most.
        tol: stop when the mean log-likelihood per sample changes by less than this.
        precision: "float32" (fast) or "float64" for the per-row arithmetic.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < components:
        raise ValueError(f"GMM needs at least {components} rows [n, d], got shape {x.shape}")
    return fit_prepared(
        PreparedData(x, precision),
        components,
        seed=seed,
        reg_covar=reg_covar,
        max_iter=max_iter,
        tol=tol,
    )
