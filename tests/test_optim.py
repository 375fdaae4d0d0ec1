"""The trainers' fused Adam and AdamW (:mod:`adm.optim`): the same update as PyTorch's
per-tensor loop up to rounding, and the benchmark that times the two."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tolerance import ops_tol

from adm.bench import optimizer as bench
from adm.optim import adam, adamw

ROOT = Path(__file__).resolve().parents[1]


def _train(make, steps: int = 20) -> list[torch.Tensor]:
    torch.manual_seed(0)
    params = [torch.randn(40, 30, requires_grad=True), torch.randn(30, requires_grad=True)]
    opt = make(
        [{"params": params[:1], "weight_decay": 0.01}, {"params": params[1:], "lr": 0.05}],
        lr=1e-3,
        betas=(0.5, 0.999),
    )
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize(
    ("fused", "loop"),
    [(adam, torch.optim.Adam), (adamw, torch.optim.AdamW)],
)
def test_fused_update_is_the_per_tensor_loop_up_to_rounding(fused, loop):
    steps = 20
    got = _train(fused, steps)
    want = _train(lambda groups, **kw: loop(groups, foreach=False, **kw), steps)
    assert all(g["fused"] for g in fused([torch.zeros(1, requires_grad=True)]).param_groups)
    start = _train(fused, 0)
    for a, b, a0 in zip(got, want, start, strict=True):
        # Each step rounds about ten operations on values of the parameters' size (the update
        # is at most lr / (1 - beta1) in size); the steps' errors add up.
        tol = ops_tol(10 * steps, float(b.abs().max()) + 0.1)
        assert (a - b).abs().max() <= tol
        assert (a - a0).abs().max() > 100 * tol  # the steps did move the parameters


def test_benchmark_times_each_distinct_network_once(capsys):
    assert bench.main(["--config", str(ROOT / "config.yaml"), "--steps", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line[:28].strip(): line.split() for line in lines[1:]}
    # no_uwp trains full's network and DiffSHEG + UWP DiffSHEG's: timed once each.
    assert {"full", "said", "diffsheg", "camn", "mambatalk", "dsg"} <= set(rows)
    assert not {"no_uwp", "diffsheg_uwp", "mambatalk_uwp"} & set(rows)
    assert {"metric: motion autoencoder", "metric: face VAE"} <= set(rows)
    for fields in rows.values():
        assert fields[-1].endswith("x") and float(fields[-1][:-1]) > 0
