"""Each stage's settings from the whole config: :func:`stage_settings`, the one place where
config.yaml is turned into what a stage's ``--config`` receives.

A stage receives only its own settings (as canonical JSON, :func:`params`), so Snakemake reruns
exactly the jobs whose settings changed and keeps everything else, cached features above all.
The light stages' settings are their frozen dataclasses, built here; the model stages' are the
merged sections (scale preset under the user's keys) that their commands parse into their own
dataclasses (:func:`adm.training.config.parse_run_config`, ``SampleConfig``, ``FitConfig``,
``EvalConfig``), which import torch and so are not built when the graph is.
"""

from __future__ import annotations

import json
from typing import Any

from adm import samplers
from adm.config import from_dict, to_dict
from adm.experiment.config import Experiment

#: CPU threads of the commands whose numbers depend on the thread count (the rules' ``threads``,
#: passed as ``--threads``), and the worker processes of the bundled corpus.
THREADS = {
    "synthesize": 2,
    "train": 1,
    "train-vq": 1,
    "sample": 1,
    "fit-metric-model": 1,
    "reference": 1,
    "evaluate": 1,
}


def as_json(value: Any) -> str:
    """Canonical compact JSON (sorted keys), so that equal settings give equal strings."""
    return json.dumps(to_dict(value), sort_keys=True, separators=(",", ":"))


def train_settings(experiment: Experiment, variant: str) -> dict[str, Any]:
    """The ``--config`` object of ``adm train`` for one variant.

    The top-level ``weighting.lr`` (the uncertainty weights' own learning rate) reaches the
    trainer as ``train.weighting_lr``; unset, the trainer uses ``train.lr`` (the paper).
    ``train.gpus`` is not the trainer's: it decides how the command starts
    (:mod:`adm.experiment.launch`), and the weights do not depend on it.
    """
    sections = experiment.variant(variant)
    train = {k: v for k, v in sections["train"].items() if k != "gpus"}
    weighting_lr = experiment.sections["weighting"].get("lr")
    if weighting_lr is not None:
        train["weighting_lr"] = weighting_lr
    settings = {
        "model": sections["model"],
        "diffusion": sections["diffusion"],
        "train": train,
        "variant": sections["variant"],
    }
    if sections["objective"] is not None:
        settings["objective"] = sections["objective"]
    return settings


def vq_settings(experiment: Experiment, variant: str) -> dict[str, Any]:
    """The ``--config`` of ``adm train-vq`` for a two-stage variant: its ``vq`` section and the
    tasks whose parts it covers (the variant's)."""
    sections = experiment.variant(variant)
    tasks = sections["variant"].get("tasks") or sections["model"].get("tasks")
    return {**({"tasks": list(tasks)} if tasks else {}), **(sections["vq"] or {})}


def sample_settings(experiment: Experiment, variant: str) -> dict[str, Any]:
    """The ``--config`` object of ``adm sample`` for one variant: the base ``sample:`` section
    with the variant's own protocol over it (its sampler, guidance, smoothing), seeds apart."""
    sample = experiment.variant(variant)["sample"]
    return {k: v for k, v in sample.items() if k != "seeds"}


def sampler_label(experiment: Experiment) -> str:
    """e.g. ``DDPM-1000``, ``DDIM-50`` or ``DPM++2M-SDE-25``."""
    sample = experiment.sections["sample"]
    chain = experiment.sections["diffusion"].get("steps", 1000)
    return samplers.sampler_label(sample.get("sampler", "ddpm"), sample.get("steps", 50), chain)


def table_context(experiment: Experiment) -> dict[str, Any]:
    """Footnote facts of every table: data source, scale, feature layout, sampler, seeds."""
    audio = experiment.audio
    blocks = [b for b in audio.blocks if b != "wavlm" or audio.uses_wavlm]
    layout = " | ".join(blocks)
    if not audio.uses_wavlm:
        layout += " (without WavLM)"
    layout += f"; text: fastText {experiment.text.source}"
    methods, method_notes = {}, {}
    for name, variant in experiment.variants.items():
        if "method" not in variant:
            continue  # ADM's own variants: their labels are the paper's
        methods[name] = variant["method"]
        method_notes[variant["method"]] = [
            *variant.get("notes", []),
            f"Sampled with {variant_sampler_label(experiment, name)}.",
            *([DETERMINISTIC_NOTE] if is_regression(experiment, name) else []),
        ]
    return {
        "data_source": experiment.data.source,
        "scale": experiment.scale,
        "feature_layout": layout,
        "sampler": sampler_label(experiment),
        "seeds": len(experiment.sample_seeds()),
        "methods": methods,
        "method_notes": method_notes,
    }


#: The table footnote of a regression peer: its seeds agree, so its ``±`` says nothing about
#: how much the row depends on the training (measured: the bundled CaMN's and MambaTalk's FGD
#: moved by 10-20% between two trainings that differed in the optimiser's rounding only).
DETERMINISTIC_NOTE = (
    "Deterministic: every sampling seed gives the same motion, so its ± is 0; it does not show "
    "how much another training run (another seed, even another rounding) moves the row."
)


def is_regression(experiment: Experiment, variant: str) -> bool:
    """Whether ``variant`` predicts motion directly (no noise, no sampler)."""
    objective = experiment.variant(variant)["objective"]
    return bool(objective) and objective.get("name") in REGRESSION_OBJECTIVES


def variant_sampler_label(experiment: Experiment, variant: str) -> str:
    """How one variant samples, e.g. ``DDIM-25, guidance 3`` or ``one prediction per window``
    for a regression network."""
    if is_regression(experiment, variant):
        return "one prediction per window (regression)"
    sections = experiment.variant(variant)
    sample = sections["sample"]
    chain = sections["diffusion"].get("steps", 1000)
    label = samplers.sampler_label(sample.get("sampler", "ddpm"), sample.get("steps", 50), chain)
    if sample.get("guidance", 1.0) != 1.0:
        label += f", guidance {sample['guidance']:g}"
    return label


#: Objectives of networks that predict motion directly (no sampler), by name: the rules import
#: this module to build the graph, and the objectives' registry would import torch
#: (tests/test_experiment_variants.py checks it against the networks of the default config).
REGRESSION_OBJECTIVES = ("camn", "mambatalk")


def stage_settings(experiment: Experiment) -> dict[str, Any]:
    """Every stage's settings, by command name. ``train`` and ``sample`` map each variant and
    ``fit-metric-model`` each kind (motion, face) to its settings."""
    from adm.data.synth.config import SynthConfig  # the corpus plan, not its generator

    sections = experiment.sections
    evaluate = {**sections["evaluate"], "data_source": experiment.data.source}
    return {
        "synthesize": from_dict(SynthConfig, experiment.synth_settings(), "data.synth"),
        "download": experiment.data.beat,
        "prepare": experiment.data.prepare,
        "norm-stats": {"min_std": experiment.data.min_std},
        "fasttext-train": experiment.fasttext,
        "filter-vectors": experiment.text,
        "audio-features": experiment.audio,
        "text-features": experiment.text,
        "train": {v: train_settings(experiment, v) for v in experiment.variants},
        "train-vq": {
            v: vq_settings(experiment, v)
            for v in experiment.variants
            if "vq" in experiment.variants[v]
        },  # fmt: skip
        "sample": {v: sample_settings(experiment, v) for v in experiment.variants},
        "fit-metric-model": {
            kind: sections["metric_models"].get(kind) or {} for kind in ("motion", "face")
        },
        "reference": evaluate,
        "evaluate": evaluate,
        "tables": table_context(experiment),
    }


def params(experiment: Experiment, stage: str, key: str | None = None) -> str:
    """The canonical JSON that the rule of ``stage`` passes to ``--config`` (``key``: the
    variant of ``train``, ``train-vq`` and ``sample``, the kind of ``fit-metric-model``)."""
    from adm.errors import ConfigError

    settings = _settings(experiment)[stage]
    if key is not None:
        if key not in settings:
            known = ", ".join(sorted(settings))
            raise ConfigError(f"{stage}: no settings for {key!r} (known: {known})")
        settings = settings[key]
    return as_json(settings)


_CACHE: dict[int, tuple[Experiment, dict[str, Any]]] = {}


def _settings(experiment: Experiment) -> dict[str, Any]:
    """:func:`stage_settings` computed once per experiment (the rules ask many times)."""
    cached = _CACHE.get(id(experiment))
    if cached is None or cached[0] is not experiment:
        cached = (experiment, stage_settings(experiment))
        _CACHE[id(experiment)] = cached
    return cached[1]
