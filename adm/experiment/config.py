"""The whole config, checked once: :class:`Experiment`.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks types and ranges key by key
when Snakemake starts; :meth:`Experiment.from_config` then builds the sections the light
dataclasses own (data, features) strictly, merges the scale preset under ``model``, ``train``,
``weighting``, ``sample`` and ``metric_models``, and checks what needs several sections at once
(the settings that depend on the data: speaker count, feature widths, model widths) before any
job runs.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any

from adm.config import from_dict
from adm.data.settings import DataConfig
from adm.errors import ConfigError
from adm.features.config import AudioFeatureConfig, FastTextTrainConfig, TextFeatureConfig

#: Sections a scale preset gives values to; a key the user sets in them wins over the preset.
SCALED_SECTIONS = ("model", "train", "weighting", "sample", "metric_models")
#: The end of a per-batch rule's name (``audio_features_speaker2_0``): its speaker and
#: its index among that speaker's batches. :func:`rule_family` strips it.
_BATCH_SUFFIX = re.compile(r"_speaker\d+_\d+$")


def batch_name(speaker: int, index: int) -> str:
    """The name of the ``index``-th clip batch of ``speaker``."""
    return f"speaker{speaker}_{index}"


def rule_family(rule: str) -> str:
    """The rule a job belongs to, batches merged: ``audio_features_speaker2_0`` ->
    ``audio_features``; other names unchanged."""
    return _BATCH_SUFFIX.sub("", rule)


#: Top-level sections of config.yaml.
SECTIONS = (
    "data",
    "scale",
    "features",
    "model",
    "diffusion",
    "train",
    "weighting",
    "variants",
    "sample",
    "metric_models",
    "evaluate",
    "figures",
    "study",
    "generate",
    "scales",
)


def merge(base: dict, override: dict) -> dict:
    """Recursive dict merge; ``override`` wins."""
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Experiment:
    """The checked config. ``sections`` holds every top-level section with the scale preset
    applied (plain dicts, as the stages' ``--config`` receive them)."""

    data: DataConfig
    audio: AudioFeatureConfig
    text: TextFeatureConfig
    fasttext: FastTextTrainConfig
    scale: str
    sections: dict[str, dict[str, Any]]
    variants: dict[str, dict[str, Any]]
    #: The scale preset's entries per variant (``scales.<scale>.variants``): a peer's sizes.
    variant_presets: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict) -> Experiment:
        """Check ``config`` (the parsed config.yaml) and build the experiment; a
        :class:`ConfigError` names the first bad key."""
        unknown = sorted(set(config) - set(SECTIONS))
        if unknown:
            raise ConfigError(f"config: unknown key {unknown[0]!r}")
        data = from_dict(DataConfig, config.get("data") or {}, "data")
        features = config.get("features") or {}
        unknown = sorted(set(features) - {"audio", "text", "fasttext"})
        if unknown:
            raise ConfigError(f"features: unknown key {unknown[0]!r}")
        scales = config.get("scales") or {}
        scale = config.get("scale", "bundled")
        if scale not in scales:
            raise ConfigError(f"scale: {scale!r} is not one of scales: {sorted(scales)}")
        preset = scales[scale] or {}
        sections = {}
        for name in ("model", "diffusion", "train", "weighting", "sample", "metric_models",
                     "evaluate", "figures", "study", "generate"):  # fmt: skip
            own = dict(config.get(name) or {})
            sections[name] = merge(preset.get(name) or {}, own) if name in SCALED_SECTIONS else own
        variants = {k: dict(v or {}) for k, v in (config.get("variants") or {}).items()}
        if not variants:
            raise ConfigError("variants: at least one variant is needed")
        # A preset's entry for a variant the config does not run is a default left unused
        # (commenting a peer out of variants: needs no edit of the presets).
        presets = preset.get("variants") or {}
        variant_presets = {k: dict(v or {}) for k, v in presets.items() if k in variants}
        experiment = cls(
            data=data,
            audio=from_dict(AudioFeatureConfig, features.get("audio") or {}, "features.audio"),
            text=from_dict(TextFeatureConfig, features.get("text") or {}, "features.text"),
            fasttext=from_dict(
                FastTextTrainConfig, features.get("fasttext") or {}, "features.fasttext"
            ),
            scale=scale,
            sections=sections,
            variants=variants,
            variant_presets=variant_presets,
        )
        experiment.check_model()
        experiment.check_training_processes()
        return experiment

    # --- what the data decides ---------------------------------------------------------------
    @property
    def speakers(self) -> tuple[int, ...]:
        return tuple(self.data.speakers)

    def audio_dim(self) -> int | None:
        """Width of the audio condition, known from the config when WavLM is off (each
        acoustic block's width is a setting); ``None`` when it needs the WavLM model."""
        widths = {"mfcc": self.audio.n_mfcc, "logmel": self.audio.n_mels, "prosody": 4, "onset": 1}
        if self.audio.uses_wavlm:
            return None
        return sum(widths[b] for b in self.audio.blocks if b in widths)

    def text_dim(self) -> int:
        """Width of the text condition: the word vector and the silence flag."""
        return self.text.dim + 1

    def check_model(self) -> None:
        """The model settings of every variant, with what the data decides filled in (speaker
        count, feature widths) and the window from ``train``, checked by the model's own config
        class before any job runs, not after the training corpus has loaded."""
        for name in self.variants:
            settings = self.variant(name)
            if settings["model"].get("name", "adm") == "adm":
                self._check_adm(name, settings)
            # another registered network checks its settings when it is built

    def check_training_processes(self) -> None:
        """Every variant's global batch splits over its ``train.gpus`` processes
        (:func:`adm.experiment.launch.train_gpus`)."""
        from adm.experiment.launch import train_gpus

        for name in self.variants:
            train_gpus(self, name)

    def variant(self, name: str) -> dict[str, Any]:
        """The sections variant ``name`` trains and samples with
        (:func:`adm.experiment.variants.variant_sections`)."""
        from adm.experiment.variants import variant_sections

        return variant_sections(
            name, self.variants[name], self.sections, self.variant_presets.get(name)
        )

    def _check_adm(self, name: str, settings: dict[str, Any]) -> None:
        """An ADM variant's model settings, checked by :class:`ADMConfig`."""
        from adm.models.config import ADMConfig

        model = dict(settings["model"])
        model.pop("name", None)
        train = settings["train"]
        decided = {
            "num_speakers": (len(self.speakers), "data.speakers"),
            "text_dim": (self.text_dim(), "features.text.dim"),
            "audio_dim": (self.audio_dim(), "features.audio"),
            "window": (train.get("window", 150), "train.window"),
            "seed_frames": (train.get("seed_frames", 30), "train.seed_frames"),
        }
        for key, (value, source) in decided.items():
            if value is None:
                continue  # the WavLM width is known once the model is loaded
            if key in model and model[key] != value:
                raise ConfigError(
                    f"model.{key}: the config says {model[key]!r} but {source} gives {value!r}"
                )
            model[key] = value
        tasks = self.variants[name].get("tasks")
        if tasks is not None:
            model["tasks"] = list(tasks)
        where = (
            "model"
            if tasks is None and "model" not in self.variants[name]
            else (f"model (variant {name})")
        )
        from_dict(ADMConfig, model, where)

    # --- clips -------------------------------------------------------------------------------
    @functools.cached_property
    def clip_stems(self) -> tuple[str, ...]:
        """Every clip of the configured source and speakers, known before anything runs (so
        that a dry run shows the whole data stage)."""
        if self.data.source == "synth":
            # adm.data.synth.config plans the corpus; the generator itself is not imported.
            from adm.data.synth.config import expected_stems

            return tuple(expected_stems(self.synth_settings()))
        from adm.data.download import expected_beat_stems

        return tuple(expected_beat_stems(self.data.beat, list(self.speakers)))

    def clip_batches(self) -> dict[str, list[str]]:
        """The clips of each per-clip-stage job (prepare, audio and text features), by batch
        name (``speaker<id>_<k>``).

        A batch never mixes speakers, and each speaker's clips (in name order) are cut into
        ``ceil(n / data.clips_per_job)`` runs of nearly equal length, so the batches of one
        speaker do not change when another speaker's clips do.
        """
        from adm.data.clips import parse_clip_name

        by_speaker: dict[int, list[str]] = {}
        for stem in self.clip_stems:
            by_speaker.setdefault(parse_clip_name(stem).speaker, []).append(stem)
        batches: dict[str, list[str]] = {}
        for speaker, stems in sorted(by_speaker.items()):
            stems = sorted(stems)
            jobs = -(-len(stems) // self.data.clips_per_job)
            for k in range(jobs):
                batches[batch_name(speaker, k)] = stems[
                    k * len(stems) // jobs : (k + 1) * len(stems) // jobs
                ]
        return batches

    def batch_of(self, stem: str) -> str:
        """The name of the batch that holds clip ``stem``."""
        for name, stems in self.clip_batches().items():
            if stem in stems:
                return name
        raise ConfigError(f"clip {stem!r} is not a clip of the configured corpus")

    def synth_settings(self) -> dict[str, Any]:
        """The bundled corpus settings: ``data.synth`` plus the speakers of ``data.speakers``."""
        return {**self.data.synth, "speakers": list(self.speakers)}

    def split_stems(self, split: str) -> list[str]:
        """Clips that CaMN's rule puts in ``split`` (known from the names alone)."""
        from adm.data.clips import camn_split, parse_clip_name

        return [s for s in self.clip_stems if camn_split(parse_clip_name(s)) == split]

    def sample_seeds(self) -> list[int]:
        """Sampling seeds of the active scale."""
        return list(self.sections["sample"].get("seeds", [0]))
