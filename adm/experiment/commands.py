"""The exact command line each rule runs, built from the same settings and paths as the rule.

``adm settings <command> [--variant V] [--clip C] ...`` prints it, so that a run typed by hand
equals the pipeline's job (its log redirection aside); a test compares these lines with the
commands of a Snakemake dry run, so the two cannot drift apart.
"""

from __future__ import annotations

import shlex

from adm import layout
from adm.errors import ConfigError
from adm.experiment import files
from adm.experiment.config import Experiment
from adm.experiment.launch import train_gpus, train_launcher
from adm.experiment.stages import THREADS, params


def _line(*parts: str | list[str]) -> str:
    words: list[str] = []
    for part in parts:
        words.extend(part if isinstance(part, list) else [part])
    return " ".join(words)


def command_line(
    experiment: Experiment,
    command: str,
    *,
    variant: str | None = None,
    clip: str | None = None,
    kind: str | None = None,
    table: int | None = None,
) -> str:
    """The command line of the job of ``command`` (and of the variant, clip,
    metric-model kind or table given; the first one by default)."""
    ex = experiment
    q = shlex.quote
    variant = variant or next(iter(ex.variants))
    if variant not in ex.variants:
        raise ConfigError(f"variants: no variant named {variant!r} (known: {sorted(ex.variants)})")
    # a variant's sample and evaluate jobs take every sampling seed
    seeds = [str(s) for s in ex.sample_seeds()]
    clip = clip or ex.clip_stems[0]
    kind = kind or "motion"
    source = ex.data.source
    root = layout.corpus_root(source)
    speakers = [str(s) for s in ex.speakers]
    threads = str(THREADS.get(command, 1))
    per_variant = ("train", "sample", "train-vq")
    cfg = []
    if command not in ("split", "preview", *per_variant, "fit-metric-model"):
        cfg = ["--config", q(params(ex, command))]
    if command == "sample":
        cfg = ["--config", q(params(ex, command, variant))]
    ema = layout.train_file(variant, "ema.safetensors")
    test, train = layout.split_list("test"), layout.split_list("train")
    conditions = [
        "--audio-dir",
        layout.feature_dir("audio"),
        "--text-dir",
        layout.feature_dir("text"),
    ]
    models = [
        "--motion-ae",
        layout.metric_model("motion"),
        "--face-vae",
        layout.metric_model("face"),
    ]

    def batch() -> dict[str, list[str]]:  # the files of the job that handles ``clip``
        return files.clip_batch_files(ex)[ex.batch_of(clip)]

    lines = {
        "synthesize": lambda: _line(f"adm synthesize --root {root}", cfg, "--workers", threads),
        "download": lambda: _line(f"adm download --root {root} --speakers", speakers, cfg),
        "prepare": lambda: _line(
            "adm prepare --clip", batch()["stems"], f"--root {root} --out", batch()["clips"], cfg
        ),
        "split": lambda: _line(
            f"adm split --outdir {layout.SPLITS} --skipped {layout.SKIPPED}",
            files.prepared_clips(ex),
        ),
        "norm-stats": lambda: _line(
            f"adm norm-stats --train {train} --clips-dir {layout.CLIPS} --out {layout.NORM_STATS}",
            f"--min-std {ex.data.min_std!r}",
        ),
        "preview": lambda: _line(
            f"adm preview --root {root} --stem {files.jawopen_clip(ex)}",
            f"--out {layout.preview(source)}",
        ),
        "fasttext-train": lambda: _line(
            "adm fasttext-train --textgrids", files.textgrids(ex, "train"),
            f"--split {train} --out {layout.FASTTEXT_MODEL}", cfg,
        ),
        "filter-vectors": lambda: _line(
            "adm filter-vectors --vec", files.text_vectors_source(ex), "--textgrids",
            files.textgrids(ex), f"--out {layout.FILTERED_VECTORS}", cfg,
        ),
        "audio-features": lambda: _line(
            "adm audio-features --clip", batch()["clips"], "--wav", batch()["wavs"],
            "--out", batch()["audio"], cfg,
        ),
        "text-features": lambda: _line(
            "adm text-features --clip", batch()["clips"], "--textgrid", batch()["textgrids"],
            f"--vectors {files.text_vectors(ex)} --out", batch()["text"], cfg,
        ),
        "train": lambda: _line(
            train_launcher(train_gpus(ex, variant)), f"--clips-dir {layout.CLIPS}", conditions,
            f"--split-dir {layout.SPLITS} --norm {layout.NORM_STATS} --speakers", speakers,
            f"--outdir {layout.train_dir(variant)}",
            ["--config", q(params(ex, "train", variant))],
            files.vq_option(ex, variant).split(), "--threads", threads,
        ),
        "train-vq": lambda: _line(
            f"adm train-vq --clips-dir {layout.CLIPS} --split {train} --norm {layout.NORM_STATS}",
            f"--outdir {layout.vq_dir(variant)}",
            ["--config", q(params(ex, "train-vq", variant))], "--threads", threads,
        ),
        "sample": lambda: _line(
            f"adm sample --checkpoint {ema} --clips-dir {layout.CLIPS}", conditions,
            f"--split {test} --seed", seeds, "--outdir",
            [layout.sample_dir(variant, s) for s in seeds], cfg, "--threads", threads,
        ),
        "fit-metric-model": lambda: _line(
            f"adm fit-metric-model --kind {kind} --clips-dir {layout.CLIPS} --split {train}",
            f"--norm {layout.NORM_STATS} --out {layout.metric_model(kind)}",
            ["--config", q(params(ex, "fit-metric-model", kind))], "--threads", threads,
        ),
        "reference": lambda: _line(
            f"adm reference --clips-dir {layout.CLIPS} --split {test} --corpus-root {root}",
            f"--norm {layout.NORM_STATS}", models, f"--out {layout.REFERENCE}",
            cfg, "--threads", threads,
        ),
        "evaluate": lambda: _line(
            "adm evaluate --samples", [layout.sample_dir(variant, s) for s in seeds],
            f"--checkpoint {ema} --variant {variant} --seed", seeds,
            f"--clips-dir {layout.CLIPS} --split {test}",
            f"--corpus-root {root} --norm {layout.NORM_STATS}", models,
            f"--reference {layout.REFERENCE} --out", [layout.metrics(variant, s) for s in seeds],
            cfg, "--threads", threads,
        ),
        "tables": lambda: _table_line(ex, table or 1),
    }  # fmt: skip
    if command not in lines:
        raise ConfigError(f"no pipeline rule runs {command!r} (known: {', '.join(lines)})")
    return lines[command]()


def _table_line(experiment: Experiment, table: int) -> str:
    context = ["--context", shlex.quote(params(experiment, "tables"))]
    out = ["--outdir", layout.TABLES]
    if table == 4:
        return _line(
            "adm tables --table 4 --scalars", files.scalars_files(experiment), context, out
        )
    metrics = [*files.table_metrics_files(experiment, table), layout.BASELINE_METRICS]
    return _line(f"adm tables --table {table} --metrics", metrics, context, out)
