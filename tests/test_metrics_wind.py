"""Face FD and WInD: the Gaussian mixture, the transport LP, repeats over seeds."""

import statistics

import numpy as np
import pytest
import torch

from adm.metrics.face_distance import (
    FaceLatents,
    face_fd,
    fit_mixtures,
    transport,
    wind,
    wind_from_mixtures,
)
from adm.metrics.face_vae import FaceVAE
from adm.metrics.gmm import fit_gmm


def clusters(rng, n=900, shift=0.0):
    """Three well-separated 4-d Gaussian clusters with weights 0.5 / 0.3 / 0.2."""
    centers = np.array([[0.0, 0, 0, 0], [8.0, 0, 0, 0], [0.0, 8, 0, 0]])
    sizes = [n // 2, 3 * n // 10, n // 5]
    return np.concatenate(
        [rng.normal(size=(s, 4)) * 0.5 + c + shift for s, c in zip(sizes, centers, strict=True)]
    )


def test_gmm_recovers_separated_clusters():
    x = clusters(np.random.default_rng(0))
    g = fit_gmm(x, 3, seed=0)
    order = np.argsort(100 * g.means[:, 0] + g.means[:, 1])  # (0, 0), (0, 8), (8, 0)
    assert g.converged
    assert np.allclose(g.weights[order], [0.5, 0.2, 0.3], atol=0.01)
    assert np.allclose(g.means[order], [[0, 0, 0, 0], [0, 8, 0, 0], [8, 0, 0, 0]], atol=0.15)
    assert np.allclose(g.covariances[order[0]], 0.25 * np.eye(4), atol=0.06)


def test_transport_lp_respects_its_constraints():
    rng = np.random.default_rng(1)
    cost = rng.uniform(0, 10, size=(5, 4))
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(4))
    value, plan = transport(cost, p, q)
    assert plan.min() >= -1e-12
    assert plan.sum() == pytest.approx(1.0)
    assert np.all(plan.sum(axis=1) <= p + 1e-9) and np.all(plan.sum(axis=0) <= q + 1e-9)
    assert value == pytest.approx((plan * cost).sum())
    # Zero cost on the diagonal with equal masses: nothing needs to move.
    value, plan = transport(1.0 - np.eye(3), np.full(3, 1 / 3), np.full(3, 1 / 3))
    assert value == pytest.approx(0.0, abs=1e-9) and np.allclose(plan, np.eye(3) / 3)


def test_wind_is_near_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(2)
    gt = clusters(rng)
    result = wind(gt, gt, components=3, repeats=3)
    same, same_std = result.mean, result.std
    resampled = wind(clusters(rng), gt, components=3, repeats=3).mean
    shifted = wind(clusters(rng, shift=1.0), gt, components=3, repeats=3).mean
    far = wind(clusters(rng, shift=3.0), gt, components=3, repeats=3).mean
    assert abs(same) < 1e-9 and same_std < 1e-9
    assert resampled < 0.1
    # Each component moves by |(1, 1, 1, 1)| = 2, a Fréchet distance of 4 (9 s^2 for shift 3).
    assert shifted == pytest.approx(4.0, rel=0.1)
    assert far == pytest.approx(36.0, rel=0.1)
    mixtures = fit_mixtures(gt, components=3, repeats=3)
    assert wind(gt, mixtures, components=3, repeats=3).mean == pytest.approx(same, abs=1e-9)
    # Mixtures of other seeds are refused rather than paired with the wrong repeat.
    with pytest.raises(ValueError, match="seeds"):
        wind(gt, fit_mixtures(gt, components=3, repeats=3, seed=1), components=3, repeats=3)


def test_wind_reports_the_mean_and_sample_std_over_mixture_seeds():
    rng = np.random.default_rng(5)
    gt, gen = clusters(rng), clusters(rng, shift=0.5)
    per_seed = [
        wind_from_mixtures(g, t)
        for g, t in zip(
            fit_mixtures(gen, components=3, repeats=4, seed=2),
            fit_mixtures(gt, components=3, repeats=4, seed=2),
            strict=True,
        )
    ]
    result = wind(gen, gt, components=3, repeats=4, seed=2)
    assert result.seeds == (2, 3, 4, 5)
    assert list(result.scores) == pytest.approx(per_seed, rel=1e-12)
    assert result.mean == pytest.approx(statistics.mean(per_seed), rel=1e-12)
    assert result.std == pytest.approx(statistics.stdev(per_seed), rel=1e-9)  # SAiD's ddof=1
    record = result.record()
    assert record["seeds"] == [2, 3, 4, 5] and record["scores"] == list(result.scores)
    assert [f["seed"] for f in record["generated_fits"]] == [2, 3, 4, 5]
    assert all(f["converged"] for f in record["ground_truth_fits"])
    one = wind(gen, gt, components=3, repeats=1)
    assert np.isnan(one.std) and one.record()["std"] is None  # one seed: no spread


def test_face_latents_accumulate_fd_and_wind():
    torch.manual_seed(0)
    vae = FaceVAE(channels=4, length=12).eval()
    rng = np.random.default_rng(3)
    faces = [rng.random((40, 4)).astype(np.float32) for _ in range(3)]
    acc = FaceLatents(vae)
    for f in faces:
        acc.update(f, f)
    assert acc.gen_latents.shape == (3 * 29, 64)
    assert acc.fd() == pytest.approx(0.0, abs=1e-9)
    assert face_fd(acc.gen_latents, acc.gt_latents + 0.5) == pytest.approx(64 * 0.25)
    same = acc.wind(components=2, repeats=2)
    assert abs(same.mean) < 1e-9 and same.std < 1e-9
    # Ground-truth mixtures fitted once and passed in give the same value as refitting.
    shifted = FaceLatents(vae)
    for f in faces:
        shifted.update(np.clip(f + 0.2, 0, 1), f)
    reference = fit_mixtures(shifted.gt_latents, components=2, repeats=2)
    cold = shifted.wind(components=2, repeats=2)
    assert cold.mean > 0
    warm = shifted.wind(components=2, repeats=2, gt_mixtures=reference)
    assert warm.scores == pytest.approx(cold.scores)
