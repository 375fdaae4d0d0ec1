"""FGD over pooled windows, diversity (Li et al. 2021) and L1 diversity (BEAT)."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from adm.metrics.diversity import L1Div, diversity, l1div, mean_pairwise_distance
from adm.metrics.fgd import FGD
from adm.metrics.motion_autoencoder import MotionAutoencoder

pytestmark = pytest.mark.usefixtures("one_thread")


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


def test_l1div_beat_form_by_hand():
    """BEAT's test form: 15 fps (every 2nd frame of 30), windows of 34 every 10, deviations
    from the mean of the clip's stacked windows, accumulated over clips."""
    # At 15 fps: 10 zeros, 34 ones, then a tail of 5 frames no window reaches.
    slow = np.concatenate([np.zeros(10), np.ones(34), np.full(5, 50.0)])
    x = np.full((2 * len(slow), 1), 100.0)  # odd frames are dropped by the decimation
    x[::2, 0] = slow
    # 2 windows (starts 0 and 10): 10 zeros + 24 ones, then 34 ones -> 68 rows, 58 ones.
    mean = 58 / 68
    expected = (10 * mean + 58 * (1 - mean)) / 68
    assert l1div([x], compat="beat", fps=30) == pytest.approx(expected, rel=1e-12)
    # The same clip given at 15 fps, and pooled with a second clip: sums and rows add up.
    acc = L1Div("beat")
    acc.update(slow[:, None], fps=15)
    acc.update(np.tile([[0.0], [2.0]], (17, 1)), fps=15)  # 34 frames, 1 window, |dev| = 1
    assert acc.frames == 68 + 34
    assert acc.compute() == pytest.approx((expected * 68 + 34) / 102, rel=1e-12)
    acc.update(np.zeros((33, 1)), fps=15)  # shorter than one window: nothing, counted
    assert acc.skipped == 1 and acc.frames == 102
    with pytest.raises(ValueError, match="whole multiple"):
        L1Div("beat").update(x, fps=25)
    with pytest.raises(ValueError, match="fps"):
        L1Div("beat").update(x)


def test_metrics_refuse_nan_and_inf_naming_the_frame():
    from adm.metrics.beat_align import BeatAlign
    from adm.metrics.finite import NonFiniteError
    from adm.metrics.srgr import SRGR

    x = np.zeros((40, 141))
    x[17, 5] = np.nan
    x[20, 0] = np.inf
    with pytest.raises(NonFiniteError, match="frame 17 .*column\\(s\\) 5\\)"):
        L1Div().update(x)
    with pytest.raises(NonFiniteError, match="frame 17"):
        SRGR().update(x, np.zeros((40, 141)), np.ones(40))
    with pytest.raises(NonFiniteError, match="frame 17"):
        BeatAlign().update(None, 16000, x, 30.0, key="clip")
    model = MotionAutoencoder(dim=141, length=34)
    with pytest.raises(NonFiniteError, match="frame 17"):
        model.encode_sequence(x, 10)
