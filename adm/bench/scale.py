"""How the pipeline grows from the bundled corpus to BEAT's size: ``python -m adm.bench scale``.

The rehearsal corpus is the bundled corpus in BEAT's shape (``data.synth.shape: beat``): four
speakers x (118 one-minute speech takes + 12 ten-minute conversations), 520 clips, 15.9 hours,
split 98/16/16 per speaker, against the bundled 48 clips of 20 s. Each part measures a stage as
the pipeline runs it (the command a rule runs, in a child process: wall seconds, peak resident
memory, bytes written) and reports both sizes and their ratio:

- ``plan``: clips, hours and frames per split of both corpora (from the config, nothing runs).
- ``dag``: ``snakemake -n`` on both (wall and CPU seconds, median of ``--repeats``).
- ``data``: the per-clip stages (synthesize, prepare, audio and text features) and the word
  vectors, run on one-take corpora of 20, 60 and 600 s (a bundled take, a speech take and a
  conversation's length). Per clip, wall time and disk grow linearly in the clip's seconds plus a
  start-up cost; the fit through the three lengths projects the totals of both corpora (labelled
  projected), and the 600-s take's peak memory is the rehearsal's largest job (measured).
- ``train``: the training corpus at the paper's widths (gesture 141 + face 51 motion, audio
  1,133 with WavLM-Large's 1,024, text 301) with every train and val frame of each corpus,
  loaded by ``adm.training.corpus.load_corpus`` in a child process, in ``float32`` and
  ``float16``; then ``--train-steps`` paper-size training steps on it (``adm.bench.train``'s
  step). Random features stand in for the extractor's (WavLM cannot run here): a few distinct
  files per clip length and speaker, linked under every clip's name, so the loader reads,
  checks and holds every frame as it would real ones.
- ``evaluate``: one evaluation of each test set (``python -m adm.bench metrics``: 8 clips of
  20 s against 60 of 60 s and 4 of 600 s).
- ``sample``: one 20-s and one 600-s clip with the paper-size network (``python -m adm.bench
  sample``, DDIM with ``--sample-steps``): memory and seconds per network call, from which a
  sampler's time follows.

    python -m adm.bench scale [--parts plan dag data train evaluate sample] [--workdir DIR]
        [--train-steps N] [--train-shapes bundled beat] [--train-dtypes float32 float16]

Everything is written under ``--workdir`` (a temporary folder unless given; about 2 GB), in
scratch copies of the results layout, never in the repository's ``results/``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GIB = 1024**3
GNU_TIME = "/usr/bin/time"
FPS = 30
DTYPES = ("float32", "float16")
PARTS = ("plan", "dag", "data", "train", "evaluate", "sample")
PAPER_WIDTHS = {"gesture": 141, "face": 51, "audio": 1133, "text": 301}
DATA_LENGTHS = (20.0, 60.0, 600.0)  # a bundled take, a speech take, a conversation's length
DATA_STAGES = ("synthesize", "prepare", "audio-features", "text-features")


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, peak resident bytes, exit status and its output."""

    wall: float
    peak_rss: int
    returncode: int
    output: str


def run_child(cmd: Sequence[str], cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run ``cmd``; its wall time and peak RSS, measured by GNU time (``/usr/bin/time``).

    Not ``wait4`` on the child itself: a process forked from this one inherits this one's
    high-water mark, so small children would report the parent's peak; GNU time is a small
    process, and what it forks starts from its own.
    """
    with tempfile.TemporaryDirectory() as tmp:
        log, peak = Path(tmp) / "log", Path(tmp) / "peak"
        timed = [GNU_TIME, "-f", "%M", "-o", str(peak), *cmd]
        start = time.perf_counter()
        with log.open("w") as out:
            proc = subprocess.run(timed, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - start
        output = log.read_text()
        kib = [ln for ln in peak.read_text().splitlines() if ln.strip().isdigit()]
    return Run(wall, int(kib[-1]) * 1024 if kib else 0, proc.returncode, output)


def checked(run: Run, what: str) -> Run:
    if run.returncode != 0:
        raise SystemExit(f"error: {what} failed (exit {run.returncode}):\n{run.output[-4000:]}")
    return run


def disk_bytes(*paths: Path) -> int:
    """Bytes of the regular files under ``paths`` (links not followed)."""
    total = 0
    for path in paths:
        files = [path] if path.is_file() else path.rglob("*")
        total += sum(f.lstat().st_size for f in files if f.is_file() and not f.is_symlink())
    return total


# --- the two corpora -------------------------------------------------------------------------
def base_config(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / "config.yaml").read_text())


def corpus_config(config: dict[str, Any], shape: str) -> dict[str, Any]:
    """``config`` with the bundled corpus in ``shape`` (``bundled`` or ``beat``)."""
    data = {**config["data"], "source": "synth", "synth": {**config["data"]["synth"]}}
    data["synth"]["shape"] = shape
    return {**config, "data": data}


def plan(config: dict[str, Any], shape: str) -> dict[str, Any]:
    """Clips, seconds and frames per split of the corpus of ``shape`` (the config's plan)."""
    from adm.data.synth.config import takes
    from adm.experiment.config import Experiment

    experiment = Experiment.from_config(corpus_config(config, shape))
    specs = takes(experiment.synth_settings())
    out: dict[str, Any] = {"clips": len(specs), "seconds": sum(t.seconds for t in specs)}
    for split in ("train", "val", "test"):
        chosen = [t for t in specs if t.split == split]
        out[split] = {
            "clips": len(chosen),
            "seconds": [t.seconds for t in chosen],
            "frames": sum(int(t.seconds * FPS) for t in chosen),
            "stems": [t.stem for t in chosen],
            "speakers": [t.speaker for t in chosen],
        }
    out["frames"] = sum(out[s]["frames"] for s in ("train", "val", "test"))
    return out


# --- dag -------------------------------------------------------------------------------------
def part_dag(root: Path, config: dict[str, Any], repeats: int, tmp: Path) -> dict[str, Any]:
    from adm.bench.dag import dry_run

    out = {}
    for shape in ("bundled", "beat"):
        configfile = tmp / f"dag_{shape}.yaml"
        configfile.write_text(yaml.safe_dump(corpus_config(config, shape)))
        runs = [dry_run(root, configfile) for _ in range(repeats)]
        out[shape] = {
            "wall": statistics.median(r[0] for r in runs),
            "cpu": statistics.median(r[1] for r in runs),
        }
    return out


# --- data ------------------------------------------------------------------------------------
def _adm(line: str) -> list[str]:
    """A pipeline command line (``adm <command> ...``) as this interpreter's argv."""
    words = shlex.split(line)
    assert words[0] == "adm", line
    return [sys.executable, "-m", "adm", *words[1:]]


def one_take_run(config: dict[str, Any], seconds: float, workdir: Path) -> dict[str, Any]:
    """The per-clip stages on a corpus of one train take of ``seconds`` (speaker 2, take 9),
    each as its rule's command in ``workdir``: wall, peak RSS and bytes written."""
    from adm import layout
    from adm.experiment.commands import command_line
    from adm.experiment.config import Experiment

    cfg = corpus_config(config, "bundled")
    cfg["data"]["speakers"] = [2]
    synth = {"train_takes": 1, "val_takes": 0, "test_takes": 0, "clip_seconds": seconds}
    cfg["data"]["synth"].update(synth)
    experiment = Experiment.from_config(cfg)
    (clip,) = experiment.clip_stems
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"clip": clip, "seconds": seconds}

    def stage(name: str, command: str, outputs: list[str]) -> None:
        run = checked(run_child(_adm(command_line(experiment, command, clip=clip)), workdir), name)
        size = disk_bytes(*(workdir / p for p in outputs))
        out[name] = {"wall": run.wall, "peak_rss": run.peak_rss, "disk": size}

    stage("synthesize", "synthesize", [layout.corpus_root("synth")])
    stage("prepare", "prepare", [layout.clip(clip)])
    # The word vectors are trained on the train TextGrids (the split lists come first).
    checked(run_child(_adm(command_line(experiment, "split")), workdir), "split")
    stage("fasttext-train", "fasttext-train", [layout.FASTTEXT_MODEL])
    stage("audio-features", "audio-features", [layout.feature("audio", clip)])
    stage("text-features", "text-features", [layout.feature("text", clip)])
    return out


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares ``y = a + b x`` (a: the start-up cost, b: per second of clip)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - b * mx, b


def project(runs: list[dict[str, Any]], stage: str, key: str, lengths: list[float]) -> float:
    """The sum over clips of ``lengths`` of the fitted ``key`` of ``stage``."""
    a, b = linear_fit([r["seconds"] for r in runs], [r[stage][key] for r in runs])
    return sum(a + b * s for s in lengths)


def part_data(config: dict[str, Any], plans: dict[str, Any], workdir: Path) -> dict[str, Any]:
    runs = [one_take_run(config, s, workdir / f"take_{s:g}s") for s in DATA_LENGTHS]
    out: dict[str, Any] = {"runs": runs, "projected": {}}
    for shape, p in plans.items():
        lengths = [s for split in ("train", "val", "test") for s in p[split]["seconds"]]
        train_lengths = p["train"]["seconds"]
        proj = {}
        for stage in DATA_STAGES:
            proj[stage] = {
                "wall": project(runs, stage, "wall", lengths),
                "disk": project(runs, stage, "disk", lengths),
            }
        # One job trains the vectors on the train transcripts: a start-up cost once, plus
        # the per-second cost of each train clip (fitted on the one-take corpora).
        a, b = linear_fit([r["seconds"] for r in runs], [r["fasttext-train"]["wall"] for r in runs])
        proj["fasttext-train"] = {"wall": a + b * sum(train_lengths), "disk": None}
        out["projected"][shape] = proj
    return out


# --- train -----------------------------------------------------------------------------------
def write_training_corpus(p: dict[str, Any], folder: Path, seed: int = 0) -> Path:
    """Prepared clips and paper-width random features of every train and val clip of plan
    ``p`` under ``folder`` (``clips/``, ``audio/``, ``text/``, ``split/``, ``norm_stats.json``).

    One distinct file per (length, speaker) for clips and per length for features; every clip
    name links to its file, so the loader reads every frame from disk as it would real ones.
    """
    import numpy as np

    from adm.data.normalization import compute_norm_stats, save_norm_stats
    from adm.io.frames import write_frames

    rng = np.random.default_rng(seed)
    dirs = {k: folder / k for k in ("clips", "audio", "text", "split", "distinct")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    layout = {
        "dim": PAPER_WIDTHS["audio"],
        "blocks": [{"name": "random", "offset": 0, "width": PAPER_WIDTHS["audio"]}],
    }
    written: dict[tuple[str, Any], Path] = {}

    def distinct(kind: str, frames: int, speaker: int | None) -> Path:
        key = (kind, (frames, speaker))
        if key in written:
            return written[key]
        path = dirs["distinct"] / f"{kind}_{frames}_{speaker}.parquet"
        if kind == "clip":
            gesture = rng.normal(0, 0.5, (frames, PAPER_WIDTHS["gesture"])).astype(np.float32)
            columns = {
                "gesture": gesture,
                "face": rng.uniform(0, 1, (frames, PAPER_WIDTHS["face"])).astype(np.float32),
                "semantic": np.zeros(frames, np.float32),
                "emotion": np.zeros(frames, np.int64),
            }
            write_frames(path, columns, {"speaker": speaker, "fps": FPS, "skipped": False})
        else:
            values = rng.normal(0, 1, (frames, PAPER_WIDTHS[kind])).astype(np.float32)
            write_frames(path, {kind: values}, {"layout": layout} if kind == "audio" else {})
        written[key] = path
        return path

    for split in ("train", "val"):
        stems = p[split]["stems"]
        for stem, seconds, speaker in zip(
            stems, p[split]["seconds"], p[split]["speakers"], strict=True
        ):
            frames = int(seconds * FPS)
            for kind, d, spk in (
                ("clip", "clips", speaker),
                ("audio", "audio", None),
                ("text", "text", None),
            ):
                link = dirs[d] / f"{stem}.parquet"
                link.unlink(missing_ok=True)
                link.symlink_to(distinct(kind, frames, spk))
        (dirs["split"] / f"{split}.txt").write_text("".join(f"{s}\n" for s in stems))
    clip_files = [path for (kind, _), path in written.items() if kind == "clip"]
    stats, _ = compute_norm_stats(clip_files, 1e-4)
    save_norm_stats(folder / "norm_stats.json", stats, {})
    return folder


def load_child(folder: str, dtype: str, steps: str, speakers: str) -> None:
    """In a child process: load the corpus under ``folder`` as training does, then ``steps``
    paper-size training steps on it; prints one JSON line (times, frames, bytes held)."""
    import resource

    import torch

    from adm.training.corpus import DataPaths, load_corpus

    torch.manual_seed(0)
    root = Path(folder)
    paths = DataPaths(
        root / "clips", root / "audio", root / "text", root / "split", root / "norm_stats.json"
    )
    start = time.perf_counter()
    corpus = load_corpus(
        paths, ("gesture", "face"), [int(s) for s in speakers.split(",")], 150, 10, 30, dtype
    )
    load_s = time.perf_counter() - start
    after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    held = sum(
        t.numel() * t.element_size()
        for ds in (corpus.train, corpus.val)
        if ds is not None
        for t in (ds.x, ds.audio, ds.text, *ds.frame_streams.values())
    )
    step_s = train_steps(corpus.train, int(steps)) if int(steps) > 0 else None
    print(
        json.dumps(
            {
                "load_s": load_s,
                "rss_after_load": after_load,
                "held_bytes": held,
                "train_frames": int(corpus.train.x.shape[0] - 1),
                "windows": len(corpus.train),
                "step_s": step_s,
            }
        )
    )


def train_steps(data: Any, steps: int, batch: int = 16) -> float:
    """Mean seconds of ``steps`` paper-size training steps (after one untimed step) on
    ``data``, batches of ``batch`` windows drawn from the whole corpus (the trainer's step, as
    ``adm.bench train`` times it)."""
    import torch

    from adm.diffusion import make_diffusion
    from adm.models import build_denoiser
    from adm.training.config import TrainConfig
    from adm.training.distributed import DistContext
    from adm.training.sampler import BatchStream, WindowBatchSampler
    from adm.training.step import Trainer
    from adm.weighting import build_weighting

    denoiser = build_denoiser("adm", {"window": data.window, "seed_frames": data.seed_frames})
    cfg = TrainConfig(batch=batch, window=data.window, seed_frames=data.seed_frames)
    trainer = Trainer(
        denoiser,
        build_weighting("uncertainty", denoiser.config.tasks),
        make_diffusion("cosine", 1000, "x0"),
        cfg,
        DistContext(device=torch.device("cpu")),
    )
    stream = BatchStream(data, WindowBatchSampler(len(data), batch, seed=0))
    trainer.train_step(next(stream))
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(next(stream))
    return (time.perf_counter() - start) / steps


def part_train(
    plans: dict[str, Any],
    workdir: Path,
    steps: int,
    shapes: tuple[str, ...] = ("bundled", "beat"),
    dtypes: tuple[str, ...] = DTYPES,
) -> dict[str, Any]:
    """Load each corpus of ``shapes`` in each of ``dtypes`` in a child process, then run
    ``steps`` paper-size training steps on it (see the module docstring)."""
    out: dict[str, Any] = {}
    for shape, p in plans.items():
        if shape not in shapes:
            continue
        folder = write_training_corpus(p, workdir / f"train_{shape}")
        speakers = ",".join(str(s) for s in sorted(set(p["train"]["speakers"])))
        out[shape] = {}
        for dtype in dtypes:
            code = "import sys; from adm.bench.scale import load_child; load_child(*sys.argv[1:])"
            cmd = [sys.executable, "-c", code, str(folder), dtype, str(steps), speakers]
            run = checked(run_child(cmd), f"loading the {shape} training corpus in {dtype}")
            info = json.loads(run.output.strip().splitlines()[-1])
            out[shape][dtype] = {"wall": run.wall, "peak_rss": run.peak_rss, "steps": steps, **info}
    return out


# --- evaluate and sample ---------------------------------------------------------------------
def part_evaluate(plans: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for shape, p in plans.items():
        lengths = p["test"]["seconds"]
        short = min(lengths)
        long = [s for s in lengths if s > short]
        cmd = [
            sys.executable,
            "-m",
            "adm.bench",
            "metrics",
            "--no-sklearn",
            "--clips",
            str(len(lengths)),
            "--seconds",
            f"{short:g}",
        ]
        if long:
            cmd += ["--long-clips", str(len(long)), "--long-seconds", f"{max(long):g}"]
        run = checked(run_child(cmd), f"evaluating the {shape} test set")
        total = [ln for ln in run.output.splitlines() if ln.strip().startswith("total")]
        cold = [ln for ln in run.output.splitlines() if ln.startswith("cold evaluation")]
        out[shape] = {
            "wall": run.wall,
            "peak_rss": run.peak_rss,
            "evaluation_s": float(total[0].split()[1]) if total else None,
            "cold_s": float(cold[0].split(":")[1].split()[0]) if cold else None,
        }
    return out


def part_sample(plans: dict[str, Any], steps: int) -> dict[str, Any]:
    out = {}
    for shape, p in plans.items():
        seconds = max(p["test"]["seconds"])
        cmd = [
            sys.executable,
            "-m",
            "adm.bench",
            "sample",
            "--sampler",
            "ddim",
            "--ddim-steps",
            str(steps),
            "--seconds",
            f"{seconds:g}",
        ]
        run = checked(run_child(cmd), f"sampling a {seconds:g}-s clip")
        # The sample benchmark's row: sampler steps measured compute-s ms/call RTF.
        (row,) = [ln.split() for ln in run.output.splitlines() if ln.startswith("ddim ")]
        out[shape] = {
            "seconds": seconds,
            "wall": run.wall,
            "peak_rss": run.peak_rss,
            "compute_s": float(row[3]),
            "ms_per_call": float(row[4]),
            "rtf": float(row[5]),
        }
    return out


# --- report ----------------------------------------------------------------------------------
def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "GiB":
        return f"{value / GIB:.2f} GiB"
    if unit == "s":
        return f"{value:.1f} s" if value < 600 else f"{value / 60:.1f} min"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"


def _row(what: str, a: float | None, b: float | None, unit: str, how: str) -> str:
    ratio = f"{b / a:.1f}x" if a and b else "-"
    return f"| {what} | {_fmt(a, unit)} | {_fmt(b, unit)} | {ratio} | {how} |"


def _both(
    what: str, part: dict[str, Any], keys: tuple[str, ...], unit: str, how: str = "measured"
) -> str:
    """The row of one figure of a part measured on both corpora: ``part[shape][keys...]`` for
    the bundled corpus and the rehearsal ("-" where a corpus was not measured)."""

    def value(shape: str) -> float | None:
        node: Any = part.get(shape, {})
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node

    return _row(what, value("bundled"), value("beat"), unit, how)


def report(results: dict[str, Any]) -> str:
    lines = [
        "| stage | bundled | rehearsal (BEAT-sized) | ratio | how |",
        "| --- | --- | --- | --- | --- |",
    ]
    plans = results["plan"]
    b, r = plans["bundled"], plans["beat"]
    lines.append(_row("clips", b["clips"], r["clips"], "", "plan"))
    lines.append(_row("hours", b["seconds"] / 3600, r["seconds"] / 3600, "", "plan"))
    lines.append(
        _row("train frames (30 fps)", b["train"]["frames"], r["train"]["frames"], "", "plan")
    )
    if "dag" in results:
        d = results["dag"]
        lines.append(_both("`snakemake -n`, wall (median)", d, ("wall",), "s"))
        lines.append(_both("`snakemake -n`, CPU (median)", d, ("cpu",), "s"))
    if "data" in results:
        pr = results["data"]["projected"]
        longest = results["data"]["runs"][-1]
        for stage in (*DATA_STAGES, "fasttext-train"):
            lines.append(
                _row(
                    f"{stage}: summed job wall",
                    pr["bundled"][stage]["wall"],
                    pr["beat"][stage]["wall"],
                    "s",
                    "projected (fit on 20/60/600-s takes)",
                )
            )
            if pr["beat"][stage]["disk"] is not None:
                lines.append(
                    _row(
                        f"{stage}: disk",
                        pr["bundled"][stage]["disk"],
                        pr["beat"][stage]["disk"],
                        "GiB",
                        "projected",
                    )
                )
            shortest = results["data"]["runs"][0]
            lines.append(
                _row(
                    f"{stage}: peak RSS of the largest job",
                    shortest[stage]["peak_rss"],
                    longest[stage]["peak_rss"],
                    "GiB",
                    f"measured ({shortest['seconds']:g}-s and {longest['seconds']:g}-s takes)",
                )
            )
    if "train" in results:
        t = results["train"]
        for dtype in DTYPES:
            if not any(dtype in t.get(shape, {}) for shape in ("bundled", "beat")):
                continue
            steps = max(t.get(shape, {}).get(dtype, {}).get("steps", 0) for shape in t)
            rows = [
                (f"training corpus in memory, {dtype} conditions", "held_bytes", "GiB"),
                (f"training process peak RSS, {dtype}", "peak_rss", "GiB"),
                (f"corpus load time, {dtype}", "load_s", "s"),
            ]
            if steps:
                label = f"paper-size training step, batch 16, CPU, mean of {steps}, {dtype}"
                rows.append((label, "step_s", "s"))
            for what, key, unit in rows:
                lines.append(_both(what, t, (dtype, key), unit))
    if "evaluate" in results:
        e = results["evaluate"]
        lines.append(_both("one evaluation (reference given), wall", e, ("evaluation_s",), "s"))
        lines.append(_both("cold evaluation (reference + evaluation), wall", e, ("cold_s",), "s"))
        lines.append(_both("evaluation peak RSS", e, ("peak_rss",), "GiB"))
    if "sample" in results:
        s = results["sample"]
        lines.append(_both("sampling the longest test clip, peak RSS", s, ("peak_rss",), "GiB"))
        lines.append(
            _both(
                "sampling the longest test clip, ms per network call (all its windows)",
                s,
                ("ms_per_call",),
                "",
                "measured (DDIM, CPU)",
            )
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adm.bench scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=3, help="dry runs per corpus")
    parser.add_argument("--train-steps", type=int, default=0, help="paper-size steps after loading")
    parser.add_argument(
        "--train-shapes",
        nargs="+",
        choices=("bundled", "beat"),
        default=["bundled", "beat"],
        help="corpora of the train part (beat: the rehearsal)",
    )
    parser.add_argument("--train-dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--sample-steps", type=int, default=5, help="DDIM steps when sampling")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    config = base_config(root)
    results: dict[str, Any] = {"plan": {s: plan(config, s) for s in ("bundled", "beat")}}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        if "dag" in args.parts:
            results["dag"] = part_dag(root, config, args.repeats, work)
        if "data" in args.parts:
            results["data"] = part_data(config, results["plan"], work)
        if "train" in args.parts:
            results["train"] = part_train(
                results["plan"],
                work,
                args.train_steps,
                tuple(args.train_shapes),
                tuple(args.train_dtypes),
            )
        if "evaluate" in args.parts:
            results["evaluate"] = part_evaluate(results["plan"])
        if "sample" in args.parts:
            results["sample"] = part_sample(results["plan"], args.sample_steps)
    table = report(results)
    print(table)
    if args.json:
        for p in results["plan"].values():
            for split in ("train", "val", "test"):
                p[split] = {k: v for k, v in p[split].items() if k in ("clips", "frames")}
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0
