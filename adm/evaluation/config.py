"""Settings of the metric-model fits and of the evaluate stage (strict, frozen dataclasses).

Both arrive as one JSON object on the command line (``--config``) and are built with
:func:`adm.config.from_dict`, so a misspelt key is an error that names it. Defaults are
metrics.md's values; where metrics.md leaves a value to the configuration (window lengths at
30 fps, iterations) the default is stated and explained here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from adm.errors import ConfigError

KINDS = ("motion", "face")

#: Per-kind defaults of :class:`FitConfig` (metrics.md). Window lengths at 30 fps: the FGD
#: window keeps BEAT's 34 frames at 15 fps as the same 2.27 s (68 frames); the face window keeps
#: SAiD's 120 frames at 60 fps as the same 2 s (60 frames).
FIT_DEFAULTS: dict[str, dict[str, Any]] = {
    "motion": {
        "length": 68,
        "stride": 10,
        "batch": 256,
        "lr": 1.2e-4,
        "mlp_negative_slope": 1.0,
        "iterations": 10_000,
    },
    "face": {
        "length": 60,
        "stride": 10,
        "batch": 128,
        "lr": 1e-4,
        "mlp_negative_slope": 0.01,
        "iterations": 10_000,
    },
}


@dataclass(frozen=True)
class FitConfig:
    """Training of one metric model (``adm fit-metric-model``).

    ``None`` takes the kind's default from :data:`FIT_DEFAULTS`.

    Attributes:
        length: window length ``L`` in frames.
        stride: frames between the starts of training windows (metrics.md: 10 for the motion
            autoencoder; SAiD draws random crops, which stride 10 approximates for a
            translation-equivariant conv encoder).
        iterations: optimiser steps; give this or ``epochs`` (when both are unset the kind's
            default number of iterations is used).
        epochs: passes over all training windows instead of ``iterations``.
        batch: windows per step (BEAT 256, SAiD 128).
        lr: Adam (motion, betas 0.5/0.999) or AdamW (face) learning rate.
        mlp_negative_slope: MLP LeakyReLU slope (motion encoder: BEAT's 1.0; face VAE: SAiD's
            0.01, PyTorch's default).
        beta: KL weight of the face beta-VAE (face only; metrics.md: 1).
        seed: seeds the model initialisation and the batch order.
    """

    length: int | None = None
    stride: int | None = None
    iterations: int | None = None
    epochs: int | None = None
    batch: int | None = None
    lr: float | None = None
    mlp_negative_slope: float | None = None
    beta: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.iterations is not None and self.epochs is not None:
            raise ConfigError("metric_model: give iterations or epochs, not both")
        for name in ("length", "stride", "iterations", "epochs", "batch"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"metric_model.{name}: must be >= 1, got {value}")
        if self.batch is not None and self.batch < 2:
            raise ConfigError(f"metric_model.batch: BatchNorm needs >= 2, got {self.batch}")
        if self.lr is not None and self.lr <= 0:
            raise ConfigError(f"metric_model.lr: must be positive, got {self.lr}")
        if self.beta < 0:
            raise ConfigError(f"metric_model.beta: must be >= 0, got {self.beta}")

    def resolved(self, kind: str) -> dict[str, Any]:
        """Every setting for ``kind`` ("motion" or "face"), defaults filled in."""
        if kind not in KINDS:
            raise ConfigError(f"metric model kind must be one of {list(KINDS)}, got {kind!r}")
        defaults = FIT_DEFAULTS[kind]
        out = {
            key: defaults[key] if getattr(self, key) is None else getattr(self, key)
            for key in ("length", "stride", "batch", "lr", "mlp_negative_slope")
        }
        if self.iterations is None and self.epochs is None:
            out["iterations"], out["epochs"] = defaults["iterations"], None
        else:
            out["iterations"], out["epochs"] = self.iterations, self.epochs
        out["seed"] = self.seed
        if kind == "face":
            out["beta"] = self.beta
        return out


@dataclass(frozen=True)
class EvalConfig:
    """Options of ``adm evaluate`` (metrics.md's definitions and defaults).

    Attributes:
        fgd_stride: frames between FGD windows of a test sequence (10).
        face_stride: frames between face-VAE windows (1: every window, as SAiD).
        beat_align_compat: ``"beat"`` reproduces BEAT's code (the field's number, reported as
            ``beat_align``); ``null`` uses the corrected form. The other form is always
            recorded as well (``beat_align_corrected`` / ``beat_align_beat``).
        beat_align_trim_seconds: seconds dropped at the start of each test sequence (BEAT: 10);
            a sequence too short to keep any audio beat is counted as skipped.
        beat_align_sigma: the Gaussian's sigma in seconds (0.3).
        srgr_threshold: degrees of summed |Euler error| below which a joint counts (4).
        srgr_align_branch: compare Euler triples on the ground truth's branch (see
            :mod:`adm.metrics.srgr`); false compares raw numbers as BEAT's code does.
        wind_components, wind_repeats, wind_seed: WInD's mixture size, number of mixture
            seeds and the first seed (5, 10, 0: seeds 0..9, SAiD's protocol).
        wind_method: how each mixture is fitted: ``"em"`` (adm's EM, equal to scikit-learn's
            fit from scikit-learn's own k-means start, about 3x faster) or ``"scikit-learn"``
            (``sklearn.mixture.GaussianMixture`` itself). Both give the same mixtures.
        audio_rate: rate the clip's wav is loaded at (BEAT: 16 kHz).
        data_source: the data source recorded in the metrics file; ``null`` takes the corpus
            root's folder name (``results/data/corpus/<source>``).
    """

    fgd_stride: int = 10
    face_stride: int = 1
    beat_align_compat: Literal["beat"] | None = "beat"
    beat_align_trim_seconds: float = 10.0
    beat_align_sigma: float = 0.3
    srgr_threshold: float = 4.0
    srgr_align_branch: bool = True
    wind_components: int = 5
    wind_repeats: int = 10
    wind_seed: int = 0
    wind_method: Literal["em", "scikit-learn"] = "em"
    audio_rate: int = 16000
    data_source: str | None = None

    def __post_init__(self) -> None:
        for name in ("fgd_stride", "face_stride", "wind_components", "wind_repeats"):
            if getattr(self, name) < 1:
                raise ConfigError(f"evaluate.{name}: must be >= 1, got {getattr(self, name)}")
        if self.audio_rate < 8000:
            raise ConfigError(f"evaluate.audio_rate: must be >= 8000 Hz, got {self.audio_rate}")
        if self.beat_align_trim_seconds < 0:
            raise ConfigError(
                f"evaluate.beat_align_trim_seconds: must be >= 0, got "
                f"{self.beat_align_trim_seconds}"
            )
        if self.wind_method not in ("em", "scikit-learn"):
            raise ConfigError(
                f"evaluate.wind_method: expected 'em' or 'scikit-learn', got {self.wind_method!r}"
            )
        if self.beat_align_sigma <= 0 or self.srgr_threshold <= 0:
            raise ConfigError("evaluate.beat_align_sigma and srgr_threshold must be positive")
