"""Evaluation metrics exactly as ``metrics.md`` defines them.

Gestures: FGD (:mod:`.fgd`), diversity and L1 diversity (:mod:`.diversity`), Beat Align
(:mod:`.beat_align`), SRGR (:mod:`.srgr`). Face: FD and WInD (:mod:`.face_distance`).
Feature extractors: BEAT's motion autoencoder (:mod:`.motion_autoencoder`) and SAiD's
blendshape VAE (:mod:`.face_vae`), saved and loaded by :mod:`.checkpoint`.

Every metric is a pure function on arrays whose keyword defaults are metrics.md's values, plus
a small ``update``/``compute`` accumulator where pooling over sequences is needed.
"""

from adm.metrics.beat_align import (
    BeatAlign,
    audio_beats,
    beat_align,
    beat_align_score,
    joint_speed,
    motion_beats,
    onset_frames,
)
from adm.metrics.checkpoint import (
    load_face_vae,
    load_metric_model,
    load_motion_autoencoder,
    save_metric_model,
)
from adm.metrics.diversity import (
    L1Div,
    diversity,
    diversity_from_stats,
    l1div,
    mean_pairwise_distance,
)
from adm.metrics.face_distance import (
    FaceLatents,
    WindResult,
    face_fd,
    fit_mixtures,
    transport,
    wind,
    wind_from_mixtures,
    wind_seeds,
)
from adm.metrics.face_vae import FaceVAE, face_vae_losses, fit_face_vae
from adm.metrics.fgd import FGD, fgd
from adm.metrics.frechet import feature_stats, frechet_distance, frechet_from_stats
from adm.metrics.gmm import DegenerateMixtureError, GaussianMixture, fit_gmm
from adm.metrics.motion_autoencoder import (
    MotionAutoencoder,
    fit_motion_autoencoder,
    motion_autoencoder_loss,
)
from adm.metrics.srgr import SRGR, gen_euler_from_axis_angle, srgr
from adm.metrics.windows import SequenceWindows, num_windows, sliding_windows

__all__ = [
    "FGD",
    "SRGR",
    "BeatAlign",
    "FaceLatents",
    "DegenerateMixtureError",
    "FaceVAE",
    "GaussianMixture",
    "L1Div",
    "MotionAutoencoder",
    "SequenceWindows",
    "WindResult",
    "audio_beats",
    "beat_align",
    "beat_align_score",
    "diversity",
    "diversity_from_stats",
    "face_fd",
    "face_vae_losses",
    "feature_stats",
    "fgd",
    "fit_face_vae",
    "fit_gmm",
    "fit_mixtures",
    "fit_motion_autoencoder",
    "frechet_distance",
    "frechet_from_stats",
    "gen_euler_from_axis_angle",
    "joint_speed",
    "l1div",
    "load_face_vae",
    "load_metric_model",
    "load_motion_autoencoder",
    "mean_pairwise_distance",
    "motion_autoencoder_loss",
    "motion_beats",
    "num_windows",
    "onset_frames",
    "save_metric_model",
    "sliding_windows",
    "srgr",
    "transport",
    "wind",
    "wind_from_mixtures",
    "wind_seeds",
]
