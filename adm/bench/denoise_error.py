"""Benchmark: how well a trained diffusion model denoises, step by step, per task.

``python -m adm.bench denoise-error --checkpoint results/train/<variant>/ema.safetensors
[--results results] [--steps 0 20 100 300 500 700 900 980] [--windows 32] [--threads 1]``
trains nothing. It noises the first ``--windows`` val windows (as the pipeline cut them) to each
step ``t`` of the model's training chain with fixed noise, runs the network once, and prints per
task:

- ``eps_mse``: mean squared error of the implied noise (what an eps objective trains);
- ``x0_mse``: of the implied clean motion, in normalised units, against ``x0_var``, the variance
  of the data itself (an estimate worse than ``x0_var`` is worse than predicting the mean);
- ``floor``: for a noise-predicting network, the share of the unit-variance noise that its
  narrowest layer cannot carry when it is narrower than the stream (``1 - width / dims``; the
  eps_mse cannot go below it at high noise), else 0.

This is how a peer that does not learn is told from one that is undertrained: DiffSHEG's gesture
branch at latent 64 stays at eps_mse 0.56 at t = 900, the floor of a 64-wide layer for 141
channels, however long it trains; and SAiD's x0_mse far above x0_var at the noisiest steps shows
why its sampler clamps the estimate (``sample.clip_x0``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_STEPS = (0, 20, 100, 300, 500, 700, 900, 980)
#: The layer every channel of a stream passes through, per noise-predicting network.
NARROWEST_LAYER = {"diffsheg": "latent", "said": "channels"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adm.bench denoise-error",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, help="a trained weights file")
    parser.add_argument("--results", default="results", help="the pipeline's results folder")
    parser.add_argument("--steps", nargs="+", type=int, default=list(DEFAULT_STEPS))
    parser.add_argument("--windows", type=int, default=32, help="val windows to score")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    return parser


def noise_floor(network: str, config, task_width: int) -> float:
    """Share of the noise a noise-predicting network's narrowest layer must miss (0 if none)."""
    field = NARROWEST_LAYER.get(network)
    width = getattr(config, field) if field else task_width
    return max(0.0, 1.0 - width / task_width)


def measure(ckpt, windows, steps, seed: int = 0) -> list[dict]:
    """One row per (step, task): eps_mse, x0_mse, x0_var and floor (see the module docstring).

    Args:
        ckpt: a :class:`~adm.training.checkpoint.LoadedCheckpoint` of a diffusion model.
        windows: ``(x0 [B, W, Dx], cond)`` in the model's normalised units.
        steps: steps of the training chain to score.
    """
    import torch

    from adm.diffusion import make_diffusion

    keys = ("schedule", "steps", "prediction", "variance")
    diffusion = make_diffusion(
        **{k: ckpt.diffusion_config[k] for k in keys if k in ckpt.diffusion_config}
    )
    x0, cond = windows
    mask = cond["mask"][..., None].to(x0.dtype)
    eps_predicting = ckpt.diffusion_config.get("prediction") == "eps"
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for step in steps:
        t = torch.full((x0.shape[0],), step, dtype=torch.long)
        eps = torch.randn(x0.shape, generator=generator)
        x_t = diffusion.q_sample(x0, t, eps)
        with torch.no_grad():
            out = ckpt.model(x_t, t, cond)
        x0_hat = diffusion.x0_from_output(out, x_t, t)
        eps_hat = diffusion.predict_eps_from_x0(x_t, t, x0_hat)
        for task, cols in ckpt.model.task_slices.items():
            width = cols.stop - cols.start
            count = mask.sum() * width

            def mse(a, b, cols=cols, count=count):
                return float((((a - b)[..., cols] ** 2) * mask).sum() / count)

            valid = x0[..., cols][cond["mask"]]
            floor = noise_floor(ckpt.metadata["denoiser"], ckpt.model.config, width)
            rows.append(
                {
                    "step": step,
                    "task": task,
                    "eps_mse": mse(eps_hat, eps),
                    "x0_mse": mse(x0_hat, x0),
                    "x0_var": float(valid.var(dim=0, unbiased=False).mean()),
                    "floor": floor if eps_predicting else 0.0,
                }
            )
    return rows


def render(rows: list[dict], title: str) -> str:
    lines = [
        title,
        "",
        "| step | task | eps_mse | x0_mse | x0_var | floor |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['step']} | {r['task']} | {r['eps_mse']:.4f} | {r['x0_mse']:.4f} | "
            f"{r['x0_var']:.4f} | {r['floor']:.2f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> None:
    import torch

    from adm.errors import BadInputError
    from adm.training.checkpoint import load_checkpoint
    from adm.training.corpus import DataPaths, load_corpus

    torch.set_num_threads(args.threads)
    ckpt = load_checkpoint(args.checkpoint)
    if getattr(ckpt.model, "regression", False):
        raise BadInputError(args.checkpoint, "a regression network has no denoising chain")
    chain = int(ckpt.diffusion_config.get("steps", 1000))
    outside = [s for s in args.steps if not 0 <= s < chain]
    if outside:
        raise BadInputError("--steps", f"{outside} outside the chain's steps 0..{chain - 1}")
    results = Path(args.results)
    paths = DataPaths(
        results / "data/clips",
        results / "features/audio",
        results / "features/text",
        results / "data/split",
        results / "data/norm_stats.json",
    )
    config = ckpt.model.config
    corpus = load_corpus(
        paths, ckpt.tasks, ckpt.speakers, config.window, config.window, config.seed_frames
    )
    if corpus.val is None or len(corpus.val) == 0:
        raise BadInputError(paths.split_dir / "val.txt", "no val windows to score")
    count = min(args.windows, len(corpus.val))
    rows = measure(ckpt, corpus.val.batch(torch.arange(count)), args.steps, args.seed)
    prediction = ckpt.diffusion_config.get("prediction")
    print(render(rows, f"{args.checkpoint}: {count} val windows, {prediction} prediction"))


def main(argv: list[str] | None = None) -> int:
    from adm.commandline import run_stage

    return run_stage(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
