"""What the Snakemake rules need from the config: file lists and each stage's settings.

The rules stay free of logic: they call these functions (from ``rules/common.smk``) and run the
``python -m adm.<stage>`` commands. Each stage receives only its own section of the config as a
JSON string through ``params:``, so Snakemake reruns exactly the jobs whose settings changed and
keeps everything else, cached features above all.
"""

from __future__ import annotations

import json
from typing import Any

from adm import samplers
from adm.config import from_dict, to_dict
from adm.data.download import REQUIRED_EXTENSIONS, expected_beat_stems
from adm.data.settings import DataConfig
from adm.errors import ConfigError

RESULTS = "results"
DATA = f"{RESULTS}/data"


def as_json(value: Any) -> str:
    """Canonical compact JSON (sorted keys), so that equal settings give equal strings."""
    return json.dumps(to_dict(value), sort_keys=True, separators=(",", ":"))


def data_config(config: dict) -> DataConfig:
    """The validated ``data:`` section."""
    return from_dict(DataConfig, config.get("data", {}), "data")


def synth_config(config: dict):
    """The bundled corpus settings: ``data.synth`` plus the speakers of ``data.speakers``."""
    from adm.data.synth.config import SynthConfig

    data = data_config(config)
    return from_dict(SynthConfig, {**data.synth, "speakers": list(data.speakers)}, "data.synth")


def corpus_root(config: dict) -> str:
    """Folder of the raw BEAT-format corpus: ``results/data/corpus/<source>``."""
    return f"{DATA}/corpus/{data_config(config).source}"


def clip_stems(config: dict) -> list[str]:
    """Every clip of the configured source and speakers, known before anything runs (so that a
    dry run shows the whole data stage)."""
    data = data_config(config)
    if data.source == "synth":
        from adm.data.synth.config import expected_stems

        return expected_stems(synth_config(config))
    return expected_beat_stems(data.beat, list(data.speakers))


def clip_sources(config: dict, stem: str) -> dict[str, str]:
    """The required raw files of one clip (extension -> path)."""
    speaker = stem.split("_", 1)[0]
    return {ext: f"{corpus_root(config)}/{speaker}/{stem}.{ext}" for ext in REQUIRED_EXTENSIONS}


def corpus_files(config: dict, source: str | None = None) -> list[str]:
    """Every required raw file of the corpus (outputs of the corpus rule).

    With ``source`` given, the list is empty unless that is the configured source: the rule
    of the other source then produces only its manifest and is never asked for.
    """
    if source is not None and source != data_config(config).source:
        return []
    return [p for stem in clip_stems(config) for p in clip_sources(config, stem).values()]


def prepared_clips(config: dict) -> list[str]:
    """Prepared Parquet file of every clip."""
    return [f"{DATA}/clips/{stem}.parquet" for stem in clip_stems(config)]


def split_stems(config: dict, split: str) -> list[str]:
    """Clips that CaMN's rule puts in ``split`` (known from the names alone)."""
    from adm.data.clips import camn_split, parse_clip_name

    return [s for s in clip_stems(config) if camn_split(parse_clip_name(s)) == split]


def textgrids(config: dict, stems: list[str] | None = None) -> list[str]:
    """TextGrid files of ``stems`` (default: every clip)."""
    stems = clip_stems(config) if stems is None else stems
    return [clip_sources(config, s)["TextGrid"] for s in stems]


def features_config(config: dict):
    """The validated ``features:`` section: (audio, text, fastText training) settings."""
    from adm.features.config import AudioFeatureConfig, FastTextTrainConfig, TextFeatureConfig

    section = config.get("features", {}) or {}
    unknown = sorted(set(section) - {"audio", "text", "fasttext"})
    if unknown:
        raise ConfigError(f"features: unknown key {unknown[0]!r}")
    return (
        from_dict(AudioFeatureConfig, section.get("audio", {}) or {}, "features.audio"),
        from_dict(TextFeatureConfig, section.get("text", {}) or {}, "features.text"),
        from_dict(FastTextTrainConfig, section.get("fasttext", {}) or {}, "features.fasttext"),
    )


def text_vectors(config: dict) -> str:
    """The vectors file the text features read: trained on the corpus, the filtered ``.vec``
    table, or the configured ``.bin`` model."""
    _, text, _ = features_config(config)
    if text.source == "trained":
        return f"{RESULTS}/features/fasttext/model.bin"
    if text.source == "vec":
        return f"{RESULTS}/features/fasttext/filtered.parquet"
    if not text.path:
        raise ConfigError("features.text.path: a .bin model path is needed for source 'bin'")
    return text.path


def text_vectors_source(config: dict) -> list[str]:
    """The configured ``.vec`` file when the text source is ``vec`` (input of the filter)."""
    _, text, _ = features_config(config)
    if text.source != "vec":
        return []
    if not text.path:
        raise ConfigError("features.text.path: a .vec file path is needed for source 'vec'")
    return [text.path]


def feature_gpus(config: dict) -> int:
    """1 when the audio features run WavLM (then a GPU is used when present), else 0."""
    audio, _, _ = features_config(config)
    return 1 if audio.uses_wavlm else 0


def stage_params(config: dict, stage: str) -> str:
    """JSON settings of one stage, built from the validated config sections."""
    data = data_config(config)
    if stage == "prepare":
        return as_json(data.prepare)
    if stage == "synth":
        return as_json(synth_config(config))
    if stage == "beat":
        return as_json(data.beat)
    if stage in ("audio_features", "text_features", "fasttext"):
        audio, text, fasttext = features_config(config)
        return as_json(
            {"audio_features": audio, "text_features": text, "fasttext": fasttext}[stage]
        )
    if stage == "speakers":
        return " ".join(str(s) for s in data.speakers)
    if stage == "min_std":
        return repr(data.min_std)
    raise KeyError(f"no settings are defined for stage {stage!r}")


# ----------------------------------------------------------------------------- model stages
SCALED_SECTIONS = ("model", "train", "sample", "metric_models")


def _merge(base: dict, override: dict) -> dict:
    """Recursive dict merge; ``override`` wins."""
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def scale_name(config: dict) -> str:
    """The active scale preset (``scale:``)."""
    name = config.get("scale", "bundled")
    if name not in (config.get("scales") or {}):
        raise ConfigError(
            f"scale: {name!r} is not one of scales: {sorted(config.get('scales', {}))}"
        )
    return name


def section(config: dict, name: str) -> dict:
    """A config section over the active scale preset: the preset gives its values, the
    section's own keys win (so a user's setting is never silently replaced)."""
    base = config.get(name) or {}
    if name not in SCALED_SECTIONS:
        return dict(base)
    return _merge((config["scales"][scale_name(config)] or {}).get(name) or {}, base)


def variant_names(config: dict) -> list[str]:
    """The variants to train and evaluate, in config order."""
    return list(config.get("variants") or {})


def train_params(config: dict, variant: str) -> str:
    """The ``--config`` JSON of ``python -m adm.train`` for one variant."""
    variants = config.get("variants") or {}
    if variant not in variants:
        raise ConfigError(f"variants: no variant named {variant!r} (known: {sorted(variants)})")
    return as_json(
        {
            "model": section(config, "model"),
            "diffusion": section(config, "diffusion"),
            "train": section(config, "train"),
            "variant": {"name": variant, **(variants[variant] or {})},
        }
    )


def sample_seeds(config: dict) -> list[int]:
    """Sampling seeds of the active scale."""
    return list(section(config, "sample").get("seeds", [0]))


def sample_params(config: dict) -> str:
    """The ``--config`` JSON of ``python -m adm.sample`` (the seed is given per job)."""
    return as_json({k: v for k, v in section(config, "sample").items() if k != "seeds"})


def fit_params(config: dict, kind: str) -> str:
    """The ``--config`` JSON of ``python -m adm.fit_metric_model --kind <kind>``."""
    return as_json(section(config, "metric_models").get(kind) or {})


def evaluate_params(config: dict) -> str:
    """The ``--config`` JSON of ``python -m adm.evaluate``."""
    return as_json({**section(config, "evaluate"), "data_source": data_config(config).source})


def sampler_label(config: dict) -> str:
    """e.g. ``DDPM-1000``, ``DDIM-50`` or ``DPM++2M-SDE-25``."""
    sample = section(config, "sample")
    chain = section(config, "diffusion").get("steps", 1000)
    return samplers.sampler_label(sample.get("sampler", "ddpm"), sample.get("steps", 50), chain)


def table_context(config: dict) -> str:
    """Footnote facts of every table: data source, scale, feature layout, sampler, seeds."""
    audio, text, _ = features_config(config)
    blocks = [b for b in audio.blocks if b != "wavlm" or audio.uses_wavlm]
    layout = " | ".join(blocks)
    if not audio.uses_wavlm:
        layout += " (without WavLM)"
    layout += f"; text: fastText {text.source}"
    return as_json(
        {
            "data_source": data_config(config).source,
            "scale": scale_name(config),
            "feature_layout": layout,
            "sampler": sampler_label(config),
            "seeds": len(sample_seeds(config)),
        }
    )


def jawopen_clip(config: dict) -> str:
    """The test clip of the JawOpen figure."""
    chosen = (config.get("figures") or {}).get("jawopen_clip")
    return chosen or split_stems(config, "test")[0]


def feature_files(config: dict, kind: str) -> list[str]:
    """Per-clip feature tables of ``kind`` (audio or text)."""
    return [f"{RESULTS}/features/{kind}/{stem}.parquet" for stem in clip_stems(config)]


def metrics_files(config: dict, variants: list[str] | None = None) -> list[str]:
    """Metrics JSON of every (variant, seed)."""
    names = variant_names(config) if variants is None else variants
    return [f"{RESULTS}/metrics/{v}/seed{s}.json" for v in names for s in sample_seeds(config)]


def scalars_files(config: dict) -> list[str]:
    """Training scalars of every variant."""
    return [f"{RESULTS}/train/{v}/scalars.csv" for v in variant_names(config)]


def sample_dirs(config: dict, seed: int | None = None) -> list[str]:
    """Sample folders of every variant for one seed (default: the first)."""
    seed = sample_seeds(config)[0] if seed is None else seed
    return [f"{RESULTS}/samples/{v}/seed{seed}" for v in variant_names(config)]


TABLES = tuple(
    f"{RESULTS}/tables/table{n}.{ext}" for n in (1, 2, 3, 4) for ext in ("csv", "md", "tex")
)
FIGURES = (f"{RESULTS}/figures/jawopen.png", f"{RESULTS}/figures/training_curves.png")


def final_targets(config: dict) -> list[str]:
    """What ``rule all`` builds: the four tables, both figures, and the data-stage records."""
    preview = f"{DATA}/preview_{data_config(config).source}.png"
    baseline = f"{RESULTS}/metrics/baseline/mean_pose.json"
    return [*TABLES, *FIGURES, preview, f"{DATA}/skipped.tsv", baseline]
