"""``adm generate``: motion for your own recording, ready for Blender and Unreal.

    adm generate --audio talk.wav --speaker 2 \\
        --checkpoint results/train/full/ema.safetensors --outdir results/generate/talk \\
        [--transcript talk.TextGrid | talk.txt] [--seed 0] [--face-fps 60] \\
        [--config '{"sampler": "ddim", "steps": 50}'] \\
        [--vectors results/features/fasttext/model.bin]

Reads any audio file libsndfile reads (wav, flac, ogg; any rate, any channel count) and writes,
into ``--outdir`` (which appears only when everything is written): ``motion.bvh`` (BEAT's
skeleton), ``face.json`` (BEAT's ARKit JSON), ``face_livelink.csv`` (Live Link Face take),
``preview.mp4`` (skeleton and face with the audio) and ``provenance.json``. ``--outputs``
picks a subset; by default every file the checkpoint's streams allow.

A TextGrid transcript is used as is; plain text is aligned to the speech approximately (words
spread over the voiced parts by letter count); without a transcript the model gets its "no
transcript" input (``train.text_dropout``). ``--audio-config`` and ``--text-config`` must be the
``features.audio`` and ``features.text`` settings the checkpoint was trained with (the
defaults are the pipeline's). Memory stays at one window's audio context plus the motion; a
progress bar counts the windows.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from importlib.metadata import version
from pathlib import Path

from adm.commandline import non_negative_int, positive_int, run_stage, speaker_id
from adm.config import config_hash, from_dict, parse_json_arg, to_dict
from adm.errors import BadInputError, ConfigError
from adm.features.config import AudioFeatureConfig, TextFeatureConfig
from adm.generation.audio_input import file_sha256, read_recording
from adm.generation.livelink import FACE_RATES
from adm.generation.outputs import NEEDS, OUTPUTS, write_outputs
from adm.generation.stream import (
    CONTEXT_LEFT_S,
    CONTEXT_RIGHT_S,
    NOISE_KEY,
    MotionStream,
    concatenate,
)
from adm.generation.transcript import load_words
from adm.sampling import SampleConfig, pick_device
from adm.sampling.windows import plan_windows
from adm.threads import add_threads_argument, current_threads, set_threads

log = logging.getLogger("adm.generation")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="adm generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--audio", required=True, type=Path, help="the recording (any soundfile format)")
    p.add_argument("--transcript", type=Path, help="a .TextGrid, or plain text (aligned roughly)")
    p.add_argument("--speaker", required=True, type=speaker_id, help="BEAT speaker id to imitate")
    p.add_argument("--checkpoint", required=True, type=Path, help="weights file or its folder")
    p.add_argument("--outdir", required=True, type=Path, help="output folder (replaced whole)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="sampling seed (default 0)")
    p.add_argument("--config", default="{}", help="sampler settings as JSON (as adm sample)")
    p.add_argument("--fps", type=positive_int, default=30, help="the model's motion rate")
    p.add_argument("--face-fps", type=int, choices=FACE_RATES, default=60,
                   help="rate of face.json and the Live Link CSV (default 60)")  # fmt: skip
    p.add_argument("--outputs", nargs="+", choices=OUTPUTS, help="files to write (default: all "
                   "that the checkpoint's streams allow)")  # fmt: skip
    p.add_argument("--audio-config", default="{}", help="features.audio settings as JSON")
    p.add_argument("--text-config", default="{}", help="features.text settings as JSON")
    p.add_argument("--vectors", type=Path, help="word vectors (features.text.path by default)")
    p.add_argument("--raw-weights", action="store_true", help="folder: model, not EMA weights")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_threads_argument(p)
    return p


def _outputs(args: argparse.Namespace, tasks: tuple[str, ...]) -> tuple[str, ...]:
    if args.outputs is None:
        return tuple(o for o in OUTPUTS if NEEDS.get(o, tasks[0]) in tasks)
    for name in args.outputs:
        if NEEDS.get(name, tasks[0]) not in tasks:
            raise BadInputError(
                "--outputs",
                f"{name} needs the {NEEDS[name]} stream, but {args.checkpoint} generates only "
                f"{' and '.join(tasks)}",
            )
    return tuple(dict.fromkeys(args.outputs))


def _text(args: argparse.Namespace, ckpt, words):
    """The word vectors and text settings, when the transcript's words will be used."""
    text_config = from_dict(TextFeatureConfig, parse_json_arg(args.text_config, "--text-config"),
                            "features.text")  # fmt: skip
    if not words or not int(ckpt.model.config.text_dim):
        return None, text_config
    from adm.features.vectors import normalise_word, open_vectors

    path = args.vectors or text_config.path
    if not path:
        raise ConfigError(
            "--vectors: a transcript needs the word vectors the model was trained with "
            "(results/features/fasttext/model.bin in the bundled pipeline)"
        )
    vocab = {normalise_word(w.label, text_config.lowercase) for w in words} - {""}
    vectors = open_vectors(text_config.source, path, text_config.dim, vocab,
                           text_config.lowercase)  # fmt: skip
    return vectors, text_config


def main_args(args: argparse.Namespace) -> int:
    from adm.features.audio import build_wavlm
    from adm.training.checkpoint import load_checkpoint

    sample = from_dict(SampleConfig, parse_json_arg(args.config), "config")
    audio_config = from_dict(
        AudioFeatureConfig, parse_json_arg(args.audio_config, "--audio-config"), "features.audio"
    )
    set_threads(args.threads)
    device = pick_device()
    ckpt = load_checkpoint(args.checkpoint, device=device, ema=not args.raw_weights)
    outputs = _outputs(args, ckpt.tasks)
    if args.speaker not in ckpt.speakers:
        raise BadInputError(
            "--speaker",
            f"speaker {args.speaker} is unknown to {args.checkpoint} (trained on speakers "
            f"{list(ckpt.speakers)})",
        )
    recording = read_recording(args.audio, audio_config.sample_rate)
    words, method = load_words(args.transcript, recording.samples, recording.sample_rate)
    vectors, text_config = _text(args, ckpt, words)
    if words and not int(ckpt.model.config.text_dim):
        log.warning("%s takes no text: the transcript is not used", args.checkpoint)
    frames = int(round(len(recording.samples) * args.fps / recording.sample_rate))
    mc = ckpt.model.config
    total = len(plan_windows(frames, int(mc.window), int(mc.seed_frames)))
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="window", desc=args.audio.name, file=sys.stderr)
    stream = MotionStream(
        ckpt, args.speaker, fps=args.fps, seed=args.seed, sample=sample,
        audio_config=audio_config, words=words, vectors=vectors, text_config=text_config,
        wavlm=build_wavlm(audio_config), device=device,
        on_window=(lambda k, n: bar.update(1) if k else None) if bar else None,
    )  # fmt: skip
    began = time.perf_counter()
    chunks = stream.push(recording.samples) + stream.close()
    if bar is not None:
        bar.update(1)
        bar.close()
    elapsed = time.perf_counter() - began
    motion = concatenate(chunks)
    log.info("%d frames (%.1f s) in %.1f s", frames, recording.seconds, elapsed)
    provenance = {
        "audio": {"path": str(args.audio), "sha256": recording.sha256,
                  "sample_rate": recording.source_rate, "channels": recording.source_channels,
                  "seconds": recording.seconds},
        "transcript": None if args.transcript is None else {
            "path": str(args.transcript), "sha256": file_sha256(args.transcript),
            "alignment": method, "words": len(words)},
        "speaker": args.speaker,
        "checkpoint": str(args.checkpoint),
        "checkpoint_step": ckpt.step,
        "config_hash": ckpt.metadata.get("config_hash"),
        "variant": ckpt.variant.get("name"),
        "tasks": list(ckpt.tasks),
        "seed": args.seed,
        "noise": f"clip_generator(seed, {NOISE_KEY!r})",
        "sample_config": to_dict(sample),
        "sample_config_hash": config_hash(sample),
        "audio_features_hash": config_hash(audio_config),
        "context_seconds": [CONTEXT_LEFT_S, CONTEXT_RIGHT_S],
        "fps": args.fps,
        "face_fps": args.face_fps,
        "frames": frames,
        "device": str(device),
        "threads": current_threads(),
        "adm": version("adm"),
        "seconds_to_generate": round(elapsed, 3),
    }  # fmt: skip
    rest = {task: ckpt.norm[task][0].detach().cpu().numpy() for task in ("gesture", "face")}
    written = write_outputs(args.outdir, motion, args.fps, args.face_fps, outputs, args.audio,
                            provenance, rest, title=args.audio.stem)  # fmt: skip
    log.info("wrote %s", ", ".join(str(p) for p in written.values()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (1 with one ``error:`` line on bad input)."""
    return run_stage(main_args, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
