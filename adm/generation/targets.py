"""What ``snakemake generate`` builds, from the ``generate:`` section of config.yaml.

Every audio file in ``generate.inputs`` (a folder; wav, flac, ogg, mp3, aiff) becomes
``results/generate/<stem>/``. A transcript beside it with the same stem (``<stem>.TextGrid``,
else ``<stem>.txt``) is used. The model is ``results/train/<generate.variant>/ema.safetensors``;
the sampler settings are the ``sample:`` section's (over the scale preset) with
``generate.sample`` on top. Nothing here knows about Snakemake: rules/generate.smk asks.
"""

from __future__ import annotations

from pathlib import Path

from adm import layout
from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.experiment.stages import as_json

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
DEFAULTS = {
    "inputs": "generate",
    "variant": "full",
    "speaker": 2,
    "seed": 0,
    "face_fps": 60,
    "sample": {},
}


def generate_config(experiment: Experiment) -> dict:
    """The ``generate:`` section with its defaults."""
    own = experiment.sections["generate"]
    unknown = sorted(set(own) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"generate: unknown key {unknown[0]!r}")
    merged = {**DEFAULTS, **own}
    variants = experiment.variants
    if merged["variant"] not in variants:
        raise ConfigError(
            f"generate.variant: no variant named {merged['variant']!r} (known: {sorted(variants)})"
        )
    return merged


def generate_audio(experiment: Experiment) -> dict[str, str]:
    """Name -> audio file of every recording in ``generate.inputs`` (none if it is absent)."""
    folder = Path(generate_config(experiment)["inputs"])
    if not folder.is_dir():
        return {}
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    names: dict[str, str] = {}
    for path in files:
        if path.stem in names:
            raise ConfigError(
                f"generate.inputs: {names[path.stem]} and {path} would both write "
                f"{layout.generate_dir(path.stem)}"
            )
        names[path.stem] = str(path)
    return names


def generate_transcript(experiment: Experiment, name: str) -> list[str]:
    """``[transcript]`` beside recording ``name``, or ``[]``."""
    audio = Path(generate_audio(experiment)[name])
    for suffix in (".TextGrid", ".txt"):
        if audio.with_suffix(suffix).is_file():
            return [str(audio.with_suffix(suffix))]
    return []


def generate_targets(experiment: Experiment) -> list[str]:
    """The output folders of ``snakemake generate``."""
    return [layout.generate_dir(name) for name in generate_audio(experiment)]


def generate_checkpoint(experiment: Experiment) -> str:
    return layout.train_file(generate_config(experiment)["variant"], "ema.safetensors")


def generate_params(experiment: Experiment) -> str:
    """The ``--config`` JSON (sampler settings) of ``adm generate``."""
    variant = experiment.variant(generate_config(experiment)["variant"])
    sample = {k: v for k, v in variant["sample"].items() if k not in ("seeds", "batch")}
    return as_json({**sample, **(generate_config(experiment)["sample"] or {})})


def generate_option(experiment: Experiment, key: str) -> str:
    """``speaker``, ``seed`` or ``face_fps`` of the ``generate:`` section, or ``fps`` (the
    model's motion rate, ``data.prepare.fps``)."""
    if key == "fps":
        return str(experiment.data.prepare.fps)
    return str(generate_config(experiment)[key])


def generate_transcript_args(experiment: Experiment, name: str) -> str:
    """``--transcript <file>`` when recording ``name`` has one beside it, else nothing."""
    found = generate_transcript(experiment, name)
    return f"--transcript '{found[0]}'" if found else ""
