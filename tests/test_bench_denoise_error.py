"""``python -m adm.bench denoise-error``: per-step denoising error and the noise floor of a
network narrower than its stream."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from adm.bench import denoise_error

pytestmark = pytest.mark.usefixtures("one_thread")

B, W, D, K = 8, 40, 20, 6


class Narrow(torch.nn.Module):
    """Predicts eps as x_t on its first K channels and 0 on the rest: what a K-wide layer can
    at best pass through when x_t is almost pure noise."""

    task_slices = {"gesture": slice(0, D)}
    config = SimpleNamespace(latent=K)

    def forward(self, x_t, t, cond):
        out = torch.zeros_like(x_t)
        out[..., :K] = x_t[..., :K]
        return out


def test_a_narrow_eps_network_sits_on_the_floor_it_is_reported_with():
    ckpt = SimpleNamespace(
        model=Narrow(),
        diffusion_config={"schedule": "cosine", "steps": 1000, "prediction": "eps"},
        metadata={"denoiser": "diffsheg"},
    )
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(B, W, D, generator=g)
    cond = {"mask": torch.ones(B, W, dtype=torch.bool)}
    rows = denoise_error.measure(ckpt, (x0, cond), [980, 999], seed=1)
    assert [(r["step"], r["task"]) for r in rows] == [(980, "gesture"), (999, "gesture")]
    floor = 1 - K / D
    for row in rows:
        assert row["floor"] == pytest.approx(floor)
        # The missing channels' squared unit noise averaged over B*W*(D-K) values, as a share
        # of all D channels; the kept channels err by sqrt(abar) x0, below 1e-3 here.
        n = B * W * (D - K)
        assert row["eps_mse"] == pytest.approx(floor, abs=5 * floor * (2 / n) ** 0.5 + 1e-3)
        assert row["x0_mse"] > row["x0_var"]  # at the noisy end: worse than the mean


def test_x0_networks_report_no_floor_and_bad_arguments_get_one_line(tmp_path, capsys):
    ckpt = SimpleNamespace(
        model=Narrow(),
        diffusion_config={"schedule": "cosine", "steps": 1000, "prediction": "x0"},
        metadata={"denoiser": "adm"},
    )
    x0 = torch.zeros(2, W, D)
    rows = denoise_error.measure(ckpt, (x0, {"mask": torch.ones(2, W, dtype=torch.bool)}), [10])
    assert rows[0]["floor"] == 0.0
    missing = tmp_path / "none.safetensors"
    assert denoise_error.main(["--checkpoint", str(missing)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0]
