"""Fréchet distance between two sets of feature rows (shared by FGD and the face FD/WInD).

For Gaussians N(mu_a, S_a) and N(mu_b, S_b) the squared 2-Wasserstein (Fréchet) distance is

    d2 = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

(Dowson and Landau 1982; used as FID by Heusel et al. 2017, as FGD by Yoon et al. 2020 and
BEAT/CaMN, and as FD by SAiD). The value returned is ``d2`` itself, not its square root, as
the field reports it. metrics.md fixes the numerical recipe: unbiased covariances
(``rowvar=False``); if the matrix square root is not finite, add ``1e-6 I`` to both covariances
and retry; drop an imaginary part below ``1e-3`` in absolute value, else raise.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg


def feature_stats(x: np.ndarray, *, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[d]`` and unbiased covariance ``[d, d]`` of feature rows ``x [n, d]``.

    Raises:
        ValueError: ``x`` is not 2-D, has non-finite values, or has fewer than 2 rows (one row
            has no covariance). Warns (``RuntimeWarning``) when ``n < d``: the covariance is
            then singular and the distance is dominated by the missing directions.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name}: expected feature rows [n, d], got shape {x.shape}")
    n, d = x.shape
    if n < 2:
        raise ValueError(
            f"{name}: {n} row(s) of {d}-d features; the Fréchet distance needs at least 2 rows "
            "for a covariance (more than the feature dimension for a meaningful one)"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: features contain NaN or infinite values")
    if n < d:
        warnings.warn(
            f"{name}: only {n} rows for {d}-d features; the covariance is singular and the "
            "Fréchet distance is unreliable",
            RuntimeWarning,
            stacklevel=3,
        )
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(d, d)


def _sqrtm(m: np.ndarray) -> np.ndarray:
    """Principal square root of ``m`` (possibly complex); NaN-filled when scipy fails."""
    with warnings.catch_warnings():
        # scipy warns about singular or ill-conditioned input; the caller checks the result.
        warnings.simplefilter("ignore")
        try:
            root = scipy.linalg.sqrtm(m)
        except (np.linalg.LinAlgError, ValueError):
            return np.full_like(m, np.nan)
    return np.asarray(root)


def frechet_from_stats(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    *,
    eps: float = 1e-6,
    imag_tol: float = 1e-3,
) -> float:
    """Fréchet distance ``d2`` between N(mu1 [d], sigma1 [d, d]) and N(mu2 [d], sigma2 [d, d]).

    Args:
        eps: added to both diagonals when ``sqrtm(sigma1 @ sigma2)`` is not finite (a singular
            product), then the root is taken again.
        imag_tol: largest absolute imaginary part on the root's diagonal that is dropped as
            rounding; only the trace enters ``d2``, so only the diagonal is checked.

    Raises:
        ValueError: shapes disagree, or the root has a larger imaginary part.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    s1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    s2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"Fréchet statistics disagree: mu1 {mu1.shape}, sigma1 {s1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {s2.shape}"
        )
    diff = mu1 - mu2
    covmean = _sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(d) * eps
        covmean = _sqrtm((s1 + offset) @ (s2 + offset))
        if not np.all(np.isfinite(covmean)):
            raise ValueError("Fréchet distance: sqrtm of the covariance product is not finite")
    if np.iscomplexobj(covmean):
        worst = float(np.max(np.abs(np.diagonal(covmean).imag)))
        if worst > imag_tol:
            raise ValueError(
                f"Fréchet distance: sqrtm has an imaginary component {worst:.3g} > {imag_tol}"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def frechet_distance(
    a: np.ndarray, b: np.ndarray, *, eps: float = 1e-6, imag_tol: float = 1e-3
) -> float:
    """Fréchet distance ``d2`` between feature sets ``a [n, d]`` and ``b [m, d]``.

    Each set is summarised by its mean and unbiased covariance (:func:`feature_stats`), then
    :func:`frechet_from_stats`. Needs ``n, m >= 2``; warns when a set has fewer rows than
    dimensions.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets differ in dimension: {a.shape} vs {b.shape}")
    mu1, s1 = feature_stats(a, name="first feature set")
    mu2, s2 = feature_stats(b, name="second feature set")
    return frechet_from_stats(mu1, s1, mu2, s2, eps=eps, imag_tol=imag_tol)
