"""FGD over pooled windows, diversity (Li et al. 2021) and L1 diversity (BEAT)."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from adm.metrics import FGD, L1Div, MotionAutoencoder, diversity, l1div, mean_pairwise_distance


@pytest.fixture(autouse=True)
def one_thread():
    """Small models; a single thread avoids thread-pool stalls on shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_fgd_is_zero_against_itself_and_grows_with_a_shift():
    torch.manual_seed(0)
    encoder = MotionAutoencoder(dim=6, length=12).eval()
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(400, 6)).astype(np.float32) for _ in range(2)]
    values = []
    for shift in (0.0, 0.5, 1.0):
        metric = FGD(encoder, stride=1)
        for x in seqs:
            metric.update(x + shift, x)
        values.append(metric.compute())
    assert metric.gen_features.shape == (2 * (400 - 12 + 1), 300)
    assert abs(values[0]) < 1e-6
    assert 0 < values[1] < values[2]


def test_diversity_of_identical_rows_is_zero():
    gt = np.random.default_rng(1).normal(size=(20, 3))
    assert diversity(np.ones((5, 3)), gt) == pytest.approx(0.0, abs=1e-9)


def test_diversity_uses_ground_truth_z_normalisation():
    gt = np.array([[0.0, 0.0], [2.0, 2.0]])  # mean (1, 1), population std (1, 1)
    feats = np.array([[1.0, 1.0], [4.0, 5.0]])  # z-normalised: (0, 0) and (3, 4)
    assert diversity(feats, gt) == pytest.approx(5.0)
    gt_wide = np.array([[0.0, 0.0], [4.0, 4.0]])  # std 2: distance halves
    assert diversity(feats, gt_wide) == pytest.approx(2.5)
    three = np.array([[1.0, 1.0], [4.0, 5.0], [1.0, 5.0]])  # z: (0,0), (3,4), (0,4)
    assert diversity(three, gt) == pytest.approx((5.0 + 4.0 + 3.0) / 3)


def test_mean_pairwise_distance_matches_pdist_across_blocks():
    x = np.random.default_rng(2).normal(size=(301, 7))
    assert mean_pairwise_distance(x, block=64) == pytest.approx(pdist(x).mean(), rel=1e-10)
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_distance(x[:1])


def test_l1div_by_hand():
    assert l1div([np.full((10, 4), 3.0)]) == 0.0
    t = np.arange(20)
    square = np.stack([np.where(t % 2, 1.5, -1.5), np.where(t % 4 < 2, 0.5, -0.5)], axis=1)
    # Both columns have mean 0, so each frame contributes 1.5 + 0.5.
    assert l1div([square]) == pytest.approx(2.0)
    # Pooled: sums and frame counts add up, 20 frames of 2.0 and 10 of 0.
    acc = L1Div()
    acc.update(square + 7.0)
    acc.update(np.zeros((10, 2)))
    assert acc.compute() == pytest.approx(2.0 * 20 / 30)
