"""WInD's Gaussian mixtures: adm's EM against scikit-learn's GaussianMixture, fit by fit.

SAiD fits ``sklearn.mixture.GaussianMixture(n_components=5)`` with its defaults. adm's EM must
give the same mixture from the same seed: the k-means start (scikit-learn's own KMeans), the
initial M-step, every EM step and the stop test. Tolerances: relative 1e-6 (the required agreement);
in float64 both fits agree to ~1e-12, far inside it.
"""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from adm.metrics.face_distance import wind
from adm.metrics.gmm import (
    CentredRows,
    DegenerateMixtureError,
    _initial_state,
    fit_gmm,
    fit_mixtures,
    kmeans_labels,
)

RTOL = 1e-6


def latent_like(rng, n=3000, d=12, offset=3.0):
    """Non-Gaussian, correlated, off-centre data: 6 skewed clusters with random covariances."""
    parts = []
    for _ in range(6):
        a = rng.normal(size=(d, d)) / np.sqrt(d) * rng.uniform(0.3, 1.5)
        z = rng.normal(size=(n // 6, d))
        z[:, 0] = np.abs(z[:, 0])  # skew: no component is exactly Gaussian
        parts.append(z @ a + rng.normal(scale=2.0, size=d) + offset)
    return np.concatenate(parts)


def with_small_cluster(rng, points, d=16, n=1500):
    """A broad cloud plus a tight, far cluster of ``points`` rows: with ``points`` near ``d``
    its component's covariance is (near) singular and only ``reg_covar`` keeps it definite."""
    cloud = rng.normal(size=(n, d)) @ (rng.normal(size=(d, d)) / np.sqrt(d))
    small = rng.normal(size=(points, d)) * 0.05 + 40.0
    return np.concatenate([cloud, small])


def sklearn_fit(x, seed, components=5, **options):
    return SkGaussianMixture(n_components=components, random_state=seed, **options).fit(x)


def assert_same_mixture(ours, theirs):
    scale_m = np.abs(theirs.means_).max()
    scale_c = np.abs(theirs.covariances_).max()
    np.testing.assert_allclose(ours.weights, theirs.weights_, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(ours.means, theirs.means_, rtol=RTOL, atol=RTOL * scale_m)
    np.testing.assert_allclose(
        ours.covariances, theirs.covariances_, rtol=RTOL, atol=RTOL * scale_c
    )
    assert ours.iterations == theirs.n_iter_
    assert ours.converged == theirs.converged_
    assert ours.lower_bound == pytest.approx(theirs.lower_bound_, rel=RTOL)


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_em_equals_scikit_learn_from_the_same_seed(seed):
    x = latent_like(np.random.default_rng(100 + seed))
    ours = fit_gmm(x, 5, seed=seed)
    assert ours.seed == seed
    assert_same_mixture(ours, sklearn_fit(x, seed))


@pytest.mark.parametrize("points", [14, 16, 20])
def test_em_equals_scikit_learn_with_a_near_singular_component(points):
    d = 16
    x = with_small_cluster(np.random.default_rng(points), points, d=d)
    for seed in (0, 3):
        theirs = sklearn_fit(x, seed)
        # The tight cluster is one component, holding about as many points as dimensions.
        held = np.sort(theirs.weights_ * len(x))[0]
        assert held == pytest.approx(points, abs=0.5)
        eig = np.linalg.eigvalsh(theirs.covariances_[np.argmin(theirs.weights_)])
        if points <= d:
            assert eig.min() < 1e-5  # singular: only reg_covar 1e-6 keeps it definite
        else:
            assert eig.min() / eig.max() < 0.05  # ill-conditioned
        assert_same_mixture(fit_gmm(x, 5, seed=seed), theirs)
    # And every repeat's WInD against a second such set.
    other = with_small_cluster(np.random.default_rng(100 + points), points, d=d) * 1.05
    ours = wind(other, x, components=5, repeats=2)
    theirs = wind(other, x, components=5, repeats=2, method="scikit-learn")
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=RTOL)


def test_start_is_scikit_learns_kmeans_and_initial_m_step():
    x = latent_like(np.random.default_rng(4))
    for seed in (0, 5):
        # max_iter=0: scikit-learn stops after its initialisation.
        theirs = sklearn_fit(x, seed, max_iter=0)
        start = _initial_state(x, kmeans_labels(x, 5, seed), 5, 1e-6)
        np.testing.assert_allclose(start.weights, theirs.weights_, rtol=1e-12)
        np.testing.assert_allclose(start.means, theirs.means_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(start.covariances, theirs.covariances_, rtol=1e-9, atol=1e-12)


def test_an_unconverged_fit_stops_where_scikit_learn_stops():
    x = latent_like(np.random.default_rng(6))
    ours = fit_gmm(x, 5, seed=2, max_iter=2, tol=1e-12)
    theirs = sklearn_fit(x, 2, max_iter=2, tol=1e-12)
    assert not ours.converged and ours.iterations == 2
    assert_same_mixture(ours, theirs)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # duplicates
def test_duplicate_points_give_scikit_learns_mixture():
    # The mean-pose baseline: every latent the same. k-means leaves clusters empty, their
    # components sit at the origin with weight ~1e-18, and EM keeps them there.
    x = np.tile(np.linspace(0.1, 0.8, 8), (400, 1))
    for method in ("em", "scikit-learn"):
        fit = fit_gmm(x, 5, seed=0, method=method)
        assert fit.weights.max() == pytest.approx(1.0)
    assert_same_mixture(fit_gmm(x, 5, seed=0), sklearn_fit(x, 0))


def test_wind_per_repeat_equals_the_scikit_learn_protocol():
    rng = np.random.default_rng(8)
    gt = latent_like(rng, n=2400, d=10)
    gen = latent_like(rng, n=2400, d=10) * 1.1
    ours = wind(gen, gt, components=5, repeats=4, seed=0)
    theirs = wind(gen, gt, components=5, repeats=4, seed=0, method="scikit-learn")
    assert ours.seeds == theirs.seeds == (0, 1, 2, 3)
    assert min(theirs.scores) > 1.0  # a real distance, not a rounding-level one
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=RTOL)
    assert ours.std == pytest.approx(np.std(theirs.scores, ddof=1), rel=RTOL)


def test_fits_do_not_depend_on_the_number_of_workers():
    x = latent_like(np.random.default_rng(9), n=1800)
    one = fit_mixtures(x, [0, 1, 2], workers=1)
    two = fit_mixtures(x, [0, 1, 2], workers=2)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a.covariances, b.covariances) and a.seed == b.seed


def test_prepared_rows_keep_the_data():
    x = latent_like(np.random.default_rng(10), n=600)
    rows = CentredRows(x, chunk=128)
    stacked = np.concatenate([c.numpy() for c in rows.chunks])
    np.testing.assert_allclose(stacked[:, :-1] + rows.centre, x, rtol=1e-15, atol=1e-13)
    assert np.all(stacked[:, -1] == 1.0) and len(rows) == 600


def test_bad_input_is_refused():
    x = latent_like(np.random.default_rng(11), n=600)
    with pytest.raises(ValueError, match="NaN"):
        fit_gmm(np.where(np.arange(x.size).reshape(x.shape) == 7, np.nan, x))
    with pytest.raises(ValueError, match="at least 5 rows"):
        fit_gmm(x[:4])
    with pytest.raises(ValueError, match="method"):
        fit_gmm(x, method="float16")
    # Two points, five components, no regularisation: a covariance is exactly singular.
    with pytest.raises(DegenerateMixtureError):
        fit_gmm(np.repeat(x[:2], 10, axis=0), 5, reg_covar=0.0)
