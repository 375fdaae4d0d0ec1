"""DiffSHEG (UniEG): shapes, masking, zero-initialised FiLM, the uni-directional face -> gesture
flow (no gradient from the gesture loss into the expression branch) and its objective."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_models_host_sync import HostReads
from tolerance import gamma, network_tol, ops_tol

from adm.config import from_dict
from adm.diffusion import make_diffusion
from adm.errors import ConfigError
from adm.models import build_denoiser
from adm.models.diffsheg_config import DiffSHEGConfig
from adm.models.diffsheg_layers import FeedForward, FiLM, LinearSelfAttention
from adm.training.objectives import LossInputs, build_objective, task_totals

pytestmark = pytest.mark.usefixtures("one_thread")

DIMS = {"gesture": 141, "face": 51}
TINY = {
    "audio_dim": 7,
    "text_dim": 5,
    "num_speakers": 3,
    "window": 24,
    "layers": 2,
    "latent": 32,
    "heads": 4,
    "ff": 64,
    "audio_width": 16,
    "audio_latent": 16,
}
B, T = 2, 24


def tiny(**overrides):
    torch.manual_seed(0)
    return build_denoiser("diffsheg", {**TINY, **overrides})


def inputs(model, b: int = B, t: int = T, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, model.x_dim, generator=g)
    cond = {
        "audio": torch.randn(b, t, model.config.audio_dim, generator=g),
        "text": torch.randn(b, t, model.config.text_dim, generator=g),
        "speaker": torch.arange(b) % model.config.num_speakers,
    }
    return x, torch.randint(0, 1000, (b,), generator=g), cond


def train_film_weights(model):
    """Give every zero-initialised output layer random weights, as after training, so that
    every path of the network carries signal (a fresh network skips the attention/FFN)."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, FiLM | FeedForward):
                last = m.out[-1] if isinstance(m, FiLM) else m.net[-1]
                last.weight.copy_(0.1 * torch.randn(last.weight.shape, generator=g))
    return model


def test_output_shape_slices_and_paper_defaults():
    model = tiny().eval()
    assert model.x_dim == 192
    assert model.task_slices == {"gesture": slice(0, 141), "face": slice(141, 192)}
    x, t, cond = inputs(model, b=3, t=17)
    with torch.no_grad():
        out = model(x, t, cond)
    assert out.shape == (3, 17, 192)
    assert torch.isfinite(out).all()
    paper = from_dict(DiffSHEGConfig, {})
    sizes = {k: getattr(paper, k) for k in ("layers", "latent", "heads", "ff", "dropout")}
    assert sizes == {"layers": 8, "latent": 512, "heads": 8, "ff": 1024, "dropout": 0.0}
    chain = (paper.diffusion_schedule, paper.diffusion_steps, paper.cond_drop_prob)
    assert chain == ("linear", 1000, 0.0)


def test_null_speaker_removes_the_speaker():
    model = train_film_weights(tiny()).eval()
    x, t, cond = inputs(model)
    other = {**cond, "speaker": (cond["speaker"] + 1) % model.config.num_speakers}
    drop = {"drop_speaker": torch.ones(B, dtype=torch.bool)}
    with torch.no_grad():
        assert not torch.allclose(model(x, t, cond), model(x, t, other))
        torch.testing.assert_close(
            model(x, t, {**cond, **drop}), model(x, t, {**other, **drop}), rtol=0, atol=0
        )
    # Training with cond_drop_prob 1 always takes the null row.
    model = train_film_weights(tiny(cond_drop_prob=1.0)).train()
    with torch.no_grad():
        torch.testing.assert_close(model(x, t, cond), model(x, t, other), rtol=0, atol=0)


def test_single_task_and_bad_sizes_are_refused():
    with pytest.raises(ConfigError, match=r"model\.tasks"):
        tiny(tasks=["gesture"])
    with pytest.raises(ConfigError, match=r"model\.tasks"):
        tiny(tasks=["face", "gesture"])
    with pytest.raises(ConfigError, match=r"model\.latent"):
        tiny(latent=30)
    with pytest.raises(ConfigError, match=r"diffusion\.schedule"):
        tiny(diffusion_schedule="quadratic")
    with pytest.raises(ConfigError, match=r"model: unknown key 'decoder_hidden'"):
        tiny(decoder_hidden=3)


def test_bad_inputs_are_named():
    model = tiny().eval()
    x, t, cond = inputs(model)
    with pytest.raises(ValueError, match=r"cond\['audio'\]"):
        model(x, t, {k: v for k, v in cond.items() if k != "audio"})
    with pytest.raises(ValueError, match=r"cond\['mask'\]"):
        model(x, t, {**cond, "mask": torch.ones(B, T)})
    with pytest.raises(ValueError, match=r"x_t"):
        model(x[..., :100], t, cond)


def test_forward_reads_no_values_on_the_host():
    model = tiny().eval()
    x, t, cond = inputs(model)
    cond = {
        **cond,
        "mask": torch.ones(B, T, dtype=torch.bool),
        "drop_speaker": torch.tensor([True, False]),
    }
    with torch.no_grad(), HostReads() as reads:
        model(x, t, cond)
    assert reads.seen == []


def test_fresh_film_blocks_are_identity():
    model = tiny()
    films = [m for m in model.modules() if isinstance(m, FiLM)]
    # Two per layer (attention, FFN): 2 branches x 2 layers, plus the audio encoder layer.
    assert len(films) == 2 * (2 * TINY["layers"] + 1)
    g = torch.Generator().manual_seed(3)
    emb = torch.randn(B, model.config.time_dim, generator=g)
    for film in films:
        y = torch.randn(B, T, film.norm.normalized_shape[0], generator=g)
        assert torch.equal(film(y, emb), torch.zeros_like(y))
    mask = torch.ones(B, T, dtype=torch.bool)
    for block in model.modules():
        if isinstance(block, LinearSelfAttention | FeedForward):
            h = torch.randn(B, T, block.film.norm.normalized_shape[0], generator=g)
            out = block(h, emb, mask) if isinstance(block, LinearSelfAttention) else block(h, emb)
            assert torch.equal(out, h)


def test_padded_frames_do_not_change_valid_outputs():
    model = train_film_weights(tiny()).eval()
    x, t, cond = inputs(model)
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[0, 17:] = False
    mask[1, 9:] = False
    x2, cond2 = x.clone(), {k: v.clone() for k, v in cond.items()}
    x2[~mask] += 5.0 * torch.randn_like(x2[~mask])
    cond2["audio"][~mask] = 100.0
    with torch.no_grad():
        ref = model(x, t, {**cond, "mask": mask})
        out = model(x2, t, {**cond2, "mask": mask})
        ref_unmasked = model(x, t, cond)
        unmasked = model(x2, t, cond2)
    # Padded keys get softmax weight exactly 0 and value 0; what remains is rounding.
    tol = network_tol(model, ref, [T, T])  # the two attention sums run over <= T frames
    torch.testing.assert_close(out[mask], ref[mask], atol=tol, rtol=0)
    # Without the mask the same change reaches the valid frames: the check can fail.
    assert (unmasked[mask] - ref_unmasked[mask]).abs().max() > 100 * tol


def test_face_does_not_see_gestures_but_gestures_see_the_face():
    model = train_film_weights(tiny()).eval()
    x, t, cond = inputs(model)
    sl = model.task_slices
    other_gesture, other_face = x.clone(), x.clone()
    other_gesture[..., sl["gesture"]] = torch.randn_like(x[..., sl["gesture"]])
    other_face[..., sl["face"]] = torch.randn_like(x[..., sl["face"]])
    with torch.no_grad():
        ref = model(x, t, cond)
        new_gesture = model(other_gesture, t, cond)
        new_face = model(other_face, t, cond)
    # The face branch never reads the gesture channels: its output is bit-identical.
    assert torch.equal(new_gesture[..., sl["face"]], ref[..., sl["face"]])
    assert not torch.allclose(new_gesture[..., sl["gesture"]], ref[..., sl["gesture"]])
    # The gesture branch reads the face estimate.
    assert not torch.allclose(new_face[..., sl["gesture"]], ref[..., sl["gesture"]])


def test_face_estimate_is_the_diffusion_x0_of_the_face_eps():
    model = tiny()
    diffusion = make_diffusion(schedule="linear", steps=1000, prediction="eps")
    g = torch.Generator().manual_seed(2)
    x_face, eps_face = torch.randn(2, B, T, 51, generator=g)
    t = torch.tensor([0, 999])
    got = model.face_x0(x_face, t, eps_face)
    want = diffusion.predict_x0_from_eps(x_face, t, eps_face)
    # Two float32 coefficients (rounded once each) times inputs, one subtraction.
    scale = float((diffusion.sqrt_recip_alphas_cumprod[-1] + 1) * x_face.abs().max())
    scale += float(diffusion.sqrt_recipm1_alphas_cumprod[-1] * eps_face.abs().max())
    torch.testing.assert_close(got, want, atol=ops_tol(4, scale), rtol=0)


def _batch(model, diffusion, b=4, t=T, seed=5, semantic=True):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(b, t, model.x_dim, generator=g)
    eps = torch.randn(b, t, model.x_dim, generator=g)
    steps = torch.linspace(20, 700, b).long()  # low to high noise
    x_t = diffusion.q_sample(x0, steps, eps)
    cond = {
        "audio": torch.randn(b, t, model.config.audio_dim, generator=g),
        "speaker": torch.arange(b) % model.config.num_speakers,
        "mask": torch.ones(b, t, dtype=torch.bool),
    }
    if semantic:
        cond["semantic"] = torch.rand(b, t, generator=g)
    return x0, eps, steps, x_t, cond


def _loss_inputs(pred, x0, eps, steps, x_t, cond, model, diffusion):
    return LossInputs(
        pred=pred,
        x0=x0,
        mask=cond["mask"],
        task_slices=model.task_slices,
        valid_frames=cond["mask"].sum(),
        x_t=x_t,
        t=steps,
        eps=eps,
        diffusion=diffusion,
        cond=cond,
    )


def test_gesture_loss_sends_no_gradient_into_the_expression_branch():
    model = train_film_weights(tiny()).train()
    diffusion = make_diffusion(schedule="linear", steps=1000, prediction="eps")
    objective = build_objective({"name": "diffsheg"})
    x0, eps, steps, x_t, cond = _batch(model, diffusion)

    def gesture_grads():
        pred = model(x_t, steps, cond)
        terms = objective(_loss_inputs(pred, x0, eps, steps, x_t, cond, model, diffusion))
        loss = task_totals(terms)["gesture"]
        branches = (model.expression, model.gesture)
        params = [list(branch.parameters()) for branch in branches]
        grads = torch.autograd.grad(loss, params[0] + params[1], allow_unused=True)
        n = len(params[0])
        return grads[:n], grads[n:]

    expression, gesture = gesture_grads()
    assert all(g is None or not g.abs().max() > 0 for g in expression)
    assert sum(float(g.abs().sum()) for g in gesture if g is not None) > 0

    # The block is the detach: the same link without it carries gradient into the face branch.
    a, b = model.sqrt_recip_abar, model.sqrt_recipm1_abar
    model.face_x0 = lambda x, t, e: a[t][:, None, None] * x - b[t][:, None, None] * e
    expression, _ = gesture_grads()
    assert sum(float(g.abs().sum()) for g in expression if g is not None) > 0


def test_objective_terms_sum_to_diffsheg_loss():
    model = tiny().eval()
    diffusion = make_diffusion(schedule="linear", steps=1000, prediction="eps")
    x0, eps, steps, x_t, cond = _batch(model, diffusion)
    pred = eps + 0.3 * torch.randn_like(eps)
    terms = build_objective({"name": "diffsheg"})(
        _loss_inputs(pred, x0, eps, steps, x_t, cond, model, diffusion)
    )
    assert {task: set(parts) for task, parts in terms.items()} == {
        "gesture": {"eps", "velocity", "huber"},
        "face": {"eps", "velocity", "huber"},
    }
    # DiffSHEG's loss over all 192 channels at once (full windows), written out in float64;
    # the velocity mean divides by the frames (as every term here), DiffSHEG's by the pairs.
    p, x0d, xt, e = (v.double() for v in (pred, x0, x_t, eps))
    abar = torch.from_numpy(diffusion.alphas_cumprod)[steps][:, None, None]
    x0_hat = (xt - (1 - abar).sqrt() * p) / abar.sqrt()
    w = cond["semantic"].double()[..., None] + 1
    expected = (
        1000 * (p - e).square().mean()
        + (x0_hat.diff(dim=1) - x0d.diff(dim=1)).square().sum() / x0d.numel()
        + 100 * F.smooth_l1_loss(w * x0_hat, w * x0d, beta=0.1)
    )
    total = sum(task_totals(terms).values())
    # float32 sums of n = B T D non-negative terms (gamma(n) of the value), each from ~16
    # roundings of x0_hat = a x_t - b eps, whose terms exceed the result by ``cancel``.
    cancel = float(((xt / abar.sqrt()).abs() + ((1 / abar - 1).sqrt() * p).abs()).max())
    cancel /= float((x0_hat - x0d).abs().mean())
    tol = gamma(x0d.numel() + 16) * cancel * float(expected)
    torch.testing.assert_close(total.double(), expected, atol=tol, rtol=0)


def test_objective_ignores_padded_frames_and_pairs():
    model = tiny().eval()
    diffusion = make_diffusion(schedule="linear", steps=1000, prediction="eps")
    x0, eps, steps, x_t, cond = _batch(model, diffusion)
    cond["mask"][0, 15:] = False
    pred = eps + 0.3 * torch.randn_like(eps)
    objective = build_objective({"name": "diffsheg"})
    ref = objective(_loss_inputs(pred, x0, eps, steps, x_t, cond, model, diffusion))
    pad = ~cond["mask"]
    x0b, predb = x0.clone(), pred.clone()
    x0b[pad] = 50.0
    predb[pad] = -50.0
    out = objective(_loss_inputs(predb, x0b, eps, steps, x_t, cond, model, diffusion))
    for task in ref:
        for term in ref[task]:
            torch.testing.assert_close(out[task][term], ref[task][term], rtol=1e-6, atol=0)


def test_one_batch_overfits_with_the_diffsheg_objective():
    # 48 frames under a 64-wide output layer: the random eps targets are within its rank.
    model = tiny(latent=64, ff=128).train()
    diffusion = make_diffusion(schedule="linear", steps=1000, prediction="eps")
    objective = build_objective({"name": "diffsheg"})
    x0, eps, steps, x_t, cond = _batch(model, diffusion, b=2)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(100):
        pred = model(x_t, steps, cond)
        terms = objective(_loss_inputs(pred, x0, eps, steps, x_t, cond, model, diffusion))
        loss = sum(task_totals(terms).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    print(f"diffsheg overfit: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    assert losses[-1] < losses[0] / 10
