"""Settings of the data stage (the ``data:`` section of config.yaml), as frozen dataclasses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from adm.errors import ConfigError


@dataclass(frozen=True)
class PrepareConfig:
    """How one clip is turned into a prepared Parquet file (``adm prepare``).

    Attributes:
        fps: output frame rate of every stream (30 as the paper and its peers).
        bvh_fps: the BVH's real frame rate. BEAT is 120 fps; some files declare a wrong
            ``Frame Time`` (beat.md), so the nominal rate is configured, not read from the file.
        face_fps: the face JSON's frame rate (BEAT: 60).
        resample: ``decimate`` keeps every k-th frame as the peers do (exact integer ratio
            required); ``filtered`` low-pass filters before resampling (any ratio).
        whole_seconds: cut the common length down to whole seconds (CaMN, DiffSHEG habit).
        on_bad_clip: ``fail`` stops the pipeline on a malformed clip; ``skip`` writes an empty
            marker file and the split stage lists the clip and reason in ``skipped.tsv``.
        max_length_mismatch_s: streams whose lengths differ by more than this many seconds are
            still cut to the shortest, but the difference is logged as a warning.
    """

    fps: int = 30
    bvh_fps: float = 120.0
    face_fps: float = 60.0
    resample: Literal["decimate", "filtered"] = "decimate"
    whole_seconds: bool = False
    on_bad_clip: Literal["fail", "skip"] = "fail"
    max_length_mismatch_s: float = 2.0

    def __post_init__(self) -> None:
        # Checked when the config is read (Snakemake start-up, or a stage's --config), before
        # any clip is touched: a rate that cannot work would otherwise fail every prepare job.
        if isinstance(self.fps, bool) or not isinstance(self.fps, int) or self.fps < 1:
            raise ConfigError(f"data.prepare.fps: expected an integer >= 1, got {self.fps!r}")
        for key in ("bvh_fps", "face_fps"):
            value = getattr(self, key)
            if not 0 < value < float("inf"):
                raise ConfigError(f"data.prepare.{key}: expected a number > 0, got {value!r}")
        if not self.max_length_mismatch_s >= 0:
            raise ConfigError(
                "data.prepare.max_length_mismatch_s: expected a number >= 0, "
                f"got {self.max_length_mismatch_s!r}"
            )
        if self.resample == "decimate":
            for key in ("bvh_fps", "face_fps"):
                source = getattr(self, key)
                ratio = source / self.fps
                if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-6 * ratio:
                    raise ConfigError(
                        f"data.prepare.fps: {self.fps} does not divide data.prepare.{key} "
                        f"({source:g}), so decimation cannot keep every k-th frame; "
                        f"{self._divisors()}, or set data.prepare.resample: filtered"
                    )

    def _divisors(self) -> str:
        rates = (self.bvh_fps, self.face_fps)
        if not all(float(r).is_integer() for r in rates):
            return "choose a rate that divides both source rates"
        common = math.gcd(*(int(r) for r in rates))
        divisors = [d for d in range(1, common + 1) if common % d == 0]
        return f"rates that divide both {rates[0]:g} and {rates[1]:g}: {divisors}"


@dataclass(frozen=True)
class BeatSourceConfig:
    """Where and how to fetch BEAT v0.2.1 (``adm download``).

    Attributes:
        repo: Hugging Face dataset id.
        revision: pinned commit (full sha, or a prefix of at least 7 hex digits which the
            download checks against the commit the hub resolves ``branch`` to).
        branch: ref resolved when ``revision`` is a prefix.
        subfolder: top folder of the English release inside the dataset.
        kinds: take types to fetch (0 = speech, 1 = conversation).
        speech_takes: number of speech takes per speaker (1..N).
        conversation_takes: number of conversation takes per speaker (1..N).
        missing: clip stems known to be absent from the release (beat.md).
    """

    repo: str = "H-Liu1997/BEAT"
    revision: str = "604f5ec"
    branch: str = "main"
    subfolder: str = "beat_english_v0.2.1"
    kinds: tuple[int, ...] = (0, 1)
    speech_takes: int = 118
    conversation_takes: int = 12
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in ("speech_takes", "conversation_takes"):
            if getattr(self, key) < 1:
                raise ConfigError(f"data.beat.{key}: must be >= 1, got {getattr(self, key)}")


@dataclass(frozen=True)
class DataConfig:
    """The whole ``data:`` section."""

    source: Literal["synth", "beat"] = "synth"
    speakers: tuple[int, ...] = (2, 4, 6, 8)
    prepare: PrepareConfig = field(default_factory=PrepareConfig)
    min_std: float = 1e-4
    synth: dict[str, Any] = field(default_factory=dict)
    beat: BeatSourceConfig = field(default_factory=BeatSourceConfig)
    #: Clips one prepare, audio-feature or text-feature job handles (a speaker's clips only):
    #: each job pays its start-up (libraries, librosa's kernels, WavLM, the word vectors) once.
    clips_per_job: int = 16

    def __post_init__(self) -> None:
        if isinstance(self.clips_per_job, bool) or self.clips_per_job < 1:
            raise ConfigError(
                f"data.clips_per_job: a whole number >= 1 is needed, got {self.clips_per_job!r}"
            )
        if self.source == "synth":
            from adm.data.synth.config import SynthConfig

            # The bundled corpus is written at data.synth's rates and read at data.prepare's:
            # they must agree, or every clip would be read at the wrong speed.
            for synth_key, prepare_key in (("body_fps", "bvh_fps"), ("face_fps", "face_fps")):
                written = self.synth.get(synth_key, getattr(SynthConfig, synth_key))
                read = getattr(self.prepare, prepare_key)
                if isinstance(written, int | float) and abs(written - read) > 1e-9:
                    raise ConfigError(
                        f"data.synth.{synth_key} ({written:g}) differs from "
                        f"data.prepare.{prepare_key} ({read:g}): the corpus would be read at "
                        "the wrong rate; set both to the same value"
                    )
