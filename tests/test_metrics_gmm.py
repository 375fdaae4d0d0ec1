"""The float32 EM of WInD's mixtures against float64 and against a plain reference EM."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from adm.metrics.face_distance import wind_from_mixtures
from adm.metrics.gmm import PreparedData, fit_gmm, fit_prepared, kmeans_plus_plus


def latent_like(rng, n=3000, d=12, offset=3.0):
    """Non-Gaussian, correlated, off-centre data: 6 skewed clusters with random covariances."""
    parts = []
    for _ in range(6):
        a = rng.normal(size=(d, d)) / np.sqrt(d) * rng.uniform(0.3, 1.5)
        z = rng.normal(size=(n // 6, d))
        z[:, 0] = np.abs(z[:, 0])  # skew: no component is exactly Gaussian
        parts.append(z @ a + rng.normal(scale=2.0, size=d) + offset)
    return np.concatenate(parts)


def reference_em(x, k, seed, reg_covar=1e-6, max_iter=100, tol=1e-3):
    """Textbook float64 EM (Dempster et al. 1977) with the same k-means++ start."""
    xc = x - x.mean(axis=0)
    seeds = xc[kmeans_plus_plus(xc, k, np.random.default_rng(seed))]
    labels = np.argmin(((xc[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
    resp = np.eye(k)[labels]
    previous, ll = -np.inf, -np.inf
    for _ in range(max_iter + 1):
        nk = resp.sum(axis=0) + 1e-15
        weights, means = nk / nk.sum(), resp.T @ xc / nk[:, None]
        covs = np.stack(
            [((resp[:, j, None] * (xc - means[j])).T @ (xc - means[j])) / nk[j] for j in range(k)]
        ) + reg_covar * np.eye(x.shape[1])
        log_p = np.stack(
            [
                np.log(weights[j]) + multivariate_normal(means[j], covs[j]).logpdf(xc)
                for j in range(k)
            ],
            axis=1,
        )
        norm = logsumexp(log_p, axis=1)
        ll = norm.mean()
        if abs(ll - previous) < tol:
            break
        previous = ll
        resp = np.exp(log_p - norm[:, None])
    return weights, means + x.mean(axis=0), covs, ll


def test_float32_em_matches_a_plain_float64_em():
    x = latent_like(np.random.default_rng(0))
    fast = fit_gmm(x, 4, seed=1)
    weights, means, covs, ll = reference_em(x, 4, seed=1)
    assert fast.converged
    assert fast.log_likelihood == pytest.approx(ll, rel=1e-5)
    assert np.abs(fast.weights - weights).max() < 1e-4
    assert np.abs(fast.means - means).max() < 1e-3 * np.abs(means).max()
    assert np.abs(fast.covariances - covs).max() < 1e-3 * np.abs(covs).max()


def test_float32_and_float64_fits_agree_and_wind_within_a_percent():
    rng = np.random.default_rng(1)
    gt = latent_like(rng, n=4200, d=16)
    gen = latent_like(rng, n=4200, d=16) * 1.1
    values = {}
    for precision in ("float32", "float64"):
        g, t = PreparedData(gen, precision), PreparedData(gt, precision)
        fits = [(fit_prepared(g, 5, seed=s), fit_prepared(t, 5, seed=s)) for s in range(3)]
        values[precision] = (fits, [wind_from_mixtures(a, b) for a, b in fits])
    for (a32, b32), (a64, b64) in zip(values["float32"][0], values["float64"][0], strict=True):
        for m32, m64 in ((a32, a64), (b32, b64)):
            assert m32.iterations == m64.iterations
            assert m32.log_likelihood == pytest.approx(m64.log_likelihood, rel=2e-5)
            assert np.abs(m32.weights - m64.weights).max() < 1e-4
            assert np.isclose(m32.weights.sum(), 1.0, atol=1e-12)
    w32, w64 = np.array(values["float32"][1]), np.array(values["float64"][1])
    assert w64.min() > 1.0  # a real distance, not a rounding-level one
    assert np.abs(w32 / w64 - 1.0).max() < 0.01


def test_bad_input_is_rejected():
    x = np.random.default_rng(2).normal(size=(50, 3))
    with pytest.raises(ValueError, match="NaN"):
        fit_gmm(np.where(np.arange(150).reshape(50, 3) == 7, np.nan, x))
    with pytest.raises(ValueError, match="at least 5 rows"):
        fit_gmm(x[:4])
    with pytest.raises(ValueError, match="precision"):
        fit_gmm(x, precision="float16")
