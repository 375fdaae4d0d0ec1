"""A full-covariance Gaussian mixture fitted by EM, for WInD (SAiD's face metric).

SAiD fits scikit-learn's ``GaussianMixture(covariance_type="full")``; this is the same model
and algorithm written for numpy (scikit-learn is not a dependency): k-means++ seeding
(Arthur and Vassilvitskii 2007) with points assigned to the nearest seed as the initial
responsibilities, then EM (Dempster et al. 1977) until the mean log-likelihood per sample
changes by less than ``tol``, with ``reg_covar`` added to every covariance diagonal so that no
component collapses. The data are centred first (means are shifted back at the end), which
keeps the float64 sums well conditioned.

Cost per EM iteration is ``O(n d^2 K)``: one matrix product of the data with all K whitening
matrices (E-step) and one weighted covariance per component (M-step), in row chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

_CHUNK = 4096


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


def _m_step(
    x: np.ndarray, resp: np.ndarray, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, d = x.shape
    nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    means = (resp.T @ x) / nk[:, None]
    covs = np.zeros((len(nk), d, d))
    root = np.sqrt(resp)
    for start in range(0, n, _CHUNK):  # row chunks stay in cache
        rows = x[start : start + _CHUNK]
        for k in range(len(nk)):
            # a.T @ a of one array lets BLAS use a symmetric rank-k update.
            a = root[start : start + _CHUNK, k, None] * (rows - means[k])
            covs[k] += a.T @ a
    covs /= nk[:, None, None]
    covs[:, np.arange(d), np.arange(d)] += reg_covar
    return nk / n, means, covs


def _log_resp(
    x: np.ndarray, weights: np.ndarray, means: np.ndarray, covs: np.ndarray
) -> tuple[np.ndarray, float]:
    """Responsibilities' logs ``[n, K]`` and the mean log-likelihood per sample."""
    n, d = x.shape
    k = len(weights)
    try:
        chol = np.linalg.cholesky(covs)  # [K, d, d], covs[k] = L_k L_k^T
    except np.linalg.LinAlgError as err:
        raise ValueError(
            "GMM: a component covariance is not positive definite; the data may be "
            "degenerate at this scale (raise reg_covar)"
        ) from err
    inv = np.linalg.inv(chol)  # batched: one LAPACK call for all K small matrices
    whiten = np.concatenate(list(inv.transpose(0, 2, 1)), axis=1)  # [d, K d], block k inv_k^T
    shift = np.einsum("kij,kj->ki", inv, means).ravel()  # [K d]
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    const = np.log(weights) - 0.5 * (d * np.log(2 * np.pi) + log_det)
    out = np.empty((n, k))
    for start in range(0, n, _CHUNK):
        y = x[start : start + _CHUNK] @ whiten - shift  # [c, K d]
        maha = np.einsum("ckd,ckd->ck", y.reshape(len(y), k, d), y.reshape(len(y), k, d))
        out[start : start + _CHUNK] = const - 0.5 * maha
    norm = logsumexp(out, axis=1)
    return out - norm[:, None], float(norm.mean())


def fit_gmm(
    x: np.ndarray,
    components: int = 5,
    *,
    seed: int = 0,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-3,
) -> GaussianMixture:
    """Fit a ``components``-component full-covariance mixture to rows of ``x [n, d]``.

    Args:
        seed: seeds k-means++ (different seeds give the "different mixture seeds" of WInD).
        reg_covar: added to each covariance diagonal.
        max_iter: EM iterations at most.
        tol: stop when the mean log-likelihood per sample changes by less than this.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < components:
        raise ValueError(f"GMM needs at least {components} rows [n, d], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("GMM input contains NaN or infinite values")
    center = x.mean(axis=0)
    xc = x - center
    rng = np.random.default_rng(seed)
    seeds = xc[kmeans_plus_plus(xc, components, rng)]
    sq = np.einsum("ij,ij->i", seeds, seeds)
    labels = np.argmin(sq[None, :] - 2.0 * xc @ seeds.T, axis=1)
    resp = np.zeros((len(xc), components))
    resp[np.arange(len(xc)), labels] = 1.0
    weights, means, covs = _m_step(xc, resp, reg_covar)
    previous = -np.inf
    converged = False
    ll = -np.inf
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        log_resp, ll = _log_resp(xc, weights, means, covs)
        if abs(ll - previous) < tol:
            converged = True
            break
        previous = ll
        # Responsibilities below 1e-100 change nothing but would make subnormal products in
        # the covariance sums, which are two orders of magnitude slower on x86.
        resp = np.exp(log_resp)
        resp[resp < 1e-100] = 0.0
        weights, means, covs = _m_step(xc, resp, reg_covar)
    return GaussianMixture(weights, means + center, covs, ll, iterations, converged)
