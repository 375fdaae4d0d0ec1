"""The feature stage's commands: ``adm audio-features|text-features|filter-vectors|fasttext-train``.

Each command is a pair: ``<name>_parser()`` builds its options, ``<name>(args)`` runs it
(through :func:`adm.commandline.run_stage`, see :mod:`adm.commands`).

Examples::

    adm audio-features --clip results/data/clips/2_scott_0_1_1.parquet \\
        --wav results/data/corpus/beat/2/2_scott_0_1_1.wav \\
        --out results/features/audio/2_scott_0_1_1.parquet \\
        --config '{"wavlm": "microsoft/wavlm-large"}' [--log features.log]
    adm text-features --clip results/data/clips/2_scott_0_1_1.parquet \\
        --textgrid results/data/corpus/beat/2/2_scott_0_1_1.TextGrid \\
        --vectors results/features/fasttext/filtered.parquet \\
        --out results/features/text/2_scott_0_1_1.parquet --config '{"source": "vec"}'
    adm filter-vectors --vec crawl-300d-2M.vec --textgrids beat/*/*.TextGrid \\
        --out results/features/fasttext/filtered.parquet
    adm fasttext-train --textgrids beat/*/*.TextGrid --out results/features/fasttext/model.bin \\
        --config '{"dim": 300, "epoch": 10}'

The clip's ``num_frames`` T is authoritative for both conditions (see :mod:`adm.features.align`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from adm.commandline import paired
from adm.features.clipinfo import log_to_file

log = logging.getLogger("adm.features")


# --- adm audio-features --------------------------------------------------------------------------
def audio_features(args: argparse.Namespace) -> int:
    with log_to_file(args.log):
        return _audio_features(args)


def _audio_features(args: argparse.Namespace) -> int:
    from adm.config import from_dict, parse_json_arg
    from adm.data.audio import load_wav
    from adm.features.audio import build_wavlm
    from adm.features.clipinfo import clip_frames, write_skipped_marker
    from adm.features.config import AudioFeatureConfig

    config = from_dict(AudioFeatureConfig, parse_json_arg(args.config), "features.audio")
    clips = []
    for clip, wav, out in paired("clip", clip=args.clip, wav=args.wav, out=args.out):
        if not write_skipped_marker(clip, out, "audio"):
            clips.append((clip_frames(Path(clip)), wav, out))  # every clip checked first
    if not clips:
        return 0
    runner = build_wavlm(config)  # once for the batch
    for (meta, num_frames, fps), wav, out in clips:
        audio = load_wav(wav, target_sr=config.sample_rate)
        _write_audio_features(meta, num_frames, fps, audio, wav, out, config, runner)
    return 0


def _write_audio_features(meta, num_frames, fps, audio, wav, out, config, runner) -> None:
    """One clip of ``adm audio-features``: its ``[T, D]`` condition written to ``out``."""
    import numpy as np

    from adm.config import config_hash, to_dict
    from adm.errors import BadInputError
    from adm.features.audio import VERSIONED, compute_audio_features
    from adm.features.layout import extractor_versions
    from adm.io.frames import write_frames

    features, layout = compute_audio_features(audio, num_frames, fps, config, runner)
    if not np.isfinite(features).all():
        raise BadInputError(wav, "audio features contain non-finite values")
    metadata = {
        "feature": "audio",
        "clip": meta.get("clip"),
        "speaker": meta.get("speaker"),
        "fps": fps,
        "num_frames": num_frames,
        "wav": str(wav),
        "audio_seconds": len(audio) / config.sample_rate,
        "layout": layout.to_dict(),
        "config": to_dict(config),
        "config_hash": config_hash(config),
        "versions": extractor_versions(*VERSIONED),
        "wavlm": None
        if runner is None
        else {
            "model": config.wavlm,
            "layer": runner.layer,
            "num_layers": runner.num_layers,
            "width": runner.width,
            "device": str(runner.device),
            "dtype": str(runner.dtype).replace("torch.", ""),
        },
    }
    write_frames(out, {"audio": features}, metadata)
    log.info("%s: %d frames x %d dims -> %s", meta.get("clip"), *features.shape, out)


def audio_features_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Audio condition of prepared clips (one or several: the i-th --wav and "
        "--out belong to the i-th --clip; the libraries and WavLM load once for all).",
    )
    p.add_argument("--clip", required=True, nargs="+", help="prepared clips (.parquet): T, fps")
    p.add_argument("--wav", required=True, nargs="+", help="each clip's audio (.wav)")
    p.add_argument("--out", required=True, nargs="+", help="each clip's output .parquet")
    p.add_argument("--config", default="{}", help="features.audio settings as JSON")
    p.add_argument("--log", default=None, help="also append log lines to this file")
    return p


# --- adm text-features ---------------------------------------------------------------------------
def text_features(args: argparse.Namespace) -> int:
    with log_to_file(args.log):
        return _text_features(args)


def _text_features(args: argparse.Namespace) -> int:
    from adm.config import from_dict, parse_json_arg
    from adm.data.textgrid import read_textgrid, word_per_frame
    from adm.errors import ConfigError
    from adm.features.clipinfo import clip_frames, write_skipped_marker
    from adm.features.config import TextFeatureConfig
    from adm.features.vectors import normalise_word, open_vectors

    config = from_dict(TextFeatureConfig, parse_json_arg(args.config), "features.text")
    path = args.vectors or config.path
    if not path:
        raise ConfigError("features.text.path: no vectors file (give --vectors or set the path)")
    jobs = paired("clip", clip=args.clip, textgrid=args.textgrid, out=args.out)
    # Every clip's words are read first, so that the vectors are opened once for the batch
    # (a word's vector does not depend on which other words are looked up with it).
    clips = []
    for clip, textgrid, out in jobs:
        if write_skipped_marker(clip, out, "text"):
            continue
        meta, num_frames, fps = clip_frames(Path(clip))
        words = word_per_frame(read_textgrid(textgrid).words, num_frames, fps)
        clips.append((meta, num_frames, fps, words, textgrid, out))
    if not clips:
        return 0
    vocab = {normalise_word(w, config.lowercase) for c in clips for w in c[3]} - {""}
    vectors = open_vectors(config.source, path, config.dim, vocab, config.lowercase)
    for meta, num_frames, fps, words, textgrid, out in clips:
        _write_text_features(meta, num_frames, fps, words, textgrid, out, vectors, path, config)
    return 0


def _write_text_features(meta, num_frames, fps, words, textgrid, out, vectors, path, config):
    """One clip of ``adm text-features``: the ``[T, dim + 1]`` condition written to ``out``."""
    from adm.config import config_hash, to_dict
    from adm.features import text
    from adm.features.layout import extractor_versions, text_layout
    from adm.io.frames import write_frames

    features, unknown = text.text_features(words, vectors, config.lowercase)
    silent = int(features[:, -1].sum())
    if unknown:
        log.info("%d word(s) without a vector (zero vector, flag 0): %s", len(unknown), unknown)
    metadata = {
        "feature": "text",
        "clip": meta.get("clip"),
        "speaker": meta.get("speaker"),
        "fps": fps,
        "num_frames": num_frames,
        "textgrid": str(textgrid),
        "vectors": str(path),
        "layout": text_layout(config.dim).to_dict(),
        "config": to_dict(config),
        "config_hash": config_hash(config),
        "versions": extractor_versions("numpy", "fasttext-numpy2", "fasttext"),
        "silent_frames": silent,
        "unknown_words": unknown,
    }
    write_frames(out, {"text": features}, metadata)
    log.info(
        "%s: %d frames (%d silent, %d unknown words) -> %s",
        meta.get("clip"),
        num_frames,
        silent,
        len(unknown),
        out,
    )


def text_features_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Text condition of prepared clips (one or several: the i-th --textgrid "
        "and --out belong to the i-th --clip; the vectors open once for all).",
    )
    p.add_argument("--clip", required=True, nargs="+", help="prepared clips (.parquet): T, fps")
    p.add_argument("--textgrid", required=True, nargs="+", help="each clip's TextGrid")
    p.add_argument("--vectors", default=None, help="vectors file (overrides features.text.path)")
    p.add_argument("--out", required=True, nargs="+", help="each clip's output .parquet")
    p.add_argument("--config", default="{}", help="features.text settings as JSON")
    p.add_argument("--log", default=None, help="also append log lines to this file")
    return p


# --- adm filter-vectors --------------------------------------------------------------------------
def filter_vectors(args: argparse.Namespace) -> int:
    import numpy as np

    from adm.config import from_dict, parse_json_arg
    from adm.errors import BadInputError
    from adm.features.config import TextFeatureConfig
    from adm.features.layout import extractor_versions
    from adm.features.vectors import corpus_vocabulary, filter_vec, write_vector_table

    config = from_dict(TextFeatureConfig, parse_json_arg(args.config), "features.text")
    vocab = corpus_vocabulary(args.textgrids, config.lowercase)
    words, rows = filter_vec(args.vec, vocab, config.lowercase)
    if len(words) and rows.shape[1] != config.dim:
        raise BadInputError(args.vec, f"vectors have {rows.shape[1]} dims, expected {config.dim}")
    write_vector_table(
        args.out,
        words,
        rows if len(words) else np.zeros((0, config.dim), np.float32),
        {
            "source": str(args.vec),
            "lowercase": config.lowercase,
            "vocabulary": len(vocab),
            "missing": sorted(vocab - set(words)),
            "versions": extractor_versions("numpy"),
        },
    )
    print(f"{len(words)} of {len(vocab)} corpus words found in {args.vec} -> {args.out}")
    return 0


def filter_vectors_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Filter a fastText .vec file to the words of a corpus's TextGrids.",
    )
    p.add_argument("--vec", required=True, help="fastText .vec (or .vec.gz) file")
    p.add_argument("--textgrids", required=True, nargs="+", help="the corpus TextGrids")
    p.add_argument("--out", required=True, help="filtered table (.parquet)")
    p.add_argument("--config", default="{}", help="features.text settings as JSON")
    return p


# --- adm fasttext-train --------------------------------------------------------------------------
def fasttext_train(args: argparse.Namespace) -> int:
    from adm.config import from_dict, parse_json_arg
    from adm.errors import BadInputError
    from adm.features.config import FastTextTrainConfig
    from adm.features.fasttext_train import corpus_lines, select_split, train_skipgram

    with log_to_file(args.log):
        config = from_dict(FastTextTrainConfig, parse_json_arg(args.config), "fasttext")
        textgrids = select_split(args.textgrids, args.split)
        lines = corpus_lines(textgrids, config.lowercase)
        tokens = sum(len(line.split()) for line in lines)
        if tokens == 0:
            raise BadInputError(
                args.textgrids[0],
                f"no words in the word tiers of {len(args.textgrids)} TextGrid(s)",
            )
        log.info("training skipgram on %d utterances, %d words", len(lines), tokens)
        vocab = train_skipgram(lines, config, args.out)
        log.info("%d-dim vectors for %d words -> %s", config.dim, vocab, args.out)
    return 0


def fasttext_train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Train fastText skipgram word vectors on the corpus transcripts.",
    )
    p.add_argument("--textgrids", required=True, nargs="+", help="the corpus TextGrids")
    p.add_argument("--split", default=None, help="train only on the clips listed (one a line)")
    p.add_argument("--out", required=True, help="model file (.bin)")
    p.add_argument("--config", default="{}", help="fastText settings as JSON")
    p.add_argument("--log", default=None, help="also append log lines to this file")
    return p
