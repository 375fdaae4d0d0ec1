"""The ground-truth side of every metric, computed once per test set.

Every metric compares a generated test set with the same ground truth through the same metric
models, so its ground-truth half is a property of (test clips, audio, normalisation, metric
models, settings) and not of the method: the FGD features' mean and covariance (FGD) and
per-dim std (diversity's z-normalisation), the audio beats of each clip in both Beat Align
forms, the ground truth's own diversity, L1Div (both forms), Beat Align (both forms) and SRGR
(the tables' ground-truth row), the face latents' mean and
covariance (FD) and WInD's ten ground-truth mixtures. :class:`ReferenceBuilder` computes them
from the clips; :class:`MetricReference` saves them to one ``.npz`` (like the reference
statistics of FID) that every evaluation of that test set loads instead of recomputing them,
which is most of the evaluation's cost (half of WInD's mixture fits).

A reference records what it was computed from: the test clips in order with a digest of each
clip file and wav, digests of the metric models and normalisation file, and the settings that
shape it (:data:`REFERENCE_KEYS`). :meth:`MetricReference.check` compares them with an
evaluation's inputs and names the first difference, so a stale reference is an error, never a
silently wrong number. Evaluating without a reference builds one in memory first: both ways
run the same code and give the same numbers (tested).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adm.data.normalization import NormStats, load_norm_stats
from adm.errors import BadInputError
from adm.evaluation.config import EvalConfig
from adm.evaluation.inputs import TestClip, clip_wav_path, load_clip_audio, read_test_clip
from adm.evaluation.motion_scores import BEAT_FORMS, MotionScores
from adm.io.atomic import write_bytes_atomic
from adm.logs import progress
from adm.metrics.beat_align import audio_beats
from adm.metrics.checkpoint import load_face_vae, load_motion_autoencoder
from adm.metrics.diversity import diversity_from_stats
from adm.metrics.face_distance import fit_mixtures
from adm.metrics.face_vae import FaceVAE
from adm.metrics.frechet import feature_stats
from adm.metrics.gmm import GaussianMixture
from adm.metrics.motion_autoencoder import MotionAutoencoder

FORMAT = "adm-metric-reference/2"
#: Settings that change a reference; an evaluation must use the same values.
REFERENCE_KEYS = (
    "fgd_stride",
    "face_stride",
    "beat_align_trim_seconds",
    "beat_align_sigma",
    "srgr_threshold",
    "srgr_align_branch",
    "audio_rate",
    "wind_components",
    "wind_repeats",
    "wind_seed",
    "wind_method",
)


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class GestureReference:
    """Ground-truth gesture statistics: FGD feature ``mean [F]``, ``cov [F, F]``, ``std [F]``
    (population, for diversity), the audio beat times of each clip (``beats[form][stem] ->
    [K]`` seconds), and the ground truth's own scores: ``diversity`` and the motion-only
    metrics (``motion``: :meth:`~adm.evaluation.motion_scores.MotionScores.canonical`)."""

    mean: np.ndarray
    cov: np.ndarray
    std: np.ndarray
    windows: int
    diversity: float
    motion: dict[str, float | None]
    beats: dict[str, dict[str, np.ndarray]]


@dataclass
class FaceReference:
    """Ground-truth face statistics: latent ``mean [Z]`` and ``cov [Z, Z]`` (FD) and WInD's
    mixtures (one per mixture seed, each carrying its seed)."""

    mean: np.ndarray
    cov: np.ndarray
    windows: int
    mixtures: list[GaussianMixture]


@dataclass
class MetricReference:
    """The ground-truth half of every metric for one test set (see the module docstring)."""

    clips: tuple[str, ...]
    gesture: GestureReference | None
    face: FaceReference | None
    provenance: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        """Write one ``.npz`` atomically (no pickle: arrays plus a JSON header)."""
        arrays: dict[str, np.ndarray] = {}
        header: dict[str, Any] = {
            "format": FORMAT,
            "clips": list(self.clips),
            "provenance": self.provenance,
        }
        if self.gesture is not None:
            g = self.gesture
            arrays.update(gesture_mean=g.mean, gesture_cov=g.cov, gesture_std=g.std)
            header["gesture"] = {"windows": g.windows, "diversity": g.diversity, "motion": g.motion}
            for form in BEAT_FORMS:
                times = [g.beats[form][stem] for stem in self.clips]
                arrays[f"beats_{form}"] = np.concatenate(times) if times else np.zeros(0)
                arrays[f"beats_{form}_count"] = np.array([len(t) for t in times], np.int64)
        if self.face is not None:
            f = self.face
            arrays.update(face_mean=f.mean, face_cov=f.cov)
            arrays["mix_weights"] = np.stack([m.weights for m in f.mixtures])
            arrays["mix_means"] = np.stack([m.means for m in f.mixtures])
            arrays["mix_covs"] = np.stack([m.covariances for m in f.mixtures])
            header["face"] = {
                "windows": f.windows,
                "mixtures": [
                    {
                        "seed": m.seed,
                        "lower_bound": m.lower_bound,
                        "iterations": m.iterations,
                        "converged": m.converged,
                    }
                    for m in f.mixtures
                ],
            }
        arrays["header"] = np.array(json.dumps(header))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_bytes_atomic(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> MetricReference:
        """Read a reference written by :meth:`save`.

        Raises:
            BadInputError: missing, unreadable, or not an ``adm-metric-reference/1`` file.
        """
        path = Path(path)
        if not path.is_file():
            raise BadInputError(path, "metric reference not found (adm reference)")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            header = json.loads(str(arrays.pop("header")))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
            raise BadInputError(path, f"not a readable metric reference ({err})") from None
        if header.get("format") != FORMAT:
            raise BadInputError(path, f"format {header.get('format')!r}, expected {FORMAT!r}")
        clips = tuple(header["clips"])
        gesture = face = None
        if "gesture" in header:
            beats = {}
            for form in BEAT_FORMS:
                counts = arrays[f"beats_{form}_count"]
                parts = np.split(arrays[f"beats_{form}"], np.cumsum(counts)[:-1])
                beats[form] = dict(zip(clips, parts, strict=True))
            gesture = GestureReference(
                arrays["gesture_mean"],
                arrays["gesture_cov"],
                arrays["gesture_std"],
                int(header["gesture"]["windows"]),
                float(header["gesture"]["diversity"]),
                dict(header["gesture"]["motion"]),
                beats,
            )
        if "face" in header:
            mixtures = [
                GaussianMixture(
                    w,
                    m,
                    c,
                    info["lower_bound"],
                    info["iterations"],
                    info["converged"],
                    info["seed"],
                )
                for w, m, c, info in zip(
                    arrays["mix_weights"],
                    arrays["mix_means"],
                    arrays["mix_covs"],
                    header["face"]["mixtures"],
                    strict=True,
                )
            ]
            face = FaceReference(
                arrays["face_mean"], arrays["face_cov"], int(header["face"]["windows"]), mixtures
            )
        return cls(clips, gesture, face, header.get("provenance", {}))

    def check(self, path: str | Path, expected: dict[str, Any], tasks: Iterable[str]) -> None:
        """Raise :class:`BadInputError` naming ``path`` and the first difference between this
        reference's provenance and ``expected`` (from :func:`reference_provenance`), or when
        it lacks a task in ``tasks``."""
        for task in tasks:
            if getattr(self, task, None) is None:
                raise BadInputError(path, f"holds no {task} statistics (built without its model)")
        mine = self.provenance
        for key in ("clips", "settings", "norm", "motion_ae", "face_vae"):
            want, have = expected.get(key), mine.get(key)
            if want is None or have is None:
                continue  # a model the evaluation does not use
            if key == "clips":
                want_order = [c["stem"] for c in want]
                have_order = [c["stem"] for c in have]
                if want_order != have_order:
                    raise BadInputError(
                        path,
                        f"was built for test clips {have_order}, the evaluation has {want_order}",
                    )
                for w, h in zip(want, have, strict=True):
                    if w["clip_sha256"] != h["clip_sha256"]:
                        raise BadInputError(
                            path, f"test clip {w['stem']} changed since the reference was built"
                        )
                    # The wav matters only to gesture evaluations (face-only ones read none).
                    if w["wav_sha256"] is not None and w["wav_sha256"] != h["wav_sha256"]:
                        raise BadInputError(
                            path,
                            f"the audio of test clip {w['stem']} changed since the reference "
                            "was built",
                        )
            elif key == "settings":
                for name in REFERENCE_KEYS:
                    if want.get(name) != have.get(name):
                        raise BadInputError(
                            path,
                            f"was built with evaluate.{name} = {have.get(name)!r}, the "
                            f"evaluation uses {want.get(name)!r}",
                        )
            elif want.get("sha256") != have.get("sha256"):
                # By content: the same file in a copied or moved results folder is the same input.
                raise BadInputError(path, f"was built from another {key} file ({have['path']})")


def reference_provenance(
    clips: Iterable[tuple[str, Path, Path | None]],
    cfg: EvalConfig,
    norm: Path,
    motion_ae: Path | None,
    face_vae: Path | None,
) -> dict[str, Any]:
    """What a reference depends on: for each ``(stem, clip file, wav or None)`` the digests of
    the prepared clip and of its wav, the digests of the other files, and the settings."""

    def digest(path: Path | None) -> dict[str, str] | None:
        return None if path is None else {"path": str(path), "sha256": file_digest(path)}

    return {
        "clips": [
            {
                "stem": stem,
                "clip_sha256": file_digest(path),
                "wav_sha256": None if wav is None else file_digest(wav),
            }
            for stem, path, wav in clips
        ],
        "settings": {name: getattr(cfg, name) for name in REFERENCE_KEYS},
        "norm": digest(norm),
        "motion_ae": digest(motion_ae),
        "face_vae": digest(face_vae),
    }


def build_reference(
    clips_dir: Path,
    stems: list[str],
    corpus_root: Path,
    norm_path: Path,
    cfg: EvalConfig,
    motion_ae: Path | None,
    face_vae: Path | None,
    device: torch.device | str = "cpu",
    *,
    record: bool = True,
) -> MetricReference:
    """The reference of the test clips ``stems`` from the files (see the module docstring).

    ``record`` computes the provenance digests (needed for a reference saved to disk).

    Raises:
        BadInputError: a missing or malformed clip, wav or model file, or a test set too short
            for a metric's windows (the message names the split's clips folder).
    """
    norm = load_norm_stats(norm_path)
    motion = load_motion_autoencoder(motion_ae, device) if motion_ae is not None else None
    face = load_face_vae(face_vae, device) if face_vae is not None else None
    builder = ReferenceBuilder(motion, face, norm, cfg)
    sources: list[tuple[str, Path, Path | None]] = []
    for stem in progress(stems, "reference", total=len(stems)):
        clip = read_test_clip(clips_dir, stem)
        wav = clip_wav_path(corpus_root, clip) if motion is not None else None
        audio = load_clip_audio(corpus_root, clip, cfg.audio_rate) if wav is not None else None
        builder.update(clip, audio)
        sources.append((stem, clip.path, wav))
    provenance = (
        reference_provenance(sources, cfg, norm_path, motion_ae, face_vae) if record else {}
    )
    try:
        return builder.finish(provenance)
    except ValueError as err:
        raise BadInputError(clips_dir, str(err)) from None


class ReferenceBuilder:
    """``update(clip, audio)`` per ground-truth test clip, then ``finish()``.

    Either model may be ``None`` (no statistics for that task; audio is then not needed for a
    missing motion model).
    """

    def __init__(
        self,
        motion_ae: MotionAutoencoder | None,
        face_vae: FaceVAE | None,
        norm: NormStats,
        cfg: EvalConfig,
    ):
        self.motion_ae, self.face_vae, self.norm, self.cfg = motion_ae, face_vae, norm, cfg
        self.stems: list[str] = []
        self._fgd: list[np.ndarray] = []
        self._face: list[np.ndarray] = []
        self._beats: dict[str, dict[str, np.ndarray]] = {form: {} for form in BEAT_FORMS}
        self._motion = MotionScores(cfg, self._beats)

    def update(self, clip: TestClip, audio: np.ndarray | None) -> None:
        """Add one ground-truth clip; ``audio [N]`` at ``cfg.audio_rate`` (gestures only)."""
        self.stems.append(clip.stem)
        if self.motion_ae is not None:
            if audio is None:
                raise ValueError(f"{clip.stem}: Beat Align's reference needs the clip's audio")
            x = self.norm.normalize("gesture", clip.gesture)
            self._fgd.append(encode(self.motion_ae, x, self.cfg.fgd_stride))
            for form in BEAT_FORMS:
                self._beats[form][clip.stem] = audio_beats(
                    audio,
                    self.cfg.audio_rate,
                    compat="beat" if form == "beat" else None,
                    trim_seconds=self.cfg.beat_align_trim_seconds,
                )
            # The ground truth scored as a sample: its Euler angles are its own branch.
            self._motion.update(clip, clip.gesture, clip.gesture_euler)
        if self.face_vae is not None:
            self._face.append(encode(self.face_vae, clip.face, self.cfg.face_stride))

    def finish(self, provenance: dict[str, Any] | None = None) -> MetricReference:
        """The reference of every clip seen.

        Raises:
            ValueError: fewer than 2 FGD windows, or fewer face windows than WInD's mixture
                has components (or 2).
        """
        gesture = face = None
        if self.motion_ae is not None:
            feats = _pooled(self._fgd, 300)
            if len(feats) < 2:
                raise ValueError(
                    f"the test clips give {len(feats)} FGD window(s) of "
                    f"{self.motion_ae.length} frames; FGD and diversity need at least 2"
                )
            mean, cov = feature_stats(feats, name="ground-truth FGD features")
            std = feats.std(axis=0)
            gesture = GestureReference(
                mean,
                cov,
                std,
                len(feats),
                diversity_from_stats(feats, feats.mean(axis=0), std),
                self._motion.canonical(),
                self._beats,
            )
        if self.face_vae is not None:
            latents = _pooled(self._face, 64)
            need = max(2, self.cfg.wind_components)
            if len(latents) < need:
                raise ValueError(
                    f"the test clips give {len(latents)} face window(s) of "
                    f"{self.face_vae.length} frames; FD and WInD need at least {need}"
                )
            mean, cov = feature_stats(latents, name="ground-truth face latents")
            mixtures = fit_mixtures(
                latents,
                components=self.cfg.wind_components,
                repeats=self.cfg.wind_repeats,
                seed=self.cfg.wind_seed,
                method=self.cfg.wind_method,
            )
            face = FaceReference(mean, cov, len(latents), mixtures)
        return MetricReference(tuple(self.stems), gesture, face, provenance or {})


def encode(model: MotionAutoencoder | FaceVAE, x: np.ndarray, stride: int) -> np.ndarray:
    """Latent means ``[N, Z]`` (float64) of the windows of ``x [T, D]`` at ``stride``."""
    return model.encode_sequence(x, stride).cpu().numpy().astype(np.float64)


def _pooled(parts: list[np.ndarray], width: int) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros((0, width))
