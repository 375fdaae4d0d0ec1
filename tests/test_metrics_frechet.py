"""Fréchet distance: closed forms, small sets, singular covariances, the sqrtm fallback."""

import warnings

import numpy as np
import pytest

from adm.metrics import frechet as fr
from adm.metrics.frechet import feature_stats, frechet_distance, frechet_from_stats
from adm.metrics.windows import SequenceWindows, num_windows, sliding_windows


def exact_sample(rng, n, mean, var):
    """``n`` rows whose sample mean is exactly ``mean`` and unbiased covariance ``diag(var)``."""
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    chol = np.linalg.cholesky(np.cov(z, rowvar=False))
    white = z @ np.linalg.inv(chol).T  # covariance exactly I
    return mean + white * np.sqrt(var)


def test_identical_sets_give_zero():
    x = np.random.default_rng(0).normal(size=(200, 8))
    assert abs(frechet_distance(x, x)) < 1e-8


def test_shifted_diagonal_gaussians_match_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([3.0, 1.0, 2.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    # |mu1 - mu2|^2 = 9 + 0 + 16 = 25; trace term sum (sqrt v1 - sqrt v2)^2 = 4 + 1 + 0 = 5
    expected = 25.0 + 5.0
    assert frechet_from_stats(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected)
    a = exact_sample(rng, 500, mu1, v1)
    b = exact_sample(rng, 700, mu2, v2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_too_small_sets_raise_and_few_rows_warn():
    with pytest.raises(ValueError, match="at least 2 rows"):
        frechet_distance(np.ones((1, 4)), np.ones((10, 4)))
    with pytest.raises(ValueError, match="dimension"):
        frechet_distance(np.ones((5, 4)), np.ones((5, 3)))
    rng = np.random.default_rng(2)
    with pytest.warns(RuntimeWarning, match="only 5 rows for 8-d"):
        value = frechet_distance(rng.normal(size=(5, 8)), rng.normal(size=(30, 8)))
    assert np.isfinite(value)


def test_singular_covariances_give_finite_distance():
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(2, 6))
    a = rng.normal(size=(100, 2)) @ basis  # rank 2 in 6-d
    b = rng.normal(size=(100, 2)) @ basis + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d_same = frechet_distance(a, a)
        d_other = frechet_distance(a, b)
    assert abs(d_same) < 1e-5
    assert np.isfinite(d_other) and d_other > 5.0  # the mean shift alone is |1|^2 * 6


def test_non_finite_root_retries_with_eps_and_large_imaginary_part_raises(monkeypatch):
    calls = []
    real_sqrtm = fr._sqrtm

    def flaky(m):
        calls.append(m.copy())
        return np.full_like(m, np.nan) if len(calls) == 1 else real_sqrtm(m)

    monkeypatch.setattr(fr, "_sqrtm", flaky)
    s = np.diag([1.0, 2.0])
    assert frechet_from_stats(np.zeros(2), s, np.zeros(2), s) == pytest.approx(0.0, abs=1e-5)
    assert np.allclose(calls[1], (s + 1e-6 * np.eye(2)) @ (s + 1e-6 * np.eye(2)))

    monkeypatch.setattr(fr, "_sqrtm", lambda m: m.astype(complex) + 0.01j * np.eye(len(m)))
    with pytest.raises(ValueError, match="imaginary"):
        frechet_from_stats(np.zeros(2), s, np.zeros(2), s)
    monkeypatch.setattr(fr, "_sqrtm", lambda m: np.sqrt(m).astype(complex) + 1e-4j)
    assert frechet_from_stats(np.zeros(2), s, np.zeros(2), s) == pytest.approx(0.0, abs=1e-9)


def test_feature_stats_are_unbiased():
    x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])
    mu, cov = feature_stats(x)
    assert np.allclose(mu, [2.0, 4.0])
    assert cov[0, 0] == pytest.approx(4.0)  # (4 + 0 + 4) / (3 - 1)


def test_sliding_windows_count_and_content():
    x = np.arange(23 * 2).reshape(23, 2)
    w = sliding_windows(x, 5, 4)
    assert w.shape == (num_windows(23, 5, 4), 5, 2) == (5, 5, 2)  # (23 - 5) // 4 + 1
    assert np.array_equal(w[2], x[8:13])
    assert sliding_windows(x, 30, 1).shape == (0, 30, 2)
    lazy = SequenceWindows([x, x[:12]], 5, 4)
    assert len(lazy) == 5 + 2
    assert np.array_equal(lazy[[6, 1]], np.stack([x[4:9], x[4:9]]))
