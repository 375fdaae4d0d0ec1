"""Benchmark: how many steps the metric models' fits need, from their reconstruction curves.

``python -m adm.bench metric-curve [--results results] [--config config.yaml]
[--kinds motion face] [--factor 3] [--every 25] [--tolerance 0.05] [--plateau 0.2]
[--out metric_curve.png] [--threads 1]``

Trains each metric model (the FGD motion autoencoder, the face VAE) exactly as the pipeline's
``fit_metric_model`` job does (:func:`adm.evaluation.fit.fit_metric_model`, the config's
``metric_models`` settings over the scale preset, the prepared clips of the train split and
the train normalisation statistics of a finished run, read in place), but for ``--factor``
times the configured number of steps. Every ``--every`` steps (and at the configured count) it
measures the reconstruction error (mean absolute error of the eval-mode model decoding ``mu``,
as the fit's record) on the train windows and on the windows of the val split, which the fit
never sees.

The fit's batches come from a generator seeded by the fit's seed and its optimiser has no
schedule, so the first ``configured`` steps are the pipeline's fit itself: the curve's point
at the configured count is the metric model the pipeline uses (when the run's own model was
fitted with the same settings and thread count, its recorded reconstruction error is printed
beside that point), and the rest shows what longer training would have given.

The val curve's plateau is the mean of its last ``--plateau`` fraction of points; the curve
has *settled* at the first measured step from which every later point lies within
``--tolerance`` (relative) of that plateau. A curve still moving inside the plateau window has
not settled within the horizon (the table says so). Prints one table per model and a verdict,
and draws both curves into ``--out`` (PNG).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adm import layout
from adm.errors import BadInputError, ConfigError
from adm.evaluation.config import KINDS

DEFAULT_FACTOR = 3.0
DEFAULT_EVERY = 25
DEFAULT_TOLERANCE = 0.05
DEFAULT_PLATEAU = 0.2


@dataclass
class Curve:
    """One model's curve: at each measured ``step``, the mean training objective of the steps
    since the previous point and the reconstruction L1 on the train and on the val windows."""

    kind: str
    configured: int
    horizon: int
    windows: dict[str, int] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)

    def at(self, step: int) -> int:
        """Index of the point measured at ``step``."""
        return self.steps.index(step)


@dataclass(frozen=True)
class Settling:
    """Where a curve settles: its ``plateau`` (mean of the points from ``plateau_from`` on)
    and ``step``, the first step from which it stays within ``tolerance`` of the plateau
    (None: still moving inside the plateau window)."""

    plateau: float
    plateau_from: int
    tolerance: float
    step: int | None


def settling(
    steps: Sequence[int], values: Sequence[float], tolerance: float, fraction: float
) -> Settling:
    """Where ``values`` (measured at ``steps``, increasing) settle: see :class:`Settling`."""
    if not steps or len(steps) != len(values):
        raise ValueError(f"need equally many steps and values, got {len(steps)}, {len(values)}")
    tail = max(1, math.ceil(fraction * len(values)))
    first_tail = len(values) - tail
    plateau = sum(values[first_tail:]) / tail
    band = tolerance * abs(plateau)
    since = None  # index of the first point of the current run inside the band
    for i, value in enumerate(values):
        if abs(value - plateau) <= band:
            since = i if since is None else since
        else:
            since = None
    # A curve that leaves the band inside the window defining its plateau has no plateau yet.
    step = steps[since] if since is not None and since <= first_tail else None
    return Settling(plateau, steps[first_tail], tolerance, step)


def measure(
    kind: str,
    train_sequences: list,
    val_sequences: list,
    settings: dict,
    factor: float,
    every: int,
    device: str = "cpu",
    where: str | Path = "train split",
) -> Curve:
    """Fit ``kind`` with ``settings`` (:meth:`FitConfig.resolved`) for ``factor`` times its
    configured steps, measuring every ``every`` steps (and at the configured count) the
    reconstruction L1 on the windows of ``train_sequences`` and of ``val_sequences`` (lists of
    ``[T_i, D]`` arrays)."""
    from adm.evaluation.fit import fit_metric_model, reconstruction_error
    from adm.metrics.windows import SequenceWindows

    length, stride = settings["length"], settings["stride"]
    train_windows = SequenceWindows(train_sequences, length, stride)
    val_windows = SequenceWindows(val_sequences, length, stride)
    if len(val_windows) < 1:
        raise BadInputError(
            "val split", f"its clips give no window of {length} frames to measure on"
        )
    configured = configured_steps(settings, len(train_windows))
    horizon = max(configured, math.ceil(factor * configured))
    curve = Curve(kind, configured, horizon, {"train": len(train_windows), "val": len(val_windows)})
    seed = settings["seed"]

    def observe(step: int, model) -> None:
        if step % every and step not in (configured, horizon):
            return
        # Measured under eval_mode (no running-statistics update, no random draw), so the fit
        # goes on exactly as it would unobserved.
        curve.steps.append(step)
        curve.train.append(reconstruction_error(model, train_windows, seed))
        curve.val.append(reconstruction_error(model, val_windows, seed))

    run = {**settings, "iterations": horizon, "epochs": None}
    model, _ = fit_metric_model(kind, train_sequences, run, device, where, observe)
    losses = model.train_losses
    for start, end in zip([0, *curve.steps], curve.steps, strict=False):
        curve.objective.append(sum(losses[start:end]) / (end - start))
    return curve


def configured_steps(settings: dict, train_windows: int) -> int:
    """The configured fit's optimiser steps (its iterations, or its epochs in steps)."""
    from adm.metrics.fitting import resolve_steps

    batch = min(settings["batch"], train_windows)
    return resolve_steps(train_windows, batch, settings["iterations"], settings["epochs"])


LABELS = {"motion": "FGD motion autoencoder", "face": "face VAE"}


def _pct(value: float, base: float) -> str:
    return f"{100 * (value / base - 1):+.1f}%"


def render(curve: Curve, settled: Settling, recorded: dict | None = None) -> str:
    """One model's table (every point) and its verdict; ``recorded``: the training record of
    the pipeline's own model of this kind (its ``recon_l1`` is the curve's configured train
    point when the settings and thread count are the same)."""
    lines = [
        f"{curve.kind} ({LABELS[curve.kind]}): {curve.windows['train']} train windows, "
        f"{curve.windows['val']} val windows; configured {curve.configured} steps, "
        f"measured to {curve.horizon}",
        "",
        "| step | train objective | train recon L1 | val recon L1 | val / plateau |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i, step in enumerate(curve.steps):
        mark = " (configured)" if step == curve.configured else ""
        lines.append(
            f"| {step}{mark} | {curve.objective[i]:.4g} | {curve.train[i]:.4g} | "
            f"{curve.val[i]:.4g} | {curve.val[i] / settled.plateau:.3f} |"
        )
    here = curve.at(curve.configured)
    tol = f"{100 * settled.tolerance:g}%"
    lines += [
        "",
        f"val plateau {settled.plateau:.4g} (mean of steps {settled.plateau_from}-"
        f"{curve.horizon}); at the configured {curve.configured} steps val "
        f"{curve.val[here]:.4g} ({_pct(curve.val[here], settled.plateau)}), train "
        f"{curve.train[here]:.4g}; at {curve.horizon} steps train {curve.train[-1]:.4g} "
        f"({_pct(curve.train[-1], curve.train[here])} of the configured fit's).",
    ]
    if recorded is not None:
        lines.append(
            f"The pipeline's {curve.kind} model records train recon L1 "
            f"{recorded['recon_l1']:.6g} ({recorded['steps']} steps, {recorded['threads']} "
            f"thread(s)); this curve at step {curve.configured}: {curve.train[here]:.6g}."
        )
    if settled.step is None:
        verdict = f"val curve not within {tol} of its plateau by step {settled.plateau_from}"
        verdict += f": not settled within {curve.horizon} steps; train longer to tell"
    elif settled.step <= curve.configured:
        verdict = (
            f"val within {tol} of its plateau from step {settled.step} on: the configured "
            f"{curve.configured} steps are enough"
        )
    else:
        verdict = (
            f"val within {tol} of its plateau only from step {settled.step} on: the configured "
            f"{curve.configured} steps stop short of it"
        )
    lines.append(f"{curve.kind}: {verdict}.")
    return "\n".join(lines)


def plot(curves: list[Curve], settled: list[Settling], out: Path) -> None:
    """Train and val reconstruction against the step, one panel per model (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    from adm.io.atomic import atomic_path

    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4), squeeze=False)
    for ax, curve, s in zip(axes[0], curves, settled, strict=True):
        ax.plot(curve.steps, curve.train, "-", color="tab:blue", label="train windows")
        ax.plot(curve.steps, curve.val, "--", color="tab:orange", label="val windows")
        low, high = s.plateau * (1 - s.tolerance), s.plateau * (1 + s.tolerance)
        band = f"val plateau ±{s.tolerance:.0%}"
        ax.axhspan(low, high, color="tab:orange", alpha=0.15, label=band)
        ax.axvline(curve.configured, color="black", ls=":", label=f"configured {curve.configured}")
        if s.step is not None:
            ax.axvline(s.step, color="tab:red", ls="-.", lw=1, label=f"settled {s.step}")
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%.3g"))
        ax.set_title(LABELS[curve.kind])
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("reconstruction L1")
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    from adm.threads import add_threads_argument

    parser = argparse.ArgumentParser(
        prog="python -m adm.bench metric-curve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--results", default=layout.RESULTS, help="the pipeline's results folder")
    parser.add_argument("--config", default="config.yaml", help="the pipeline's config file")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument(
        "--factor", type=float, default=DEFAULT_FACTOR, help="horizon / configured steps"
    )
    parser.add_argument("--every", type=int, default=DEFAULT_EVERY, help="steps between points")
    parser.add_argument(
        "--tolerance", type=float, default=DEFAULT_TOLERANCE, help="relative band of the plateau"
    )
    parser.add_argument(
        "--plateau", type=float, default=DEFAULT_PLATEAU, help="last fraction of points averaged"
    )
    parser.add_argument("--out", default="metric_curve.png", help="the figure (PNG)")
    add_threads_argument(parser)
    return parser


def _under(results: Path, path: str) -> Path:
    """A path of :mod:`adm.layout` (under ``results/``) under the folder ``results``."""
    return results / Path(path).relative_to(layout.RESULTS)


def _record(path: Path) -> dict | None:
    """The training record of the pipeline's metric model at ``path`` (None when absent)."""
    from adm.metrics.checkpoint import read_metadata

    return read_metadata(path)["extra"] if path.is_file() else None


def run(args: argparse.Namespace) -> int:
    import torch

    from adm.config import from_dict
    from adm.data.normalization import load_norm_stats
    from adm.data.split import read_split_list
    from adm.evaluation.config import FitConfig
    from adm.evaluation.fit import train_sequences
    from adm.experiment.load import load_experiment
    from adm.experiment.stages import params
    from adm.threads import set_threads

    if args.factor < 1:
        raise ConfigError(f"--factor: must be >= 1 (horizon / configured steps), got {args.factor}")
    if args.every < 1:
        raise ConfigError(f"--every: must be >= 1, got {args.every}")
    if not 0 < args.tolerance < 1 or not 0 < args.plateau < 1:
        raise ConfigError("--tolerance and --plateau: must lie between 0 and 1")
    results = Path(args.results)
    paths = {
        "clips": _under(results, layout.CLIPS),
        "train": _under(results, layout.split_list("train")),
        "val": _under(results, layout.split_list("val")),
        "norm": _under(results, layout.NORM_STATS),
    }
    for name, path in paths.items():
        if not path.exists():
            raise ConfigError(f"{path}: not found ({name}); run the pipeline first")
    experiment = load_experiment(args.config)
    set_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    norm = load_norm_stats(paths["norm"])
    stems = {split: read_split_list(paths[split]) for split in ("train", "val")}
    curves, settled = [], []
    for kind in args.kinds:
        fit = from_dict(FitConfig, json.loads(params(experiment, "fit-metric-model", kind)), kind)
        settings = fit.resolved(kind)
        sequences = {
            split: train_sequences(paths["clips"], stems[split], kind, norm, split)
            for split in ("train", "val")
        }
        curve = measure(
            kind, sequences["train"], sequences["val"], settings, args.factor, args.every,
            device, paths["train"],
        )  # fmt: skip
        curves.append(curve)
        settled.append(settling(curve.steps, curve.val, args.tolerance, args.plateau))
        recorded = _record(_under(results, layout.metric_model(kind)))
        if recorded is not None and (recorded["settings"], recorded["threads"]) != (
            settings,
            args.threads,
        ):
            recorded = None  # fitted otherwise: its number is no point of this curve
        print(render(curve, settled[-1], recorded), end="\n\n", flush=True)
    print(f"device {device}; CPU threads {args.threads}; settings from {args.config}")
    plot(curves, settled, Path(args.out))
    print(f"figure: {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from adm.commandline import run_stage

    return run_stage(run, build_parser(), argv)
