"""What the ``study`` rule needs from the config: the checked ``study:`` section, the sampling
seed of the clips shown, and the sample folders and wavs it reads."""

from __future__ import annotations

import json

from adm import layout
from adm.config import from_dict, to_dict
from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.experiment.files import clip_sources
from adm.study.materials import StudyConfig


def study_config(experiment: Experiment) -> StudyConfig:
    """The ``study:`` section, checked against the variants that are sampled.

    Raises:
        ConfigError: no ``study:`` section, an unknown key, or a method naming a variant that
            is not in ``variants:``.
    """
    if not experiment.sections["study"]:
        raise ConfigError("study: the section is missing (see config.yaml)")
    cfg = from_dict(StudyConfig, experiment.sections["study"], "study")
    known = list(experiment.variants)
    for name, source in cfg.methods.items():
        for task in ("gesture", "face"):
            variant = getattr(source, task)
            if variant not in known:
                raise ConfigError(
                    f"study.methods.{name}.{task}: {variant!r} is not a variant (variants: {known})"
                )
    return cfg


def study_sample_seed(experiment: Experiment) -> int:
    """The sampling seed of the clips shown: ``study.sample_seed``, else the first seed."""
    seeds = experiment.sample_seeds()
    chosen = study_config(experiment).sample_seed
    if chosen is None:
        return seeds[0]
    if chosen not in seeds:
        raise ConfigError(f"study.sample_seed: {chosen} is not a sampling seed ({seeds})")
    return chosen


def study_params(experiment: Experiment) -> str:
    """The ``--config`` JSON of ``adm study materials``. Keys keep the config's order: the
    methods' order is the order of the analysis's columns."""
    return json.dumps(to_dict(study_config(experiment)), separators=(",", ":"))


def study_sample_dirs(experiment: Experiment) -> list[str]:
    """The sample folders of every variant the study's methods use."""
    seed = study_sample_seed(experiment)
    return [layout.sample_dir(v, seed) for v in study_config(experiment).variants()]


def study_wavs(experiment: Experiment) -> list[str]:
    """The speech of every test clip."""
    return [clip_sources(experiment, stem)["wav"] for stem in experiment.split_stems("test")]
