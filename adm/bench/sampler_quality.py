"""Benchmark: quality against cost of every sampler on one trained model, same seeds.

``python -m adm.bench sampler-quality [--results results] [--checkpoint PATH]
[--samplers ddpm ddim:50 dpmpp_2m:20 ...] [--seeds 0 1] [--config config.yaml] [--threads 1]``
trains nothing. It reads a trained checkpoint (default ``<results>/train/full/ema.safetensors``),
the prepared test clips and their features, the metric models and the test set's reference
(``<results>/metric_models/``), all as the pipeline wrote them, and for each sampler and seed
runs the sample stage's own code (``adm sample``, into a temporary folder) and the evaluate
stage's own code (``adm.evaluation.run.evaluate``) with the sample and evaluate settings that
``--config`` gives the pipeline (guidance, batch, evaluation keys). Each sampler is
``name[:steps]``: ``ddpm`` (the full chain), ``ddim:N`` (``ddim:N:eta`` for a stochastic DDIM),
``dpmpp_2m:N``, ``dpmpp_2m_sde:N``.

The table gives, per sampler, the network calls per window, the seconds of one sample stage
(mean over seeds, in-process: loading, generation and writing, on this machine's CPU or GPU at
``--threads``), FGD, face FD and the pooled jawOpen r (mean over seeds), and FGD and FD as a
ratio to the full DDPM chain's. A sampler "meets the bar" when it makes at most 50 network
calls and both ratios are at most 1.05.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from adm.errors import ConfigError
from adm.samplers import SAMPLERS, sampler_label

DEFAULT_SAMPLERS = (
    "ddpm",
    "ddim:50",
    "ddim:100",
    "dpmpp_2m:10",
    "dpmpp_2m:20",
    "dpmpp_2m:25",
    "dpmpp_2m:50",
    "dpmpp_2m_sde:20",
    "dpmpp_2m_sde:25",
    "dpmpp_2m_sde:50",
)
BAR_CALLS = 50
BAR_RATIO = 1.05


@dataclass(frozen=True)
class Spec:
    """One sampler setting: ``sampler``, its ``steps`` (None for the full chain) and, for DDIM,
    ``eta`` (``ddim:50:1`` is DDIM-50 with eta 1, the ancestral step on the strided chain)."""

    sampler: str
    steps: int | None
    eta: float | None = None

    @classmethod
    def parse(cls, text: str) -> Spec:
        name, _, rest = text.partition(":")
        steps, _, eta = rest.partition(":")
        if name not in SAMPLERS:
            raise ConfigError(f"--samplers: unknown sampler {name!r} in {text!r} ({SAMPLERS})")
        if name == "ddpm":
            if rest:
                raise ConfigError(f"--samplers: ddpm runs the whole chain, got {text!r}")
            return cls(name, None)
        if not steps.isdigit() or int(steps) < 1:
            raise ConfigError(f"--samplers: expected {name}:<steps>, got {text!r}")
        if not eta:
            return cls(name, int(steps))
        try:
            value = float(eta)
        except ValueError:
            value = -1.0
        if name != "ddim" or value < 0:
            raise ConfigError(f"--samplers: only ddim takes an eta >= 0 (ddim:50:1), got {text!r}")
        return cls(name, int(steps), value)

    def label(self, chain: int | None = None) -> str:
        base = sampler_label(self.sampler, self.steps, chain)
        return base if self.eta is None else f"{base} (eta {self.eta:g})"

    def sample_config(self, base: dict) -> dict:
        config = {**base, "sampler": self.sampler}
        if self.steps is not None:
            config["steps"] = self.steps
        if self.eta is not None:
            config["eta"] = self.eta
        return config


@dataclass
class Row:
    spec: Spec
    calls: int
    seconds: list[float] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)

    def mean(self, key: str) -> float | None:
        values = [m.get(key) for m in self.metrics]
        if not values or any(v is None for v in values):
            return None
        return statistics.fmean(values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adm.bench sampler-quality",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--results", default="results", help="the pipeline's results folder")
    parser.add_argument("--checkpoint", help="default: <results>/train/full/ema.safetensors")
    parser.add_argument(
        "--corpus-root", help="raw corpus; default: <results>/data/corpus/<data.source>"
    )
    parser.add_argument("--config", default="config.yaml", help="the pipeline's config file")
    parser.add_argument("--samplers", nargs="+", default=list(DEFAULT_SAMPLERS))
    parser.add_argument("--seeds", nargs="+", type=int, help="default: the config's seeds")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (the rules' count)")
    return parser


def _settings(config_path: Path) -> tuple[dict, dict, list[int], str, int]:
    """The pipeline's sample and evaluate ``--config`` objects, seeds, data source and the
    chain length, from its config file (through :mod:`adm.experiment`, as the rules do)."""
    from adm.experiment.load import load_experiment
    from adm.experiment.stages import params

    experiment = load_experiment(config_path)
    sample = json.loads(params(experiment, "sample", "full"))  # ADM's protocol
    evaluate = json.loads(params(experiment, "evaluate"))
    chain = int(experiment.sections["diffusion"].get("steps", 1000))
    return sample, evaluate, experiment.sample_seeds(), experiment.data.source, chain


def _run_one(spec: Spec, seed: int, args, paths: dict[str, Path], sample_base: dict, evaluate_cfg):
    """Sample the test set with ``spec`` and ``seed`` into a temporary folder and evaluate it;
    returns (seconds of the sample stage, the record's metrics)."""
    from adm.evaluation.run import EvalInputs, evaluate
    from adm.sampling import cli as sample_stage

    with tempfile.TemporaryDirectory(prefix="adm-sampler-quality-") as tmp:
        outdir = Path(tmp) / "samples"
        argv = [
            "--checkpoint", str(paths["checkpoint"]),
            "--clips-dir", str(paths["clips"]),
            "--audio-dir", str(paths["audio"]),
            "--text-dir", str(paths["text"]),
            "--split", str(paths["split"]),
            "--seed", str(seed),
            "--outdir", str(outdir),
            "--config", json.dumps(spec.sample_config(sample_base)),
            "--threads", str(args.threads),
        ]  # fmt: skip
        start = time.perf_counter()
        sample_stage.sample(sample_stage.sample_parser().parse_args(argv))
        seconds = time.perf_counter() - start
        inputs = EvalInputs(
            clips_dir=paths["clips"],
            split=paths["split"],
            corpus_root=paths["corpus"],
            norm=paths["norm"],
            samples=outdir,
            motion_ae=paths["motion"],
            face_vae=paths["face"],
            checkpoint=paths["checkpoint"],
            variant=None,  # the samples name their own variant
            seed=seed,
            reference=paths["reference"],
        )
        record = evaluate(inputs, evaluate_cfg)
    return seconds, record["metrics"]


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def render(rows: list[Row], seeds: list[int], chain: int) -> str:
    """The markdown table and the verdict."""
    base = next((r for r in rows if r.spec.sampler == "ddpm"), None)
    lines = [
        f"Seeds {', '.join(map(str, seeds))}; metrics are means over the seeds.",
        "",
        "| sampler | network calls | s per seed | FGD | FD | jawOpen r | FGD / DDPM | FD / DDPM |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    verdicts = []
    for row in rows:
        fgd, fd, jaw = row.mean("fgd"), row.mean("fd"), row.mean("jaw_open_r")
        ratios = [None, None]
        if base is not None and row is not base:
            ratios = [_ratio(fgd, base.mean("fgd")), _ratio(fd, base.mean("fd"))]
        label = row.spec.label(chain)
        seconds = statistics.fmean(row.seconds)
        lines.append(
            f"| {label} | {row.calls} | {seconds:.1f} | {_fmt(fgd)} | {_fmt(fd)} | "
            f"{_fmt(jaw, 3)} | {_fmt(ratios[0], 3)} | {_fmt(ratios[1], 3)} |"
        )
        if row.calls <= BAR_CALLS and None not in ratios:
            verdicts.append((max(ratios), row.calls, label, ratios))
    lines.append("")
    met = sorted((v for v in verdicts if v[0] <= BAR_RATIO), key=lambda v: (v[1], v[0]))
    if base is None:
        lines.append("No DDPM row: no ratios (add `ddpm` to --samplers).")
    elif met:
        lines.append(
            f"Meets the bar (<= {BAR_CALLS} calls, FGD and FD within "
            f"{round((BAR_RATIO - 1) * 100)}% of DDPM-{chain}): "
            + ", ".join(v[2] for v in met)
            + f"; fewest calls: {met[0][2]}."
        )
    elif verdicts:
        closest = min(verdicts)
        lines.append(
            f"No sampler with <= {BAR_CALLS} calls meets the bar; closest: {closest[2]} "
            f"(FGD x{closest[3][0]:.3f}, FD x{closest[3][1]:.3f})."
        )
    return "\n".join(lines)


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return value / base


def _paths(args) -> dict[str, Path]:
    results = Path(args.results)
    return {
        "checkpoint": Path(args.checkpoint or results / "train" / "full" / "ema.safetensors"),
        "clips": results / "data" / "clips",
        "audio": results / "features" / "audio",
        "text": results / "features" / "text",
        "split": results / "data" / "split" / "test.txt",
        "norm": results / "data" / "norm_stats.json",
        "motion": results / "metric_models" / "motion.safetensors",
        "face": results / "metric_models" / "face.safetensors",
        "reference": results / "metric_models" / "reference.npz",
    }


def run(args: argparse.Namespace) -> int:
    import torch

    from adm.config import from_dict
    from adm.evaluation.config import EvalConfig

    specs = [Spec.parse(s) for s in args.samplers]
    sample_base, evaluate_json, seeds, source, chain = _settings(Path(args.config))
    seeds = list(args.seeds) if args.seeds else seeds
    paths = _paths(args)
    paths["corpus"] = Path(args.corpus_root or Path(args.results) / "data" / "corpus" / source)
    for name, path in paths.items():
        if not path.exists():
            raise ConfigError(f"{path}: not found ({name}); run the pipeline first")
    evaluate_cfg = from_dict(EvalConfig, evaluate_json, "evaluate")
    rows = []
    for spec in specs:
        row = Row(spec, chain if spec.steps is None else spec.steps)
        for seed in seeds:
            seconds, metrics = _run_one(spec, seed, args, paths, sample_base, evaluate_cfg)
            row.seconds.append(seconds)
            row.metrics.append(metrics)
            print(
                f"{spec.label(chain)} seed {seed}: {seconds:.1f} s, "
                f"FGD {_fmt(metrics.get('fgd'))}, FD {_fmt(metrics.get('fd'))}",
                file=sys.stderr,
                flush=True,
            )
        rows.append(row)
    device = "CUDA" if torch.cuda.is_available() else f"CPU, {args.threads} thread(s)"
    print(f"checkpoint {paths['checkpoint']}; device {device}")
    if not torch.cuda.is_available():
        print("GPU seconds: not measured (no CUDA device)")
    print(render(rows, seeds, chain))
    return 0


def main(argv: list[str] | None = None) -> int:
    from adm.commandline import run_stage

    return run_stage(run, build_parser(), argv)
