"""ADM denoiser: shapes, masking, seed layout, speaker guidance dropout, registry."""

from __future__ import annotations

import pytest
import torch
from tiny import TINY_DENOISER
from tolerance import network_tol

from adm.config import to_dict
from adm.errors import ConfigError
from adm.models import ADMDenoiser, available_denoisers, build_denoiser

pytestmark = pytest.mark.usefixtures("one_thread")


TINY = {
    **TINY_DENOISER,
    "audio_dim": 7,
    "text_dim": 5,
    "num_speakers": 3,
    "seed_frames": 6,
    "window": 24,
}


def tiny(**overrides) -> ADMDenoiser:
    torch.manual_seed(0)
    return build_denoiser("adm", {**TINY, **overrides})


def inputs(model: ADMDenoiser, b: int = 2, t: int = 24, seed: int = 1):
    c = model.config
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, model.x_dim, generator=g)
    cond = {
        "speaker": torch.arange(b) % c.num_speakers,
        "seed": torch.randn(b, c.seed_frames, model.x_dim, generator=g),
    }
    if c.audio_dim:
        cond["audio"] = torch.randn(b, t, c.audio_dim, generator=g)
    if c.text_dim:
        cond["text"] = torch.randn(b, t, c.text_dim, generator=g)
    steps = torch.randint(0, 1000, (b,), generator=g)
    return x, steps, cond


@pytest.mark.parametrize(
    ("tasks", "dim", "slices"),
    [
        (["gesture", "face"], 192, {"gesture": slice(0, 141), "face": slice(141, 192)}),
        (["face"], 51, {"face": slice(0, 51)}),
        (["gesture"], 141, {"gesture": slice(0, 141)}),
    ],
)
def test_output_shape_and_task_slices(tasks, dim, slices):
    model = tiny(tasks=tasks).eval()
    assert model.x_dim == dim
    assert model.task_slices == slices
    x, t, cond = inputs(model, b=3, t=23)  # T not a multiple of the local window
    out = model(x, t, cond)
    assert out.shape == (3, 23, dim)
    assert torch.isfinite(out).all()


def test_each_task_is_written_by_its_own_decoder():
    model = tiny().eval()
    with torch.no_grad():
        for p in model.decoders["face"].parameters():
            p.zero_()
    out = model(*inputs(model))
    assert torch.all(out[..., model.task_slices["face"]] == 0)
    assert out[..., model.task_slices["gesture"]].abs().sum() > 0


def test_paper_size_model_builds_with_the_paper_sizes():
    model = build_denoiser("adm", {}).eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"paper-size ADM denoiser: {n_params} parameters")
    assert model.x_dim == 192
    assert len(model.encoder.layers) == 8
    assert model.encoder.layers[0].self_attn.num_heads == 4
    assert model.encoder.layers[0].linear1.out_features == 1024
    assert model.local_attn.heads == 8 and model.local_attn.window == 15
    assert model.feature_proj.in_features == 1133 + 301
    assert model.feature_proj.out_features == 96
    assert model.speaker_proj.out_features == 384
    assert 5_000_000 < n_params < 50_000_000
    x, t, cond = inputs(model, b=1, t=150)
    assert model(x, t, cond).shape == (1, 150, 192)


def test_all_parameters_receive_gradients():
    model = tiny().train()
    x, t, cond = inputs(model)
    cond["mask"] = torch.ones(2, 24, dtype=torch.bool)
    model(x, t, cond).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_padded_frames_do_not_change_valid_outputs():
    model = tiny().eval()
    x, t, cond = inputs(model)
    mask = torch.ones(2, 24, dtype=torch.bool)
    mask[0, 17:] = False
    mask[1, 11:] = False
    x2, cond2 = x.clone(), {k: v.clone() for k, v in cond.items()}
    x2[~mask] += 5.0 * torch.randn_like(x2[~mask])
    cond2["audio"][~mask] = 100.0
    cond2["text"][~mask] = -100.0
    with torch.no_grad():
        ref = model(x, t, {**cond, "mask": mask})
        out = model(x2, t, {**cond2, "mask": mask})
        unmasked = model(x2, t, cond2)
        ref_unmasked = model(x, t, cond)
    # Equal up to float32 rounding (the padded keys' softmax weights are exactly 0).
    tol = network_tol(model, ref, [24, 24])  # attention sums over at most the 24 frames
    torch.testing.assert_close(out[mask], ref[mask], atol=tol, rtol=0)
    # Without the mask the same perturbation reaches the valid frames.
    assert (unmasked[mask] - ref_unmasked[mask]).abs().max() > 1e-3


def test_changing_the_seed_changes_the_output():
    model = tiny().eval()
    x, t, cond = inputs(model)
    with torch.no_grad():
        ref = model(x, t, cond)
        out = model(x, t, {**cond, "seed": cond["seed"] + 1.0})
    assert (out - ref).abs().max() > 1e-3


@pytest.mark.parametrize(("layout", "used"), [("prefix", False), ("all", True)])
def test_audio_text_under_the_seed_are_used_only_with_layout_all(layout, used):
    model = tiny(seed_layout=layout).eval()
    x, t, cond = inputs(model)
    s = model.config.seed_frames
    cond2 = {k: v.clone() for k, v in cond.items()}
    cond2["audio"][:, :s] += 3.0
    cond2["text"][:, :s] -= 3.0
    with torch.no_grad():
        ref, out = model(x, t, cond), model(x, t, cond2)
    assert ((out - ref).abs().max() > 1e-3) == used
    # Audio after the seed is always used.
    cond3 = {k: v.clone() for k, v in cond.items()}
    cond3["audio"][:, s:] += 3.0
    with torch.no_grad():
        assert (model(x, t, cond3) - ref).abs().max() > 1e-3


def test_eval_mode_is_deterministic_and_speaker_matters():
    model = tiny().eval()
    x, t, cond = inputs(model)
    with torch.no_grad():
        a, b = model(x, t, cond), model(x, t, cond)
        other = model(x, t, {**cond, "speaker": (cond["speaker"] + 1) % 3})
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    assert (other - a).abs().max() > 1e-4


def test_drop_speaker_makes_output_independent_of_speaker():
    model = tiny().eval()
    x, t, cond = inputs(model)
    drop = torch.tensor([True, False])
    with torch.no_grad():
        a = model(x, t, {**cond, "speaker": torch.tensor([0, 1]), "drop_speaker": drop})
        b = model(x, t, {**cond, "speaker": torch.tensor([2, 2]), "drop_speaker": drop})
    torch.testing.assert_close(a[0], b[0], atol=network_tol(model, a, [24, 24]), rtol=0)
    assert (a[1] - b[1]).abs().max() > 1e-4


def test_train_mode_full_speaker_dropout_ignores_speaker():
    model = tiny(dropout=0.0, cond_drop_prob=1.0)
    x, t, cond = inputs(model)
    model.train()
    a = model(x, t, {**cond, "speaker": torch.tensor([0, 1])})
    b = model(x, t, {**cond, "speaker": torch.tensor([2, 0])})
    tol = network_tol(model, a, [24, 24])
    torch.testing.assert_close(a, b, atol=tol, rtol=0)
    model.eval()  # the same as the explicit null speaker in eval mode
    dropped = model(x, t, {**cond, "drop_speaker": torch.tensor([True, True])})
    torch.testing.assert_close(a, dropped, atol=tol, rtol=0)


def test_model_without_audio_or_text_features():
    model = tiny(audio_dim=0, text_dim=0, seed_frames=0).eval()
    x, t, cond = inputs(model)
    assert set(cond) == {"speaker", "seed"}
    assert model(x, t, {"speaker": cond["speaker"]}).shape == x.shape


def test_bad_inputs_are_named():
    model = tiny().eval()
    x, t, cond = inputs(model)
    with pytest.raises(ValueError, match="x_t"):
        model(x[..., :50], t, cond)
    with pytest.raises(ValueError, match="speaker"):
        model(x, t, {**cond, "speaker": torch.tensor([0, 1, 2])})
    with pytest.raises(ValueError, match=r"speaker.*ids must be in \[0, 3\)"):
        model.check_speakers(torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="audio"):
        model(x, t, {k: v for k, v in cond.items() if k != "audio"})
    with pytest.raises(ValueError, match="seed"):
        model(x, t, {**cond, "seed": cond["seed"][:, :4]})


def test_registry_builds_by_name_and_rejects_unknowns():
    assert "adm" in available_denoisers()
    model = tiny()
    rebuilt = build_denoiser("adm", to_dict(model.config))
    assert rebuilt.config == model.config
    with pytest.raises(ValueError, match="adm"):
        build_denoiser("nope", {})
    with pytest.raises(ConfigError, match="lattent"):
        build_denoiser("adm", {"lattent": 64})
    with pytest.raises(ConfigError, match="local_heads"):
        build_denoiser("adm", {"latent": 36, "local_heads": 8})
    with pytest.raises(ConfigError, match="tasks"):
        build_denoiser("adm", {"tasks": ["gesture", "hands"]})


# The non-default architecture options, one at a time and all together.
OPTIONS = {
    "defaults": {},
    "concat": {"shared_combine": "concat"},
    "norm_first": {"norm_first": True},
    "relu": {"activation": "relu"},
    "all": {"shared_combine": "concat", "norm_first": True, "activation": "relu"},
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_option_sweep_shapes_gradients_and_determinism(options):
    model = tiny(**options).eval()
    x, t, cond = inputs(model, b=3, t=23)  # T not a multiple of the local window
    with torch.no_grad():
        out, again = model(x, t, cond), model(x, t, cond)
        default = tiny().eval()(x, t, cond)
    assert out.shape == (3, 23, model.x_dim) and torch.isfinite(out).all()
    torch.testing.assert_close(out, again, atol=0, rtol=0)  # eval mode is deterministic
    if options:  # the option is used: the same seed builds a model that answers differently
        assert (out - default).abs().max() > 1e-4
    model.train()
    cond["mask"] = torch.ones(3, 23, dtype=torch.bool)
    model(x, t, cond).square().mean().backward()
    # Every parameter takes part: its gradient exists and is not all zero.
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad
    zero = [n for n, p in model.named_parameters() if not p.grad.abs().sum() > 0]
    assert not zero
