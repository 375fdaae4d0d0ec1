"""What the Snakemake rules need from the config: file lists and each stage's settings.

The rules stay free of logic: they call these functions (from ``rules/common.smk``) and run the
``python -m adm.<stage>`` commands. Each stage receives only its own section of the config as a
JSON string through ``params:``, so Snakemake reruns exactly the jobs whose settings changed and
keeps everything else, cached features above all.
"""

from __future__ import annotations

import json
from typing import Any

from adm.config import from_dict, to_dict
from adm.data.download import REQUIRED_EXTENSIONS, expected_beat_stems
from adm.data.settings import DataConfig

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


def stage_params(config: dict, stage: str) -> str:
    """JSON settings of one stage, built from the validated config sections."""
    data = data_config(config)
    if stage == "prepare":
        return as_json(data.prepare)
    if stage == "synth":
        return as_json(synth_config(config))
    if stage == "beat":
        return as_json(data.beat)
    if stage == "speakers":
        return " ".join(str(s) for s in data.speakers)
    if stage == "min_std":
        return repr(data.min_std)
    raise KeyError(f"no settings are defined for stage {stage!r}")
