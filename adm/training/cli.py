"""Train the ADM denoiser: ``adm train``.

    adm train --clips-dir results/data/clips --audio-dir results/features/audio \\
        --text-dir results/features/text --split-dir results/data/split \\
        --norm results/data/norm_stats.json --speakers 2 4 6 8 \\
        --outdir results/train/full --config '{"model": {...}, "train": {...}, ...}' \\
        --threads 1

Writes ``<outdir>/model.safetensors``, ``ema.safetensors``, ``scalars.csv`` and
``val_scalars.csv`` (periodic checkpoints under ``<outdir>/checkpoints/``). Rerunning after an
interruption resumes from the newest checkpoint. Runs unchanged under
``torchrun --nproc_per_node K -m adm train ...`` (each process takes ``train.batch / K``
windows per step). ``--threads`` is the CPU thread count (recorded as ``threads`` in the
weights' metadata): the same count gives bit-identical weights. Exits 0 only when the final
files exist.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from adm.commandline import speaker_id
from adm.config import parse_json_arg
from adm.threads import add_threads_argument, set_threads


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the ADM denoiser (resumable).")
    p.add_argument("--clips-dir", type=Path, required=True, help="prepared clips (*.parquet)")
    p.add_argument("--audio-dir", type=Path, required=True, help="audio features (*.parquet)")
    p.add_argument("--text-dir", type=Path, required=True, help="text features (*.parquet)")
    p.add_argument("--split-dir", type=Path, required=True, help="folder with train.txt, val.txt")
    p.add_argument("--norm", type=Path, required=True, help="motion norm_stats.json")
    p.add_argument(
        "--speakers",
        type=speaker_id,
        nargs="+",
        required=True,
        help="BEAT speaker ids (1-30); their order defines the model's speaker indices",
    )
    p.add_argument(
        "--outdir", type=Path, required=True, help="run folder (final files, checkpoints)"
    )
    p.add_argument(
        "--config",
        default="{}",
        help="JSON object with sections model, diffusion, train, variant (unknown keys fail)",
    )
    p.add_argument(
        "--vq-dir",
        type=Path,
        help="stage-1 part VQ-VAEs of a two-stage network (MambaTalk; `adm train-vq`)",
    )
    add_threads_argument(p)
    return p


def train(args: argparse.Namespace) -> int:
    # Heavy imports here so that --help answers at once.
    from adm.training import loop
    from adm.training.config import parse_run_config
    from adm.training.corpus import DataPaths
    from adm.training.distributed import init_distributed, shutdown

    run = parse_run_config(parse_json_arg(args.config))
    check_model_first(run, args)
    set_threads(args.threads)
    ctx = init_distributed()
    if not ctx.is_main:
        logging.getLogger("adm").setLevel(logging.WARNING)
    try:
        paths = DataPaths(
            args.clips_dir, args.audio_dir, args.text_dir, args.split_dir, args.norm, args.vq_dir
        )
        outdir = loop.train(paths, args.speakers, args.outdir, run, ctx)
    finally:
        shutdown(ctx)
    missing = [n for n in loop.FINAL_FILES if not (outdir / n).is_file()]
    if ctx.is_main and missing:
        print(f"error: {outdir}: final files missing: {missing}", file=sys.stderr)
        return 1
    return 0


def check_model_first(run, args: argparse.Namespace) -> None:
    """The model's settings against the data before the corpus loads (minutes at the paper's
    scale): the speaker count from ``--speakers``, the feature widths from the first train
    clip's feature files (their schema alone). A setting that cannot work (a width the data
    contradicts, ``model.latent`` not divisible by the heads) is then a ConfigError at once.
    A missing file is left to the corpus loader, which names it."""
    from adm.config import from_dict
    from adm.data.split import read_split_list
    from adm.io.frames import column_width
    from adm.models import denoiser_class
    from adm.training.config import resolve_model_config

    train_list = Path(args.split_dir) / "train.txt"
    stems = read_split_list(train_list) if train_list.is_file() else []
    if not stems:
        return
    files = {k: Path(d) / f"{stems[0]}.parquet" for k, d in (("audio", args.audio_dir),
                                                             ("text", args.text_dir))}  # fmt: skip
    if not all(f.is_file() for f in files.values()):
        return
    audio, text = (column_width(f, kind) for kind, f in files.items())
    model = resolve_model_config(run, len(args.speakers), audio, text)
    from_dict(denoiser_class(run.model_name).config_class, model, "model")


def train_vq_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Stage 1 of MambaTalk: one VQ-VAE per body part on the train split."
    )
    p.add_argument("--clips-dir", type=Path, required=True, help="prepared clips (*.parquet)")
    p.add_argument("--split", type=Path, required=True, help="the train split list")
    p.add_argument("--norm", type=Path, required=True, help="motion norm_stats.json")
    p.add_argument("--outdir", type=Path, required=True, help="folder of <part>.safetensors")
    p.add_argument("--config", default="{}", help="VQ settings as a JSON object")
    add_threads_argument(p)
    return p


def train_vq(args: argparse.Namespace) -> int:
    from adm.config import from_dict
    from adm.training.vq_stage import VQStageConfig, train_vqs

    config = from_dict(VQStageConfig, parse_json_arg(args.config), "config")
    set_threads(args.threads)
    train_vqs(args.clips_dir, args.split, args.norm, config, args.outdir)
    return 0
