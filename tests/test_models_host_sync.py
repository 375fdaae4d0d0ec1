"""The denoiser's forward pass never reads tensor values on the host (on a GPU every such read
waits for the device, once per sampling step): its checks use shapes only, and the value check
of the speaker ids runs once per sampling call."""

from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode

from adm.models import build_denoiser
from adm.sampling.generate import SampleConfig, generate, sampling_diffusion
from adm.sampling.windows import ClipInputs

# Tensor methods that copy a value to the host (each one a device synchronisation on CUDA).
HOST_READS = {
    torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__bool__, torch.Tensor.__int__,
    torch.Tensor.__float__, torch.Tensor.__index__, torch.Tensor.numpy, torch.Tensor.cpu,
    torch.Tensor.nonzero, torch.equal, torch.Tensor.any, torch.Tensor.all, torch.any, torch.all,
}  # fmt: skip

W, S = 24, 6
TINY = {
    "latent": 32, "cond_dim": 16, "id_dim": 32, "time_dim": 32, "local_heads": 2, "heads": 2,
    "ff": 64, "layers": 1, "window": W, "seed_frames": S, "audio_dim": 7, "text_dim": 0,
    "decoder_hidden": 0, "local_window": 6, "num_speakers": 3,
}  # fmt: skip


class HostReads(TorchFunctionMode):
    """Records every host read (see ``HOST_READS``) made while it is active."""

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in HOST_READS:
            self.seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_denoiser("adm", TINY).eval()


def _inputs(model, batch=2):
    c = model.config
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, W, c.x_dim, generator=g)
    cond = {
        "audio": torch.randn(batch, W, 7, generator=g),
        "speaker": torch.arange(batch) % 3,
        "seed": torch.randn(batch, S, c.x_dim, generator=g),
        "mask": torch.ones(batch, W, dtype=torch.bool),
    }
    return x, torch.tensor([5, 900]), cond


@pytest.mark.parametrize("grad", [False, True])
def test_forward_reads_no_values_on_the_host(model, grad):
    x, t, cond = _inputs(model)
    reads = HostReads()
    with torch.set_grad_enabled(grad), reads:
        model(x, t, cond)
    assert reads.seen == []


def test_the_probe_sees_the_old_per_step_check(model):
    # The probe is not blind: the value check it replaced is a host read.
    reads = HostReads()
    with reads:
        bool(((torch.tensor([0, 1]) < 0) | (torch.tensor([0, 1]) >= 3)).any())
    assert reads.seen


def test_forward_still_refuses_bad_shapes(model):
    x, t, cond = _inputs(model)
    with pytest.raises(ValueError, match="speaker"):
        model(x, t, {**cond, "speaker": torch.tensor([0])})
    with pytest.raises(ValueError, match="mask"):
        model(x, t, {**cond, "mask": cond["mask"].long()})
    with pytest.raises(ValueError, match="t: expected"):
        model(x, t[:1], cond)


def _clip(speaker: int, frames: int = 40) -> ClipInputs:
    g = torch.Generator().manual_seed(speaker + 10)
    dim = build_denoiser("adm", TINY).config.x_dim
    return ClipInputs(
        stem=f"clip{speaker}",
        speaker=speaker,
        audio=torch.randn(frames, 7, generator=g),
        text=None,
        seed=torch.randn(S, dim, generator=g),
        num_frames=frames,
    )


def test_speakers_are_checked_once_per_sampling_call(model, monkeypatch):
    checks = []
    original = type(model).check_speakers

    def counted(self, speaker):
        checks.append(speaker.tolist())
        return original(self, speaker)

    monkeypatch.setattr(type(model), "check_speakers", counted)
    config = SampleConfig(sampler="dpmpp_2m", steps=4, batch=1)
    diffusion = sampling_diffusion({"schedule": "cosine", "steps": 20}, config)
    generate(model, diffusion, [_clip(0), _clip(2)], config, seed=0)
    assert checks == [[0, 2]]  # one check for two clips, each of several windows and steps
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\)"):
        generate(model, diffusion, [_clip(3)], config, seed=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_forward_never_synchronises_on_cuda(model):
    # CUDA's own check: with sync debug mode "error" any host synchronisation raises.
    gpu = build_denoiser("adm", TINY).eval().cuda()
    gpu.load_state_dict(model.state_dict())
    x, t, cond = _inputs(gpu)
    x, t = x.cuda(), t.cuda()
    cond = {k: v.cuda() for k, v in cond.items()}
    with torch.no_grad():
        gpu(x, t, cond)  # warm-up: first-call allocations may synchronise
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            gpu(x, t, cond)
        finally:
            torch.cuda.set_sync_debug_mode("default")
