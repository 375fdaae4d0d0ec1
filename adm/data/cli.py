"""The data stage's commands: ``adm synthesize|download|prepare|split|norm-stats|preview``.

Each command is a pair: ``<name>_parser()`` builds its options, ``<name>(args)`` runs it
(through :func:`adm.commandline.run_stage`, see :mod:`adm.commands`). The library imports sit
inside the functions so that ``adm --help`` and each ``--help`` answer at once.

Examples::

    adm synthesize --root results/data/corpus/synth --config '{"speakers": [2, 4]}' --workers 2
    adm download --root results/data/corpus/beat --speakers 2 4 6 8 \\
        --config '{"repo": "H-Liu1997/BEAT", "revision": "604f5ec"}'
    adm prepare --clip 2_scott_0_1_1 --root results/data/corpus/beat \\
        --out results/data/clips/2_scott_0_1_1.parquet --config '{"fps": 30}'
    adm split --outdir results/data/split --skipped results/data/skipped.tsv \\
        results/data/clips/*.parquet
    adm norm-stats --train results/data/split/train.txt --clips-dir results/data/clips \\
        --out results/data/norm_stats.json --min-std 1e-4
    adm preview --root results/data/corpus/synth --stem 2_scott_0_1_1 --out preview.png
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from adm.commandline import clip_name, positive_float, positive_int, speaker_id

log = logging.getLogger("adm.data")


# --- adm synthesize ------------------------------------------------------------------------------
def synthesize_parser() -> argparse.ArgumentParser:
    """``--config`` is a JSON object of :class:`adm.data.synth.SynthConfig` fields. The command
    writes ``<root>/<spk>/<stem>.{wav,TextGrid,json,bvh,txt,csv}`` for every take and, last,
    ``<root>/manifest.tsv``. The output depends only on the config (not on ``--workers``)."""
    p = argparse.ArgumentParser(description="Write the synthetic corpus in BEAT's file formats.")
    p.add_argument("--root", required=True, type=Path, help="output folder of the corpus")
    p.add_argument("--config", default="{}", help="JSON object of SynthConfig fields")
    p.add_argument("--workers", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--log", type=Path, default=None, help="also append log lines to this file")
    return p


def synthesize(args: argparse.Namespace) -> int:
    from adm.config import from_dict, parse_json_arg
    from adm.data.synth import SynthConfig, generate_corpus

    cfg = from_dict(SynthConfig, parse_json_arg(args.config), where="synth")
    if args.log is not None:
        args.log.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(args.log, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logging.getLogger("adm").addHandler(handler)
    manifest = generate_corpus(cfg, args.root, workers=max(1, args.workers))
    logging.getLogger("adm.synth").info("manifest: %s", manifest)
    return 0


# --- adm download --------------------------------------------------------------------------------
def download_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Fetch BEAT v0.2.1 for the configured speakers (network needed)."
    )
    p.add_argument("--root", required=True, help="target folder (<root>/<speaker>/...)")
    p.add_argument(
        "--speakers", type=speaker_id, nargs="+", required=True, help="BEAT speaker ids (1-30)"
    )
    p.add_argument("--config", default="{}", help="data.beat settings as JSON")
    return p


def download(args: argparse.Namespace) -> int:
    from adm.config import from_dict, parse_json_arg
    from adm.data.download import download_beat
    from adm.data.settings import BeatSourceConfig

    cfg = from_dict(BeatSourceConfig, parse_json_arg(args.config), "data.beat")
    stems = download_beat(Path(args.root), cfg, list(dict.fromkeys(args.speakers)))
    log.info("BEAT ready: %d clips of speakers %s in %s", len(stems), args.speakers, args.root)
    return 0


# --- adm prepare ---------------------------------------------------------------------------------
def prepare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="BEAT-format clips -> one prepared Parquet file each (the i-th --out "
        "belongs to the i-th --clip)."
    )
    p.add_argument(
        "--clip", required=True, nargs="+", type=clip_name, help="clip stems, e.g. 2_scott_0_1_1"
    )
    p.add_argument("--root", required=True, help="corpus root holding <speaker>/<clip>.*")
    p.add_argument("--out", required=True, nargs="+", help="each clip's output Parquet path")
    p.add_argument("--config", default="{}", help="PrepareConfig as a JSON object")
    return p


def prepare(args: argparse.Namespace) -> int:
    from adm.commandline import paired
    from adm.config import from_dict, parse_json_arg
    from adm.data.settings import PrepareConfig
    from adm.errors import BadInputError

    cfg = from_dict(PrepareConfig, parse_json_arg(args.config), "data.prepare")
    root = Path(args.root)
    if not root.is_dir():
        raise BadInputError(root, "corpus root folder not found (--root)")
    for stem, out in paired("clip", clip=args.clip, out=args.out):
        _prepare_one(stem, root, out, cfg)
    return 0


def _prepare_one(stem: str, root: Path, out: str, cfg) -> None:
    """One clip of ``adm prepare``: its prepared table (or skip marker) written to ``out``."""
    from adm.data.clips import find_clip_files, parse_clip_name
    from adm.data.prepare import REQUIRED, prepare_clip, skipped_marker
    from adm.errors import BadClipError
    from adm.io.frames import write_frames

    files = find_clip_files(root, stem)
    try:
        missing = [ext for ext in REQUIRED if ext not in files]
        if missing:
            folder = root / str(parse_clip_name(stem).speaker)
            also = f" (nor its {', '.join(missing[1:])})" if len(missing) > 1 else ""
            raise BadClipError(
                folder / f"{stem}.{missing[0]}", f"required file of the clip not found{also}"
            )
        table = prepare_clip(stem, files, cfg)
    except BadClipError as err:
        if cfg.on_bad_clip != "skip":
            raise
        log.warning("skipping clip %s: %s", stem, err)
        table = skipped_marker(stem, err)
    write_frames(out, table.columns, table.metadata)
    log.info("%s: %d frames at %d fps -> %s", stem, table.num_frames, cfg.fps, out)


# --- adm split -----------------------------------------------------------------------------------
def split_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="CaMN train/val/test lists of the prepared clips, and skipped.tsv."
    )
    p.add_argument("clips", nargs="+", help="prepared clip Parquet files")
    p.add_argument("--outdir", required=True, help="folder for train/val/test .txt lists")
    p.add_argument("--skipped", required=True, help="TSV listing skipped clips and reasons")
    return p


def split(args: argparse.Namespace) -> int:
    from adm.data.split import SPLITS, split_clips, write_split

    result = split_clips([Path(p) for p in args.clips])
    write_split(result, Path(args.outdir), Path(args.skipped))
    counts = ", ".join(f"{s} {len(result.splits[s])}" for s in SPLITS)
    log.info("split: %s; skipped %d", counts, len(result.skipped))
    for clip, file, reason in result.skipped:
        log.warning("skipped %s (%s): %s", clip, file, reason)
    if not result.splits["train"]:
        log.error("the train split is empty: no model can be trained")
        return 1
    return 0


# --- adm norm-stats ------------------------------------------------------------------------------
def norm_stats_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Per-dim mean/std of gesture and face on the train split."
    )
    p.add_argument("--train", required=True, help="train split list (one stem a line)")
    p.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    p.add_argument("--out", required=True, help="output JSON")
    p.add_argument("--min-std", type=positive_float, default=1e-4, help="floor on each std (> 0)")
    return p


def norm_stats(args: argparse.Namespace) -> int:
    from adm.data.normalization import compute_norm_stats, save_norm_stats
    from adm.data.split import read_split_list
    from adm.errors import BadInputError

    stems = read_split_list(Path(args.train))
    if not stems:
        raise BadInputError(args.train, "the train split lists no clip")
    clips = [Path(args.clips_dir) / f"{s}.parquet" for s in stems]
    stats, frames = compute_norm_stats(clips, args.min_std)
    save_norm_stats(
        Path(args.out),
        stats,
        {"split": "train", "clips": stems, "num_frames": frames, "min_std": args.min_std},
    )
    log.info("normalisation statistics from %d train clips, %d frames", len(stems), frames)
    return 0


# --- adm preview ---------------------------------------------------------------------------------
def preview_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="A picture of one BEAT-format clip, to check that it moves sensibly "
        "(skeleton at gesture peaks, wrist speed, waveform with words and jawOpen)."
    )
    p.add_argument("--root", required=True, type=Path, help="corpus root (<root>/<spk>/<stem>.*)")
    p.add_argument("--stem", required=True, help="clip stem, e.g. 2_scott_0_1_1")
    p.add_argument("--out", required=True, type=Path, help="PNG to write")
    return p


def preview(args: argparse.Namespace) -> int:
    from adm.data.preview import render_preview

    render_preview(args.root, args.stem, args.out)
    return 0
