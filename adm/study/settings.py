"""What the ``study`` rule needs from the config: the checked ``study:`` section, the sampling
seed of the clips shown, and the sample folders and wavs it reads."""

from __future__ import annotations

import json

from adm.config import from_dict, to_dict
from adm.errors import ConfigError
from adm.pipeline import RESULTS, clip_sources, sample_seeds, split_stems, variant_names
from adm.study.materials import StudyConfig


def study_config(config: dict) -> StudyConfig:
    """The ``study:`` section, checked against the variants that are sampled.

    Raises:
        ConfigError: no ``study:`` section, an unknown key, or a method naming a variant that
            is not in ``variants:``.
    """
    if not config.get("study"):
        raise ConfigError("study: the section is missing (see config.yaml)")
    cfg = from_dict(StudyConfig, config["study"], "study")
    known = variant_names(config)
    for name, source in cfg.methods.items():
        for task in ("gesture", "face"):
            variant = getattr(source, task)
            if variant not in known:
                raise ConfigError(
                    f"study.methods.{name}.{task}: {variant!r} is not a variant (variants: {known})"
                )
    return cfg


def study_sample_seed(config: dict) -> int:
    """The sampling seed of the clips shown: ``study.sample_seed``, else the first seed."""
    seeds = sample_seeds(config)
    chosen = study_config(config).sample_seed
    if chosen is None:
        return seeds[0]
    if chosen not in seeds:
        raise ConfigError(f"study.sample_seed: {chosen} is not a sampling seed ({seeds})")
    return chosen


def study_params(config: dict) -> str:
    """The ``--config`` JSON of ``python -m adm.study materials``. Keys keep the config's
    order: the methods' order is the order of the analysis's columns."""
    return json.dumps(to_dict(study_config(config)), separators=(",", ":"))


def study_sample_dirs(config: dict) -> list[str]:
    """The sample folders of every variant the study's methods use."""
    seed = study_sample_seed(config)
    return [f"{RESULTS}/samples/{v}/seed{seed}" for v in study_config(config).variants()]


def study_wavs(config: dict) -> list[str]:
    """The speech of every test clip."""
    return [clip_sources(config, stem)["wav"] for stem in split_stems(config, "test")]
