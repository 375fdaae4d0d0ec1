"""What ``snakemake generate`` builds, from the ``generate:`` section of config.yaml.

Every audio file in ``generate.inputs`` (a folder; wav, flac, ogg, mp3, aiff) becomes
``results/generate/<stem>/``. A transcript beside it with the same stem (``<stem>.TextGrid``,
else ``<stem>.txt``) is used. The model is ``results/train/<generate.variant>/ema.safetensors``;
the sampler settings are the ``sample:`` section's (over the scale preset) with
``generate.sample`` on top. Nothing here knows about Snakemake: rules/generate.smk asks.
"""

from __future__ import annotations

from pathlib import Path

from adm.errors import ConfigError
from adm.pipeline import RESULTS, as_json, data_config, section

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
DEFAULTS = {
    "inputs": "generate",
    "variant": "full",
    "speaker": 2,
    "seed": 0,
    "face_fps": 60,
    "sample": {},
}


def generate_config(config: dict) -> dict:
    """The ``generate:`` section with its defaults."""
    own = config.get("generate") or {}
    unknown = sorted(set(own) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"generate: unknown key {unknown[0]!r}")
    merged = {**DEFAULTS, **own}
    variants = config.get("variants") or {}
    if merged["variant"] not in variants:
        raise ConfigError(
            f"generate.variant: no variant named {merged['variant']!r} (known: {sorted(variants)})"
        )
    return merged


def generate_audio(config: dict) -> dict[str, str]:
    """Name -> audio file of every recording in ``generate.inputs`` (none if it is absent)."""
    folder = Path(generate_config(config)["inputs"])
    if not folder.is_dir():
        return {}
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    names: dict[str, str] = {}
    for path in files:
        if path.stem in names:
            raise ConfigError(
                f"generate.inputs: {names[path.stem]} and {path} would both write "
                f"{RESULTS}/generate/{path.stem}"
            )
        names[path.stem] = str(path)
    return names


def generate_transcript(config: dict, name: str) -> list[str]:
    """``[transcript]`` beside recording ``name``, or ``[]``."""
    audio = Path(generate_audio(config)[name])
    for suffix in (".TextGrid", ".txt"):
        if audio.with_suffix(suffix).is_file():
            return [str(audio.with_suffix(suffix))]
    return []


def generate_targets(config: dict) -> list[str]:
    """The output folders of ``snakemake generate``."""
    return [f"{RESULTS}/generate/{name}" for name in generate_audio(config)]


def generate_checkpoint(config: dict) -> str:
    return f"{RESULTS}/train/{generate_config(config)['variant']}/ema.safetensors"


def generate_params(config: dict) -> str:
    """The ``--config`` JSON (sampler settings) of ``python -m adm.generation``."""
    sample = {k: v for k, v in section(config, "sample").items() if k not in ("seeds", "batch")}
    return as_json({**sample, **(generate_config(config)["sample"] or {})})


def generate_option(config: dict, key: str) -> str:
    """``speaker``, ``seed`` or ``face_fps`` of the ``generate:`` section, or ``fps`` (the
    model's motion rate, ``data.prepare.fps``)."""
    if key == "fps":
        return str(data_config(config).prepare.fps)
    return str(generate_config(config)[key])


def generate_transcript_args(config: dict, name: str) -> str:
    """``--transcript <file>`` when recording ``name`` has one beside it, else nothing."""
    found = generate_transcript(config, name)
    return f"--transcript '{found[0]}'" if found else ""
