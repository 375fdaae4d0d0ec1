"""Local (windowed) attention: window reach, masking, agreement with dense banded attention."""

from __future__ import annotations

import math

import pytest
import torch
from tolerance import network_tol, sum_tol

from adm.models.local_attention import LocalAttention

pytestmark = pytest.mark.usefixtures("one_thread")


W = 4


def module(look_back: int = 1, look_forward: int = 0) -> LocalAttention:
    torch.manual_seed(0)
    return LocalAttention(16, 2, W, look_back=look_back, look_forward=look_forward).eval()


@pytest.mark.parametrize(("look_back", "look_forward"), [(1, 0), (1, 1)])
def test_perturbation_reaches_only_neighbouring_windows(look_back, look_forward):
    attn = module(look_back, look_forward)
    t, i = 22, 9  # frame 9 lies in window 2; the last window is partial
    x = torch.randn(1, t, 16)
    x2 = x.clone()
    x2[0, i] += 3.0
    with torch.no_grad():
        diff = (attn(x2) - attn(x)).abs().amax(dim=-1)[0]  # [T]
    win = torch.arange(t) // W
    reach = (win >= 2 - look_forward) & (win <= 2 + look_back)
    assert torch.all(diff[~reach] == 0)
    for w in range(2 - look_forward, 3 + look_back):  # every reachable window is reached
        assert diff[win == w].max() > 1e-4


def test_matches_dense_attention_with_a_band_mask():
    attn = module(1, 1)
    b, t = 2, 13
    x = torch.randn(b, t, 16)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 9:] = False
    with torch.no_grad():
        out = attn(x, mask)
        q, k, v = attn.qkv(x).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, t, 2, 8).transpose(1, 2) for z in (q, k, v))
        pos = torch.arange(t)
        q, k = attn.rotary(q, pos), attn.rotary(k, pos)
        win = pos // W
        band = (win[None, :] >= win[:, None] - 1) & (win[None, :] <= win[:, None] + 1)
        allowed = band[None, None] & mask[:, None, None, :]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(8)
        ref = scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ v
        ref = attn.out(ref.transpose(1, 2).reshape(b, t, 16))
    # Two float32 evaluations of one function: the module's bound plus the sums over keys.
    tol = network_tol(attn, ref, [t, t])
    torch.testing.assert_close(out[mask], ref[mask], atol=tol, rtol=0)


def test_masked_keys_are_ignored_and_empty_windows_give_no_nan():
    attn = module()
    x = torch.randn(1, 12, 16)
    mask = torch.ones(1, 12, dtype=torch.bool)
    mask[0, 4:] = False  # windows 1 and 2 hold no valid key for window 2's queries
    x2 = x.clone()
    x2[0, 4:] = 50.0
    with torch.no_grad():
        a, b = attn(x, mask), attn(x2, mask)
    assert torch.isfinite(a).all()
    torch.testing.assert_close(a[0, :4], b[0, :4], atol=0, rtol=0)
    # Window 2 sees windows 1-2 only, all masked: the attention output is zero (bias only).
    torch.testing.assert_close(a[0, 8:], attn.out.bias.expand(4, 16), atol=1e-6, rtol=0)


def test_rotary_makes_scores_depend_on_distance_only():
    attn = module()
    q = torch.randn(1, 1, 1, 8).expand(1, 1, 2, 8)
    k = torch.randn(1, 1, 1, 8).expand(1, 1, 2, 8)
    rq = attn.rotary(q, torch.tensor([3, 10]))
    rk = attn.rotary(k, torch.tensor([1, 8]))
    s = (rq * rk).sum(-1)[0, 0]
    # Each score: a rotation (sin, cos, 2 products, a sum) per factor, then a sum of 8 products.
    tol = sum_tol(8 + 2 * 5, (rq.abs() * rk.abs()).sum(-1).max())
    torch.testing.assert_close(s[0], s[1], atol=tol, rtol=0)
