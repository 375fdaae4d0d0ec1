"""MambaTalk: the per-part VQ-VAEs reconstruct, the stage-2 network predicts their codes, and
mambapy's Mamba runs on the CPU wheel of torch that the project pins."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

from adm.config import to_dict
from adm.errors import BadInputError, ConfigError
from adm.io.tensors import save_tensors
from adm.models import build_denoiser
from adm.models.mambatalk.blocks import MambaLayer
from adm.models.mambatalk.parts import (
    UPPER_JOINTS,
    gesture_part_channels,
    part_channels,
    part_dims,
)
from adm.models.mambatalk.vq import (
    PartVQ,
    VQConfig,
    load_part_vq,
    load_part_vqs,
    part_windows,
    save_part_vq,
    train_part_vq,
    vq_file,
)
from adm.skeleton import GESTURE_JOINTS
from adm.training.objectives import LossInputs, build_objective

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("upper", "hands", "face")
A, TXT, NSPK, S, W = 7, 5, 3, 4, 16
TINY = {
    "audio_dim": A, "text_dim": TXT, "num_speakers": NSPK, "window": W, "seed_frames": S,
    "hidden": 32, "fusion_dim": 16, "motion_dim": 16, "motion_layers": 1, "latent_dim": 8,
    "codebook_size": 16, "heads": 2, "part_heads": 2, "decoder_layers": 1,
    "face_scan_layers": 1, "dropout": 0.0, "d_state": 4,
}  # fmt: skip


# ---------------------------------------------------------------- environment
def test_torch_is_the_pinned_cpu_build():
    """mambapy must not have replaced the pinned torch (e.g. by a CUDA build) on CPU machines."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in deps if re.match(r"torch\s*==", d)]
    assert len(pins) == 1, f"pyproject pins torch once, found {pins}"
    pinned = pins[0].split("==", 1)[1].strip()
    installed = importlib.metadata.version("torch")
    release, _, local = installed.partition("+")
    assert release == pinned, f"installed torch {installed}, pyproject pins {pinned}"
    assert any(d.startswith("mambapy") for d in deps), "mambapy is not a dependency"
    if torch.cuda.is_available():
        pytest.skip("a GPU machine: the CPU-build check applies to CPU machines")
    assert local in ("", "cpu"), f"torch {installed} is not a CPU build"
    assert torch.version.cuda is None, f"torch {installed} was built for CUDA {torch.version.cuda}"


def test_mamba_layer_runs_forward_and_backward_on_cpu_and_is_causal():
    torch.manual_seed(0)
    layer = MambaLayer(dim=8, mlp_hidden=16, d_state=4, d_conv=4, expand=2)
    x = torch.randn(2, 13, 8, requires_grad=True)  # 13: not a power of two (pscan pads)
    y = layer(x)
    y.square().mean().backward()
    assert y.shape == x.shape and y.device.type == "cpu"
    grads = [p.grad for p in layer.mixer.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    # the selective scan runs forward in time: later frames never change earlier outputs
    x2 = x.detach().clone()
    x2[:, 7:] = torch.randn(2, 6, 8)
    with torch.no_grad():
        assert torch.equal(layer(x.detach())[:, :7], layer(x2)[:, :7])
        assert not torch.allclose(layer(x.detach())[:, 7:], layer(x2)[:, 7:])


# ---------------------------------------------------------------- parts
def test_parts_split_the_gesture_vector_into_upper_body_and_hands():
    chans = gesture_part_channels()
    assert part_dims() == {"upper": 27, "hands": 114, "face": 51}
    assert sorted(chans["upper"] + chans["hands"]) == list(range(141))
    assert set(UPPER_JOINTS) == {
        "Spine", "Neck", "Neck1", "RightShoulder", "RightArm", "RightForeArm",
        "LeftShoulder", "LeftArm", "LeftForeArm",
    }  # fmt: skip
    wrist = 3 * GESTURE_JOINTS.index("RightHand")
    assert wrist in chans["hands"] and wrist + 2 in chans["hands"]
    x = part_channels({"gesture": slice(0, 141), "face": slice(141, 192)})
    assert x["face"] == tuple(range(141, 192)) and x["upper"] == chans["upper"]


# ---------------------------------------------------------------- stage 1
def _smooth_clips(dim: int, n: int, seed: int, frames: int = 200) -> list[np.ndarray]:
    """Motion of 4 sinusoids (0.3-1.5 Hz at 30 fps) mixed into ``dim`` channels; the mixing is
    fixed, so held-out clips share the training clips' structure but not their phases."""
    mix = np.random.default_rng(1).normal(size=(4, dim)) / 2
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / 30
    clips = []
    for _ in range(n):
        f, phase = rng.uniform(0.3, 1.5, 4), rng.uniform(0, 2 * np.pi, 4)
        clips.append((np.sin(2 * np.pi * f * t + phase) @ mix).astype(np.float32))
    return clips


@pytest.mark.parametrize("part", PARTS)
def test_vq_round_trip_reconstructs_a_held_out_window(part):
    """A tiny VQ-VAE (32-wide codes, 64 of them) trained 400 steps reconstructs held-out
    windows, through its codebook, with a mean squared error under 20% of the data variance
    (predicting the mean scores 100%; these models score 9-11%)."""
    cfg = VQConfig(part=part, latent_dim=32, codebook_size=64, window=32)
    train = part_windows(_smooth_clips(cfg.in_dim, 20, seed=0), window=32, stride=8)
    held_out = torch.from_numpy(part_windows(_smooth_clips(cfg.in_dim, 4, seed=99), 32, 32))
    model, losses = train_part_vq(train, cfg, steps=400, lr=2e-3, seed=0, batch_size=16)
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    with torch.no_grad():
        z_q, codes = model.quantize(model.encode(held_out))
        recon = model.decode(z_q)
        assert torch.equal(z_q, model.codebook.weight[codes])  # the decoder sees codes only
    err = float((recon - held_out).square().mean())
    assert err < 0.2 * float(held_out.var()), (err, float(held_out.var()))
    assert codes.unique().numel() > 4  # not a collapsed codebook


def test_part_windows_cut_every_stride_and_skip_short_clips():
    clips = [np.arange(100 * 2, dtype=np.float64).reshape(100, 2), np.zeros((10, 2))]
    windows = part_windows(clips, window=64, stride=20)
    assert windows.shape == (2, 64, 2) and windows.dtype == np.float32  # starts 0 and 20
    np.testing.assert_array_equal(windows[1], clips[0][20:84])
    with pytest.raises(ValueError, match="no clip has 64 frames"):
        part_windows([np.zeros((63, 2))])


def test_vq_training_is_deterministic_and_leaves_the_global_rng_alone():
    cfg = VQConfig(part="upper", latent_dim=8, codebook_size=8, window=16)
    windows = part_windows(_smooth_clips(27, 3, seed=0, frames=40), window=16, stride=8)
    state = torch.random.get_rng_state()
    a, la = train_part_vq(windows, cfg, steps=5, seed=3, batch_size=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    b, lb = train_part_vq(windows, cfg, steps=5, seed=3, batch_size=4)
    _, lc = train_part_vq(windows, cfg, steps=5, seed=4, batch_size=4)
    assert la == lb and la != lc
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    with pytest.raises(ValueError, match=r"\[N, W, 27\]"):
        train_part_vq(windows[..., :20], cfg, steps=1)


def test_vq_save_and_load_keep_weights_and_config(tmp_path):
    torch.manual_seed(0)
    model = PartVQ(VQConfig(part="hands", latent_dim=8, codebook_size=8, layers=1))
    path = vq_file(tmp_path, "hands")
    save_part_vq(path, model)
    loaded = load_part_vq(path, part="hands")
    assert loaded.config == model.config and not loaded.training
    assert not any(p.requires_grad for p in loaded.parameters())
    x = torch.randn(2, 10, 114)
    with torch.no_grad():
        assert torch.equal(loaded(x)["recon"], model(x)["recon"])
    with pytest.raises(BadInputError, match="'hands' VQ-VAE, expected 'face'"):
        load_part_vq(path, part="face")
    assert list(load_part_vqs(tmp_path, ("hands",))) == ["hands"]
    with pytest.raises(BadInputError, match=r"upper\.safetensors: file not found"):
        load_part_vqs(tmp_path, ("hands", "upper"))
    other = tmp_path / "other.safetensors"
    save_tensors(other, {"w": torch.zeros(2)}, {"format": "something else"})
    with pytest.raises(BadInputError, match="not a MambaTalk part VQ-VAE"):
        load_part_vq(other)


# ---------------------------------------------------------------- stage 2
def _vqs(seed: int = 0) -> dict[str, PartVQ]:
    torch.manual_seed(seed)
    return {p: PartVQ(VQConfig(part=p, latent_dim=8, codebook_size=16, layers=1)) for p in PARTS}


def _model(seed: int = 0, **overrides):
    torch.manual_seed(seed)
    model = build_denoiser("mambatalk", {**TINY, **overrides})
    model.attach_vqs(_vqs(seed))
    return model


def _cond(model, batch: int = 2, length: int = W, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "audio": torch.randn(batch, length, A, generator=g),
        "text": torch.randn(batch, length, TXT, generator=g),
        "speaker": torch.arange(batch) % NSPK,
        "seed": torch.randn(batch, S, model.x_dim, generator=g),
        "mask": torch.ones(batch, length, dtype=torch.bool),
        "semantic": torch.zeros(batch, length),  # unknown to MambaTalk: ignored
    }


def test_forward_and_predict_shapes_and_decoding():
    model = _model().eval()
    cond = _cond(model)
    out = model(cond)
    assert list(out["latent"]) == list(PARTS) == list(out["logits"])
    for p in PARTS:
        assert out["latent"][p].shape == (2, W, 8)
        assert out["logits"][p].shape == (2, W, 16)
    motion = model.predict(cond)
    assert motion.shape == (2, W, 192) and model.x_dim == 192
    # each part's channels hold its VQ decoder's output of the predicted codes / latent
    vqs = model._vqs
    with torch.no_grad():
        upper = vqs["upper"].decode(vqs["upper"].lookup(out["logits"]["upper"].argmax(-1)))
        face = vqs["face"].decode(vqs["face"].quantize(out["latent"]["face"])[0])
    assert torch.equal(motion[..., model.channels("upper")], upper)
    assert torch.equal(motion[..., 141:], face)
    gesture_only = _model(tasks=["gesture"]).eval()
    assert gesture_only.predict(_cond(gesture_only)).shape == (2, W, 141)
    assert list(gesture_only(_cond(gesture_only))["latent"]) == ["upper", "hands"]


def test_padded_frames_do_not_change_valid_frames():
    """Padded frames' audio and text (even NaN) are zeroed before any layer and masked out
    of attention, so the computation at valid frames is identical: equal bit for bit."""
    model = _model().eval()
    cond = _cond(model)
    cond["mask"][0, 10:] = False
    other = {k: v.clone() for k, v in cond.items()}
    other["audio"][0, 10:] = float("nan")
    other["text"][0, 10:] = torch.randn(6, TXT) * 100
    a, b = model(cond), model(other)
    for key in ("latent", "logits"):
        for p in PARTS:
            assert torch.equal(a[key][p][0, :10], b[key][p][0, :10]), (key, p)
            assert torch.equal(a[key][p][1], b[key][p][1])
    ma, mb = model.predict(cond), model.predict(other)
    assert torch.isfinite(mb).all() and torch.equal(ma[0, :10], mb[0, :10])


def test_seed_and_speaker_reach_the_prediction_and_drop_speaker_uses_the_null_speaker():
    model = _model().eval()
    cond = _cond(model)
    base = model(cond)["latent"]["upper"]
    seeded = {**cond, "seed": cond["seed"] + 1.0}
    assert not torch.allclose(model(seeded)["latent"]["upper"], base)
    dropped = model({**cond, "drop_speaker": torch.tensor([True, True])})["latent"]["upper"]
    other_speaker = model({**cond, "speaker": torch.tensor([2, 1])})["latent"]["upper"]
    assert not torch.allclose(dropped, base) and not torch.allclose(other_speaker, base)
    null = {**cond, "speaker": torch.tensor([2, 1]), "drop_speaker": torch.tensor([True, True])}
    assert torch.equal(model(null)["latent"]["upper"], dropped)


def test_shapes_are_checked_naming_the_cond_key():
    model = _model()
    cond = _cond(model)
    for key, bad, msg in (
        ("audio", torch.zeros(2, W, A + 1), r"cond\['audio'\]"),
        ("text", torch.zeros(2, W - 1, TXT), r"cond\['text'\]"),
        ("seed", torch.zeros(2, S + 1, 192), r"cond\['seed'\]"),
        ("speaker", torch.zeros(3, dtype=torch.long), r"cond\['speaker'\]"),
        ("mask", torch.ones(2, W), r"cond\['mask'\]"),
    ):
        with pytest.raises(ValueError, match=msg):
            model({**cond, key: bad})


class HostReads(TorchFunctionMode):
    """Records tensor methods that copy a value to the host (a device sync on a GPU)."""

    READS = {
        torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__bool__, torch.Tensor.__int__,
        torch.Tensor.__float__, torch.Tensor.__index__, torch.Tensor.numpy, torch.Tensor.cpu,
        torch.Tensor.nonzero, torch.equal, torch.Tensor.any, torch.Tensor.all, torch.any,
        torch.all,
    }  # fmt: skip

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.READS:
            self.seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def test_forward_and_predict_read_no_tensor_values_on_the_host():
    model = _model()
    cond = _cond(model)
    cond["mask"][0, 12:] = False
    with HostReads() as reads:
        model.train()(cond)
        model.eval().predict(cond)
    assert reads.seen == []


def test_vqs_stay_frozen_outside_the_state_dict_and_move_with_the_network():
    model = _model()
    assert not any(k.startswith("_vqs") or "codebook" in k for k in model.state_dict())
    assert all(not p.requires_grad for vq in model._vqs.values() for p in vq.parameters())
    model.double()
    assert model._vqs["hands"].codebook.weight.dtype == torch.float64
    fresh = build_denoiser("mambatalk", TINY)
    with pytest.raises(RuntimeError, match="attach_vqs"):
        fresh.predict(_cond(fresh))
    vqs = _vqs()
    with pytest.raises(ConfigError, match="no VQ-VAE for part 'face'"):
        fresh.attach_vqs({"upper": vqs["upper"], "hands": vqs["hands"]})
    with pytest.raises(ConfigError, match="given for 'upper' is the 'hands'"):
        fresh.attach_vqs({**vqs, "upper": vqs["hands"]})
    wide = PartVQ(VQConfig(part="face", latent_dim=16, codebook_size=16, layers=1))
    with pytest.raises(ConfigError, match=r"model.latent_dim: 8, but the 'face' VQ-VAE has 16"):
        fresh.attach_vqs({**vqs, "face": wide})


def test_config_round_trips_through_its_dict_and_refuses_bad_values_naming_the_key():
    config = build_denoiser("mambatalk", TINY).config
    assert build_denoiser("mambatalk", to_dict(config)).config == config  # as checkpoints do
    for bad, key in (
        ({"seed_frames": W}, "model.seed_frames"),
        ({"hidden": 30, "heads": 4}, "model.heads"),
        ({"tasks": ["gesture", "body"]}, "model.tasks"),
        ({"decode_from": {"upper": "codes", "hands": "codes"}}, "model.decode_from"),
        ({"task_dims": {"gesture": 141, "face": 52}}, "model.task_dims.face"),
        ({"nope": 1}, "nope"),
    ):
        with pytest.raises(ConfigError, match=key):
            build_denoiser("mambatalk", {**TINY, **bad})


# ---------------------------------------------------------------- objective
def _spread_codebooks(model, x0):
    """Codebooks set to latents of ``x0`` itself, so the target codes are many and distinct
    (an untrained codebook of +-1/K maps nearly every latent to one code)."""
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p, vq in model._vqs.items():
            z = vq.encode(x0[..., model.channels(p)]).reshape(-1, vq.config.latent_dim)
            vq.codebook.weight.copy_(z[torch.randperm(z.shape[0], generator=g)[:16]])


def _inputs(model, cond, x0, pred):
    valid = cond["mask"].sum()
    return LossInputs(
        pred=pred, x0=x0, mask=cond["mask"], task_slices=model.task_slices, valid_frames=valid
    )


def test_objective_groups_part_terms_by_task_and_rejects_unknown_settings():
    model = _model()
    cond = _cond(model)
    x0 = torch.randn(2, W, 192)
    objective = build_objective({"name": "mambatalk"})
    terms = objective(_inputs(model, cond, x0, model(cond)))
    assert {t: sorted(v) for t, v in terms.items()} == {
        "gesture": ["hands_code", "hands_latent", "upper_code", "upper_latent"],
        "face": ["face_code", "face_latent"],
    }
    assert objective.prediction is None
    # the latent term is 3x the masked MSE against the VQ-VAE's quantised latent
    target = model.encode_targets(x0, cond["mask"])["latent"]["face"]
    mse = (model(cond)["latent"]["face"] - target).square().mean()
    torch.testing.assert_close(terms["face"]["face_latent"], 3 * mse, rtol=1e-5, atol=0)
    with pytest.raises(ConfigError, match="objective: unknown key 'lf'"):
        build_objective({"name": "mambatalk", "lf": 3})
    with pytest.raises(ConfigError, match="objective.code_weights"):
        build_objective({"name": "mambatalk", "code_weights": {"upper": 1}})


def test_stage2_overfits_one_batch_with_its_own_objective():
    """One batch, 250 Adam steps: the summed loss falls 10x or more (about 30x here) and the codes
    predicted go from chance (under 10%) to the VQ-VAEs' codes of the ground truth (all)."""
    model = _model(seed=1)
    cond = _cond(model, seed=1)
    cond["mask"][1, 12:] = False
    g = torch.Generator().manual_seed(2)
    x0 = torch.cumsum(torch.randn(2, W, 192, generator=g) * 0.3, dim=1)  # smooth-ish motion
    _spread_codebooks(model, x0)
    objective = build_objective({"name": "mambatalk"})
    targets = model.encode_targets(x0, cond["mask"])["codes"]
    assert all(targets[p][cond["mask"]].unique().numel() >= 6 for p in PARTS)

    def accuracy(out):
        hits = [(out["logits"][p].argmax(-1) == targets[p])[cond["mask"]] for p in PARTS]
        return float(torch.cat(hits).float().mean())

    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    losses, acc0 = [], None
    for _ in range(250):
        out = model(cond)
        acc0 = accuracy(out) if acc0 is None else acc0
        terms = objective(_inputs(model, cond, x0, out))
        loss = sum(sum(v.values()) for v in terms.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    acc1 = accuracy(model(cond))
    assert losses[-1] * 10 <= losses[0], (losses[0], losses[-1])
    assert acc0 < 0.3 and acc1 > 0.9, (acc0, acc1)


# ---------------------------------------------------------------- masked-motion passes
def test_the_motion_input_shows_the_motion_where_known_and_the_query_elsewhere():
    """MambaTalk's masked passes: the ground truth where ``known``, the learnable query
    elsewhere; nothing known reads no motion at all, and the seed is then not used."""
    model = _model().eval()
    cond = _cond(model)
    g = torch.Generator().manual_seed(3)
    motion = torch.randn(2, W, model.x_dim, generator=g)
    other = motion + torch.randn(2, W, model.x_dim, generator=g)
    nothing = torch.zeros(2, W, model.x_dim, dtype=torch.bool)
    a = model({**cond, "motion": motion, "known": nothing})["latent"]["upper"]
    b = model({**cond, "motion": other, "known": nothing, "seed": cond["seed"] + 5})
    assert torch.equal(a, b["latent"]["upper"])
    half = torch.rand(2, W, model.x_dim, generator=g) < 0.5
    shown = model({**cond, "motion": motion, "known": half})["latent"]["upper"]
    changed = torch.where(half, other, motion)  # differs only where shown
    assert not torch.allclose(
        model({**cond, "motion": changed, "known": half})["latent"]["upper"], shown
    )
    hidden_changed = torch.where(half, motion, other)  # differs only where hidden
    same = model({**cond, "motion": hidden_changed, "known": half})["latent"]["upper"]
    assert torch.equal(same, shown)
    # the output's rerun is the same network call
    rerun = model(cond)["with_motion"](motion, half)["latent"]["upper"]
    assert torch.equal(rerun, shown)
    with pytest.raises(ValueError, match=r"cond\['motion'\] and cond\['known'\]"):
        model({**cond, "known": half})
    with pytest.raises(ValueError, match=r"cond\['known'\]: expected bool"):
        model({**cond, "motion": motion, "known": half.float()})


def test_training_adds_the_masked_passes_with_a_growing_mask_and_validation_does_not():
    objective = build_objective({"name": "mambatalk"})
    assert objective.draws_motion_noise
    assert objective.mask_ratio(0.0) == pytest.approx(0.05)
    assert objective.mask_ratio(0.5) == pytest.approx(0.525) and objective.mask_ratio(1.0) == 1.0
    x0 = torch.randn(2, W, 192, generator=torch.Generator().manual_seed(4))
    noise = torch.rand(2, W, 192, generator=torch.Generator().manual_seed(5))
    known = noise >= 0.525  # the mask at half-way: each element hidden with probability 0.525
    for dropout in (0.0, 0.3):
        model = _model(dropout=dropout).train()
        cond = _cond(model)
        torch.manual_seed(8)
        inputs = _inputs(model, cond, x0, model(cond))
        train = objective(LossInputs(**{**vars(inputs), "progress": 0.5, "motion_noise": noise}))
        names = {
            f"{p}_{k}{s}"
            for p in ("upper", "hands")
            for k in ("code", "latent")
            for s in ("", "_masked")
        }
        assert set(train["gesture"]) == names
        # both passes in one term: with the same dropout draws, twice one pass (MambaTalk's
        # weights: 3 x latent MSE and cross-entropy weight 1 per pass)
        torch.manual_seed(8)
        model(cond)  # the first pass's draws
        once = model(cond)["with_motion"](x0, known)
        target = model.encode_targets(x0, cond["mask"])
        mse = (once["latent"]["hands"] - target["latent"]["hands"]).square().mean()
        if dropout == 0.0:  # the passes are equal: run once, counted twice
            torch.testing.assert_close(
                train["gesture"]["hands_latent_masked"], 2 * 3 * mse, rtol=1e-5, atol=0
            )
        else:  # two different dropout draws: not twice the first one
            assert not torch.allclose(train["gesture"]["hands_latent_masked"], 2 * 3 * mse)
        assert set(objective(inputs)["face"]) == {"face_code", "face_latent"}  # validation
    none = build_objective({"name": "mambatalk", "masked_passes": 0})
    assert not none.draws_motion_noise
    with pytest.raises(ConfigError, match="objective.masked_passes"):
        build_objective({"name": "mambatalk", "masked_passes": -1})
    with pytest.raises(ConfigError, match="objective.mask_ratio_start"):
        build_objective({"name": "mambatalk", "mask_ratio_start": 1.5})


def _trainer(iterations: int):
    from adm.diffusion import make_diffusion
    from adm.training.config import TrainConfig
    from adm.training.distributed import DistContext
    from adm.training.step import Trainer
    from adm.weighting import build_weighting

    model = _model(seed=2, dropout=0.2)  # dropout on: the two masked passes differ
    cfg = TrainConfig(batch=2, window=W, seed_frames=S, iterations=iterations, lr=1e-3)
    weighting = build_weighting("uncertainty", model.config.tasks)
    diffusion = make_diffusion("cosine", 20, "x0")
    objective = build_objective({"name": "mambatalk"})
    return Trainer(model, weighting, diffusion, cfg, DistContext(), objective)


def test_trainer_steps_with_masked_passes_resume_exactly():
    """The masks come from the trainer's checkpointed noise generator and the step count, the
    dropout from the global generator: 2 steps, a restored trainer's 2 more steps, equal 4
    straight steps bit for bit."""
    from adm.training.dataset import Batch
    from adm.training.rng import capture_rng, restore_rng

    g = torch.Generator().manual_seed(6)
    x0 = torch.randn(2, W, 192, generator=g)
    cond = _cond(_model(), seed=6)
    cond["seed"] = x0[:, :S].clone()
    batch = Batch(x0, cond)
    straight = _trainer(4)
    losses = [straight.train_step(batch) for _ in range(4)]
    assert set(losses[0]) == {"total", "gesture", "face"}
    split = _trainer(4)
    for _ in range(2):
        split.train_step(batch)
    state = {k: v.clone() for k, v in split.module.state_dict().items()}
    optimizer, rng = split.optimizer.state_dict(), capture_rng(split.generators())
    resumed = _trainer(4)
    resumed.module.load_state_dict(state)
    resumed.optimizer.load_state_dict(optimizer)
    resumed.step = 2
    torch.manual_seed(99)  # disturbed: the restore must put every generator back
    restore_rng(rng, resumed.generators())
    for _ in range(2):
        resumed.train_step(batch)
    for key, value in straight.module.state_dict().items():
        assert torch.equal(value, resumed.module.state_dict()[key]), key


def test_a_masked_pass_shows_no_motion_of_padded_frames():
    """A window's padded frames show the query even where ``known``: their motion (here NaN)
    never reaches a valid frame through the conv encoder."""
    model = _model().eval()
    cond = _cond(model)
    cond["mask"][0, 10:] = False
    g = torch.Generator().manual_seed(9)
    motion = torch.randn(2, W, model.x_dim, generator=g)
    known = torch.rand(2, W, model.x_dim, generator=g) < 0.7
    noisy = motion.clone()
    noisy[0, 10:] = float("nan")
    a = model({**cond, "motion": motion, "known": known})
    b = model({**cond, "motion": noisy, "known": known})
    for p in PARTS:
        assert torch.isfinite(b["latent"][p]).all()
        assert torch.equal(a["latent"][p][0, :10], b["latent"][p][0, :10]), p
        assert torch.equal(a["latent"][p][1], b["latent"][p][1]), p
