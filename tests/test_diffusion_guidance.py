"""Classifier-free guidance: the blend formula, scale 1, and one batched forward pass."""

from __future__ import annotations

import torch

from adm.diffusion.guidance import guided_model
from adm.diffusion.respace import make_diffusion
from adm.sampling.chain import sample_chain


class ToyModel:
    """out = 2 x_t + speaker (speaker nulled where drop_speaker); records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[torch.Tensor, torch.Tensor, dict]] = []

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        self.calls.append((x_t, t, cond))
        drop = cond.get("drop_speaker", torch.zeros(x_t.shape[0], dtype=torch.bool))
        speaker = torch.where(drop[:, None], 0.0, cond["speaker"])
        return 2.0 * x_t + speaker * cond["gain"]


def _inputs() -> tuple[torch.Tensor, torch.Tensor, dict]:
    x_t = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
    t = torch.tensor([5, 6, 7])
    cond = {"speaker": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "gain": 0.5}
    return x_t, t, cond


def test_scale_one_is_the_plain_conditional_model_with_one_call() -> None:
    model = ToyModel()
    x_t, t, cond = _inputs()
    out = guided_model(model, 1.0)(x_t, t, cond)
    torch.testing.assert_close(out, 2.0 * x_t + 0.5 * cond["speaker"])
    assert len(model.calls) == 1 and "drop_speaker" not in model.calls[0][2]


def test_scale_matches_the_formula_in_one_batched_call() -> None:
    model = ToyModel()
    x_t, t, cond = _inputs()
    scale = 2.5
    out = guided_model(model, scale)(x_t, t, cond)
    cond_out, uncond = 2.0 * x_t + 0.5 * cond["speaker"], 2.0 * x_t
    torch.testing.assert_close(out, uncond + scale * (cond_out - uncond))
    assert len(model.calls) == 1
    x_both, t_both, cond_both = model.calls[0]
    assert x_both.shape == (6, 2) and torch.equal(t_both, torch.cat([t, t]))
    assert cond_both["drop_speaker"].tolist() == [False] * 3 + [True] * 3
    assert torch.equal(cond_both["speaker"], torch.cat([cond["speaker"], cond["speaker"]]))
    assert cond_both["gain"] == 0.5
    # The caller's dict is left untouched.
    assert "drop_speaker" not in cond and cond["speaker"].shape == (3, 2)


def test_scale_zero_is_unconditional_and_caller_drops_are_kept() -> None:
    model = ToyModel()
    x_t, t, cond = _inputs()
    torch.testing.assert_close(guided_model(model, 0.0)(x_t, t, cond), 2.0 * x_t)
    # Rows the caller already drops get no speaker push at any scale.
    dropped = {**cond, "drop_speaker": torch.tensor([True, False, False])}
    out = guided_model(model, 3.0)(x_t, t, dropped)
    expected = 2.0 * x_t + 3.0 * 0.5 * cond["speaker"]
    expected[0] = 2.0 * x_t[0]
    torch.testing.assert_close(out, expected)


def test_guided_model_drives_a_sampler() -> None:
    diffusion = make_diffusion("cosine", 20, respacing="ddim5")
    model = ToyModel()
    cond = {"speaker": torch.ones(4, 3), "gain": 0.1}
    gens = [torch.Generator().manual_seed(b) for b in range(4)]
    out = sample_chain(diffusion, guided_model(model, 2.0), (4, 3), cond, gens, "ddim")
    assert out.shape == (4, 3) and torch.isfinite(out).all()
    assert len(model.calls) == 5
