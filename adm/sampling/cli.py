"""``adm sample``: generate whole test clips with a trained checkpoint.

Example::

    adm sample --checkpoint results/train/full/ema.safetensors \\
        --clips-dir results/data/clips --audio-dir results/features/audio \\
        --text-dir results/features/text --split results/data/split/test.txt --seed 0 \\
        --outdir results/samples/full/seed0 \\
        --config '{"sampler": "ddim", "steps": 50, "eta": 0.0, "guidance": 1.0, "batch": 16}' \\
        --threads 1

Each clip is generated in windows of the model's length (150 frames) that overlap by its seed
length (30). The first window is seeded with the ground truth's first 30 frames (the protocol of
DiffuseStyleGesture+ and the paper: it gives the model a start pose); every later window with
the previous window's generated last 30 frames, and the overlaps are crossfaded. ``--config``
keys: ``sampler`` ("ddpm": the full training chain, the paper; "ddim": ``steps`` strided
steps; "dpmpp_2m" / "dpmpp_2m_sde": DPM-Solver++(2M), deterministic or stochastic, with
``steps`` network calls), ``steps``, ``eta`` (DDIM noise), ``guidance`` (classifier-free scale
on the speaker, 1 = off) and ``batch`` (windows per network call). ``--seed 0 1 --outdir a b``
samples each seed into its own folder, loading the model and the clips once; the same seed
and ``--threads`` (CPU threads, recorded in each clip's metadata) give identical
output on the same machine, and a clip's noise does not depend on the other clips sampled with
it.

Writes ``<outdir>/<clip>.parquet`` (+ ``.bvh`` for gestures, ``.json`` for the face) and
``<outdir>/samples.tsv``; the folder appears only when every clip is written.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from adm.commandline import clip_name, non_negative_int, paired
from adm.config import config_hash, from_dict, parse_json_arg, to_dict
from adm.data.split import read_split_list
from adm.diffusion.solvers import SOLVERS
from adm.errors import BadInputError, ConfigError
from adm.sampling import (
    SampleConfig,
    denormalize_tasks,
    generate,
    pick_device,
    prepare_clip,
    sampling_diffusion,
    staged_folder,
    write_sample,
    write_samples_tsv,
)
from adm.threads import add_threads_argument, current_threads, set_threads
from adm.training.checkpoint import load_checkpoint

log = logging.getLogger("adm.sample")

SEED_PROTOCOL = "first window seeded with the ground truth's first seed_frames frames"


def sample_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--checkpoint", required=True, help="weights file (ema.safetensors) or its folder"
    )
    parser.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    parser.add_argument("--audio-dir", required=True, help="folder of audio feature tables")
    parser.add_argument("--text-dir", required=True, help="folder of text feature tables")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--split", help="split list of the clips to generate (one stem a line)")
    which.add_argument(
        "--clips", nargs="+", type=clip_name, metavar="STEM", help="clip stems to generate"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, required=True, nargs="+", help="sampling seeds (>= 0)"
    )
    parser.add_argument(
        "--outdir", required=True, nargs="+", help="each seed's output folder (replaced as a whole)"
    )
    parser.add_argument("--config", default="{}", help="sampler settings as a JSON object")
    parser.add_argument(
        "--raw-weights",
        action="store_true",
        help="with a checkpoint folder, use model.safetensors instead of the EMA weights",
    )
    add_threads_argument(parser)
    return parser


def _stems(args: argparse.Namespace) -> list[str]:
    stems = read_split_list(Path(args.split)) if args.split else list(args.clips)
    if not stems:
        raise BadInputError(args.split or "--clips", "no clips listed")
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise BadInputError(args.split or "--clips", f"clips listed twice: {repeated}")
    return stems


def sample(args: argparse.Namespace) -> int:
    config = from_dict(SampleConfig, parse_json_arg(args.config), where="config")
    runs = paired("seed", seed=args.seed, outdir=args.outdir)
    if len(set(args.seed)) != len(args.seed):
        raise ConfigError(f"--seed: a seed is given twice ({args.seed})")
    stems = _stems(args)
    set_threads(args.threads)
    device = pick_device()
    ckpt = load_checkpoint(args.checkpoint, device=device, ema=not args.raw_weights)
    model_config = ckpt.model.config
    diffusion = sampling_diffusion(ckpt.diffusion_config, config)
    # Network calls per window: a solver's own count, else every step of the process; a
    # regression network (CaMN, MambaTalk) predicts each window in one call, no sampler.
    regression = bool(getattr(ckpt.model, "regression", False))
    calls = config.steps if config.sampler in SOLVERS else int(diffusion.num_timesteps)
    sampler = "regression" if regression else config.sampler
    if regression:
        calls = 1
    if config.guidance != 1.0 and getattr(model_config, "cond_drop_prob", 0.0) == 0.0:
        # The unconditional branch was never trained: guidance then extrapolates from noise.
        log.warning(
            "guidance %.2f with a model trained without speaker dropout (cond_drop_prob 0)",
            config.guidance,
        )
    dirs = {"clips": args.clips_dir, "audio": args.audio_dir, "text": args.text_dir}
    face_input = bool(getattr(ckpt.model, "face_input", False))
    clips = [
        prepare_clip(s, dirs, model_config, ckpt.norm, ckpt.speakers, ckpt.audio_layout, face_input)
        for s in stems
    ]
    frames = sum(c.inputs.num_frames for c in clips)
    seconds = sum(c.inputs.num_frames / c.fps for c in clips)
    log.info(
        "%d clip(s), %d frames; %s with %d step(s) on %s",
        len(clips),
        frames,
        sampler,
        calls,
        device,
    )
    bounds = ckpt.x0_bounds() if config.clip_x0 else None
    common = {
        "variant": ckpt.variant.get("name"),
        "tasks": list(ckpt.tasks),
        "sampler": sampler,
        "steps": calls,
        "eta": config.eta if sampler == "ddim" else None,
        "guidance": config.guidance,
        "sample_config": to_dict(config),
        "sample_config_hash": config_hash(config),
        "checkpoint": str(args.checkpoint),
        "config_hash": ckpt.metadata.get("config_hash"),
        "checkpoint_step": ckpt.step,
        "window": int(model_config.window),
        "seed_frames": int(model_config.seed_frames),
        "seed_protocol": SEED_PROTOCOL,
        "device": str(device),
        "threads": current_threads(),
    }
    for seed, outdir in runs:
        start = time.perf_counter()
        inputs = [c.inputs for c in clips]
        outputs = generate(ckpt.model, diffusion, inputs, config, seed, device, bounds)
        elapsed = time.perf_counter() - start
        log.info(
            "seed %d: generated in %.1f s (%.2f s of motion per second)",
            seed,
            elapsed,
            seconds / elapsed,
        )
        _write_samples(outdir, clips, outputs, ckpt, {**common, "seed": seed})
    return 0


def _write_samples(outdir: str, clips: list, outputs: list, ckpt, common: dict) -> None:
    """One seed's clips (``outputs``: ``[T, Dx]`` normalised motion each) with their metadata
    and ``samples.tsv`` into ``outdir``: staged, then moved into place whole."""
    with staged_folder(outdir) as folder:
        for clip, x in zip(clips, outputs, strict=True):
            motion = denormalize_tasks(x, ckpt.tasks, ckpt.norm)
            meta = {**common, "speaker": clip.speaker, "source": str(clip.source)}
            write_sample(folder, clip.stem, motion, clip.fps, meta, clip.gesture_euler)
        write_samples_tsv(folder, [(c.stem, c.inputs.num_frames) for c in clips])
    log.info("wrote %d clip(s) to %s", len(clips), outdir)
