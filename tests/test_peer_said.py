"""SAiD (face only): its U-Net's shapes and padding, its alignment-band cross-attention, its null
audio condition, its objective, and that it fits one batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tolerance import F64, network_tol, ops_tol
from torch.overrides import TorchFunctionMode

from adm.diffusion import make_diffusion
from adm.diffusion.schedules import make_betas
from adm.errors import ConfigError
from adm.models import build_denoiser
from adm.models.said_blocks import Attention, MaskedGroupNorm, alignment_band
from adm.training.objectives import LossInputs, build_objective

pytestmark = pytest.mark.usefixtures("one_thread")

DA = 6  # audio feature width of the small models
SMALL = {"audio_dim": DA, "channels": 32, "head_dim": 8, "norm_groups": 8, "dropout": 0.0}


def small_model(seed: int = 0, **overrides) -> torch.nn.Module:
    """A small SAiD whose zero-initialised layers (SAiD starts every residual branch and the
    output conv at zero, so a fresh network outputs 0) are given random weights, so that every
    path from the inputs to the output is live."""
    torch.manual_seed(seed)
    model = build_denoiser("said", {**SMALL, "cond_drop_prob": 0.0, **overrides})
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if isinstance(module, torch.nn.Conv1d) and not weight.abs().sum() > 0:
                torch.nn.init.normal_(weight, std=1.0 / math.sqrt(weight[0].numel()))
                torch.nn.init.normal_(module.bias, std=0.1)
    return model.eval()


def inputs(b=2, t=20, la=None, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, 51, generator=g)
    audio = torch.randn(b, t if la is None else la, DA, generator=g)
    return x, torch.tensor([7, 800])[:b], {"audio": audio, "speaker": torch.zeros(b).long()}


def reference_band(frames: int, audio_frames: int) -> np.ndarray:
    """SAiD's rule, written out with Python floats and ``round`` (``BasicTransformerBlock``)."""
    band = np.zeros((frames, audio_frames), dtype=bool)
    ratio = audio_frames / frames
    for i in range(frames):
        mid, half = (i + 0.5) * ratio, ratio / 2 + 1
        band[i, max(round(mid - half), 0) : min(round(mid + half), audio_frames)] = True
    return band


# ----------------------------------------------------------------------------- config
def test_paper_sizes_and_no_down_sampling():
    model = build_denoiser("said", {"audio_dim": DA}).eval()
    c = model.config
    assert (c.channels, c.res_blocks, c.head_dim, c.cond_drop_prob) == (192, 1, 32, 0.1)
    attns = [m for m in model.modules() if isinstance(m, Attention)]
    # Attention at every block: 1 down, 1 middle, 2 up, each a self- and a cross-attention.
    assert len(attns) == 8 and all(a.heads == 6 and a.head_dim == 32 for a in attns)
    lengths = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: lengths.append(out.shape[-1]))
        for m in model.modules()
        if isinstance(m, torch.nn.Conv1d)
    ]
    x, t, cond = inputs(t=13)
    with torch.no_grad():
        out = model(x, t, cond)
    for h in hooks:
        h.remove()
    assert out.shape == (2, 13, 51)
    assert set(lengths) == {13}  # every feature map keeps all 13 frames


@pytest.mark.parametrize(
    ("key", "value"),
    [("tasks", ["gesture", "face"]), ("tasks", ["gesture"]), ("seed_frames", 30),
     ("head_dim", 7), ("norm_groups", 5), ("cond_drop_prob", 1.5), ("audio_dim", 0)],
)  # fmt: skip
def test_bad_settings_are_refused_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=rf"model\.{key}"):
        build_denoiser("said", {**SMALL, key: value})


# ----------------------------------------------------------------------------- shapes, masks
def test_output_shape_and_shape_errors():
    model = small_model()
    x, t, cond = inputs()
    assert model(x, t, cond).shape == x.shape
    with pytest.raises(ValueError, match=r"cond\['audio'\]"):
        model(x, t, {**cond, "audio": cond["audio"][..., :4]})
    with pytest.raises(ValueError, match=r"cond\['audio'\]"):
        model(x, t, {"speaker": cond["speaker"]})
    with pytest.raises(ValueError, match=r"x_t"):
        model(x[..., :50], t, cond)
    with pytest.raises(ValueError, match=r"cond\['mask'\]"):
        model(x, t, {**cond, "mask": torch.ones(2, 20)})


def test_padded_frames_do_not_change_valid_outputs():
    model = small_model()
    x, t, cond = inputs(t=20)
    mask = torch.ones(2, 20, dtype=torch.bool)
    mask[1, 13:] = False
    mask[0, 17:] = False
    g = torch.Generator().manual_seed(5)
    x2, audio2 = x.clone(), cond["audio"].clone()
    x2[~mask] = 100 * torch.randn(int((~mask).sum()), 51, generator=g)
    audio2[~mask] = 100 * torch.randn(int((~mask).sum()), DA, generator=g)
    with torch.no_grad():
        out = model(x, t, {**cond, "mask": mask})
        out2 = model(x2, t, {**cond, "audio": audio2, "mask": mask})
        unmasked = model(x2, t, {**cond, "audio": audio2})
    # Attention sums over 20 keys; the norms over 20 frames x 4 channels.
    tol = network_tol(model, out, extra_sums=[20, 80])
    assert (out - out2)[mask].abs().max() <= tol
    # Without the mask the same change does reach the valid frames: the test can fail.
    assert (out - unmasked)[mask].abs().max() > 1e3 * tol


def test_attention_is_masked_softmax_and_an_empty_row_attends_to_every_key():
    torch.manual_seed(3)
    attn = Attention(dim=16, context_dim=6, heads=2, head_dim=8).eval()
    x, context = torch.randn(3, 12, 16), torch.randn(3, 9, 6)
    allowed = torch.rand(3, 1, 12, 9) < 0.4
    allowed[0, 0, 4] = False  # a query frame with nothing allowed (a padded frame's row)
    allowed[1, 0, 2] = True

    def written_out(allowed):  # softmax(q k^T / sqrt(d), masked) v, float64
        q = attn.to_q(x).double().reshape(3, 12, 2, 8).transpose(1, 2)
        k = attn.to_k(context).double().reshape(3, 9, 2, 8).transpose(1, 2)
        v = attn.to_v(context).double().reshape(3, 9, 2, 8).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2) / math.sqrt(8)).masked_fill(~allowed, -math.inf)
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(3, 12, 16)
        return F.linear(out, attn.to_out.weight.double(), attn.to_out.bias.double())

    with torch.no_grad():
        out = attn(x, context, allowed)
        expected = written_out(allowed | ~allowed.any(-1, keepdim=True))
        unmasked = attn(x, context, None)
    # Projections (fan-in 16 or 6), a dot of 8, a softmax over 9 keys, a sum of 9, fan-in 16.
    tol = network_tol(attn, out, extra_sums=[8, 9, 9])
    assert (out.double() - expected).abs().max() <= tol
    assert (out[0, 4] - unmasked[0, 4]).abs().max() <= tol  # the empty row: every key
    assert (out[0, 5] - unmasked[0, 5]).abs().max() > 1e3 * tol  # the mask does act


def test_masked_group_norm_is_group_norm_of_the_valid_frames():
    torch.manual_seed(0)
    norm = MaskedGroupNorm(4, 16)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    x = 3 * torch.randn(2, 16, 30) + 1
    mask = torch.ones(2, 30, dtype=torch.bool)
    mask[1, 18:] = False
    out = norm(x, mask).detach()
    # Mean and variance are sums over 4 channels x up to 30 frames, then a few more ops.
    tol = ops_tol(2 * 4 * 30 + 10, float(out.abs().max()))
    full = F.group_norm(x[:1], 4, norm.weight, norm.bias, norm.eps)[0].detach()
    assert (out[0] - full).abs().max() <= tol
    short = F.group_norm(x[1:, :, :18], 4, norm.weight, norm.bias, norm.eps)[0].detach()
    assert (out[1, :, :18] - short).abs().max() <= tol
    assert (
        out[1, :, :18] - norm(x).detach()[1, :, :18]
    ).abs().max() > 1e3 * tol  # plain norm differs


# ----------------------------------------------------------------------------- alignment band
@pytest.mark.parametrize(("frames", "audio_frames"), [(9, 9), (9, 18), (10, 5), (12, 20), (7, 50)])
def test_alignment_band_is_said_rule(frames, audio_frames):
    band = alignment_band(frames, audio_frames, pad=1.0).numpy()
    assert (band == reference_band(frames, audio_frames)).all()
    assert band.any(axis=1).all()  # no motion frame is left without audio


def test_alignment_band_at_one_and_two_audio_frames_per_frame():
    t = 8
    for i, row in enumerate(alignment_band(t, t, 1.0)):
        assert set(row.nonzero().flatten().tolist()) == {i - 1, i, i + 1} & set(range(t))
    for i, row in enumerate(alignment_band(t, 2 * t, 1.0)):
        want = set(range(2 * i - 1, 2 * i + 3)) & set(range(2 * t))
        assert set(row.nonzero().flatten().tolist()) == want


def _cross_attentions(model):
    return [m.cross_attn for m in model.modules() if hasattr(m, "cross_attn")]


@pytest.mark.parametrize("ratio", [1, 2])
def test_model_gives_every_cross_attention_the_band(ratio):
    # Wiring: each cross-attention of the forward pass receives exactly the band (and, with a
    # mask, the band restricted to valid audio).
    model = small_model()
    t = 12
    x, steps, cond = inputs(t=t, la=ratio * t)
    mask = torch.ones(2, t, dtype=torch.bool)
    mask[1, 9:] = False
    seen = []
    hooks = [
        a.register_forward_pre_hook(lambda _m, args: seen.append(args[2]))
        for a in _cross_attentions(model)
    ]
    with torch.no_grad():
        model(x, steps, {**cond, "mask": mask})
    for h in hooks:
        h.remove()
    band = torch.from_numpy(reference_band(t, ratio * t))
    valid_audio = torch.ones(2, ratio * t, dtype=torch.bool)
    valid_audio[1, 9 * ratio :] = False
    want = band[None] & valid_audio[:, None, :]
    assert len(seen) == 4
    for allowed in seen:
        assert torch.equal(allowed.expand(2, 1, t, ratio * t)[:, 0], want)


@pytest.mark.parametrize("ratio", [1, 2])
def test_frame_sees_only_the_audio_of_its_band(ratio):
    # SAiD's mechanism, on each of the network's own cross-attentions: the output at motion
    # frame i is unchanged when audio outside its band changes, and changes with each audio
    # frame inside it.
    model = small_model()
    t, c = 10, model.config.channels
    la = ratio * t
    g = torch.Generator().manual_seed(3)
    h = torch.randn(1, t, c, generator=g)
    audio = torch.randn(1, la, DA, generator=g)
    band = alignment_band(t, la, model.config.align_pad)
    for attn in _cross_attentions(model):
        with torch.no_grad():
            base = attn(h, audio, band[None, None])[0]
            tol = network_tol(attn, base, extra_sums=[la])
            for i in (0, 4, t - 1):
                inside = band[i].nonzero().flatten().tolist()
                outside = (~band[i]).nonzero().flatten()
                changed = audio.clone()
                changed[0, outside] = 10 * torch.randn(len(outside), DA, generator=g)
                out = attn(h, changed, band[None, None])[0]
                assert (out[i] - base[i]).abs().max() <= tol
                assert (out - base).abs().max() > 1e3 * tol  # other frames do see it
                for j in inside:
                    changed = audio.clone()
                    changed[0, j] += 1.0
                    out = attn(h, changed, band[None, None])[0]
                    assert (out[i] - base[i]).abs().max() > 1e3 * tol


# ----------------------------------------------------------------------------- null condition
def test_dropped_audio_is_the_null_embedding():
    model = small_model()
    x, t, cond = inputs()
    other = torch.randn_like(cond["audio"])
    drop = torch.tensor([True, False])
    with torch.no_grad():
        out = model(x, t, {**cond, "drop_speaker": drop})
        out2 = model(x, t, {**cond, "audio": other, "drop_speaker": drop})
    tol = network_tol(model, out, extra_sums=[20, 80])
    assert (out[0] - out2[0]).abs().max() <= tol  # unconditional row: audio is not read
    assert (out[1] - out2[1]).abs().max() > 1e3 * tol  # conditional row: it is


def test_training_drops_the_audio_with_cond_drop_prob():
    model = small_model(cond_drop_prob=1.0).train()
    x, t, cond = inputs()
    with torch.no_grad():
        out = model(x, t, cond)
        out2 = model(x, t, {**cond, "audio": torch.randn_like(cond["audio"])})
    assert (out - out2).abs().max() <= network_tol(model, out, extra_sums=[20, 80])


class HostReads(TorchFunctionMode):
    """Records tensor-to-host reads (each a device synchronisation on a GPU)."""

    READS = {torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__bool__, torch.Tensor.cpu,
             torch.Tensor.numpy, torch.Tensor.nonzero, torch.Tensor.any, torch.Tensor.all,
             torch.any, torch.all, torch.equal}  # fmt: skip

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.READS:
            self.seen.append(func)
        return func(*args, **(kwargs or {}))


def test_forward_reads_no_values_on_the_host():
    model = small_model(cond_drop_prob=0.1).train()
    x, t, cond = inputs()
    cond = {**cond, "mask": torch.ones(2, 20, dtype=torch.bool), "drop_speaker": torch.ones(2) > 0}
    reads = HostReads()
    with reads:
        model(x, t, cond).sum().backward()
    assert reads.seen == []


# ----------------------------------------------------------------------------- schedule
def test_cosine_schedule_is_squaredcos_cap_v2():
    # diffusers' "squaredcos_cap_v2" (SAiD's betas): alpha_bar(u) = cos((u + 0.008) / 1.008 *
    # pi / 2) ** 2 and beta_i = min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), 0.999).
    steps = 1000
    u = np.arange(steps + 1, dtype=np.float64) / steps
    alpha_bar = np.cos((u + 0.008) / 1.008 * np.pi / 2) ** 2
    want = np.minimum(1 - alpha_bar[1:] / alpha_bar[:-1], 0.999)
    got = make_betas("cosine", steps)
    assert np.abs(got - want).max() <= ops_tol(12, 1.0, F64)
    assert got[-1] == 0.999  # the cap is reached at the end


# ----------------------------------------------------------------------------- objective
def _loss_inputs(pred, eps, mask, x0=None):
    return LossInputs(
        pred=pred, x0=torch.zeros_like(eps) if x0 is None else x0, mask=mask,
        task_slices={"face": slice(0, 51)}, valid_frames=mask.sum(), eps=eps,
    )  # fmt: skip


def test_objective_is_l1_on_eps_and_on_its_frame_differences():
    objective = build_objective({"name": "said"})
    assert objective.prediction == "eps"
    g = torch.Generator().manual_seed(0)
    pred, eps = torch.randn(2, 16, 51, generator=g), torch.randn(2, 16, 51, generator=g)
    terms = objective(_loss_inputs(pred, eps, torch.ones(2, 16, dtype=torch.bool)))
    assert set(terms) == {"face"} and set(terms["face"]) == {"eps", "velocity"}
    tol = ops_tol(2 * 16 * 51, 4.0)
    assert abs(terms["face"]["eps"] - F.l1_loss(pred, eps)) <= tol
    d_pred, d_eps = pred.diff(dim=1), eps.diff(dim=1)
    velocity = F.l1_loss(d_pred, d_eps) * 15 / 16  # SAiD's mean over 15 pairs, per 16 frames
    assert abs(terms["face"]["velocity"] - velocity) <= tol
    l2 = build_objective({"name": "said", "norm": "l2"})(
        _loss_inputs(pred, eps, torch.ones(2, 16, dtype=torch.bool))
    )
    assert abs(l2["face"]["eps"] - F.mse_loss(pred, eps)) <= ops_tol(2 * 16 * 51, 16.0)
    with pytest.raises(ConfigError, match="objective"):
        build_objective({"name": "said", "weight": 1.0})


def test_objective_ignores_padded_frames():
    objective = build_objective({"name": "said"})
    g = torch.Generator().manual_seed(0)
    pred, eps = torch.randn(2, 16, 51, generator=g), torch.randn(2, 16, 51, generator=g)
    mask = torch.ones(2, 16, dtype=torch.bool)
    mask[1, 10:] = False
    pred2 = pred.clone()
    pred2[~mask] = 50.0
    a = objective(_loss_inputs(pred, eps, mask))["face"]
    b = objective(_loss_inputs(pred2, eps, mask))["face"]
    assert a["eps"] == b["eps"] and a["velocity"] == b["velocity"]
    pred2[1, 9] += 1.0  # the last valid frame counts in both terms
    c = objective(_loss_inputs(pred2, eps, mask))["face"]
    assert c["eps"] > a["eps"] and c["velocity"] > a["velocity"]


# ----------------------------------------------------------------------------- fitting
def test_fits_one_batch_with_its_own_objective():
    torch.manual_seed(0)
    model = build_denoiser("said", {**SMALL, "cond_drop_prob": 0.0}).train()
    diffusion = make_diffusion(schedule="cosine", steps=1000, prediction="eps")
    objective = build_objective({"name": "said"})
    g = torch.Generator().manual_seed(0)
    b, t = 4, 24
    x0 = torch.randn(b, t, 51, generator=g)
    steps = torch.tensor([50, 300, 600, 900])
    eps = torch.randn(b, t, 51, generator=g)
    x_t = diffusion.q_sample(x0, steps, eps)
    cond = {"audio": torch.randn(b, t, DA, generator=g), "mask": torch.ones(b, t).bool()}
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(200):
        terms = objective(
            LossInputs(pred=model(x_t, steps, cond), x0=x0, mask=cond["mask"],
                       task_slices=model.task_slices, valid_frames=b * t, x_t=x_t, t=steps,
                       eps=eps, diffusion=diffusion)
        )  # fmt: skip
        loss = sum(terms["face"].values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"said overfit: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    assert losses[-1] < losses[0] / 10
