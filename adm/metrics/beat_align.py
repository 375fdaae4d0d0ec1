"""Beat Align (BEAT/CaMN; after AIST++/FACT's beat alignment score).

    score = mean over audio beats b of exp(-min_m |m - b|^2 / (2 sigma^2)),  sigma = 0.3 s

with ``m`` over motion beats and all times in seconds (BEAT's direction; AIST++ takes the mean
over motion beats instead: ``direction="motion"``). metrics.md's definition:

- Audio beats: librosa onset strength (hop 512) -> ``onset_detect`` -> backtrack each onset to
  the preceding RMS minimum -> frames to seconds with the audio's real sample rate.
- Motion beats: local minima (``scipy.signal.argrelextrema(speed, np.less, order=2)``) of the
  joint speed, i.e. the L2 norm of the frame-to-frame difference of each selected joint's
  triple (rotation or position), averaged over the joints (default both wrists, by name).
  Speed sample ``i`` is ``|x[i+1] - x[i]|`` and its time is ``i / fps``, as in BEAT and EMAGE.

``compat="beat"`` reproduces BEAT's evaluation code exactly:

- onset frames go to seconds with librosa's default 22050 Hz although the audio is 16 kHz
  (every audio beat time is scaled by 16000/22050), and ``onset_detect`` runs its peak picker
  with the default 22050 Hz window sizes;
- the motion speed comes from BEAT's column slice: it takes columns ``30:39`` of the 141-d
  gesture vector and uses the third triple, columns ``36:39``, as "right wrist". Those were the
  right arm's shoulder/arm/forearm in a BVH line (Hips' 6 channels + 8 joints before
  RightShoulder), but in the 47-joint gesture layout (beat.md: Spine, Neck, Neck1, then
  RightShoulder, RightArm, RightForeArm, RightHand, RightHandMiddle1-3, RightHandRing, ...)
  columns 36:39 are joint 12, ``RightHandRing2``: BEAT's Beat Align follows a ring finger.
  Only that one joint is used (BEAT computes left-side beats but never scores them). The
  columns are read from whatever representation is passed (BEAT passed Euler degrees).

Per test sequence BEAT trims the first 10 s (``trim_seconds``); the reported number is the
mean over sequences (:class:`BeatAlign`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from scipy.signal import argrelextrema

from adm.jit import load_librosa
from adm.metrics.finite import require_finite
from adm.skeleton import GESTURE_JOINTS, WRIST_JOINTS

Compat = Literal["beat"] | None
HOP = 512
#: librosa's default sample rate, which BEAT's code uses to convert onset frames to seconds.
LIBROSA_DEFAULT_SR = 22050
#: The columns of the 141-d gesture vector BEAT's Beat Align reads (see module docstring).
BEAT_COLUMNS = slice(36, 39)


def _check_compat(compat: Compat) -> None:
    if compat not in (None, "beat"):
        raise ValueError(f"compat must be None or 'beat', got {compat!r}")


def onset_frames(
    audio: np.ndarray, sr: int, *, compat: Compat = None, backtrack: bool = True
) -> np.ndarray:
    """Onset frames (hop 512) of ``audio [N]``, backtracked to the preceding RMS minimum.

    The RMS is taken over librosa's centred 2048-sample frames, so it starts to rise two hops
    before a click and a backtracked onset sits up to three hops before the sound (by design:
    the beat is where the energy starts to grow). With the real 16 kHz rate the peak picker's
    30 ms windows round to zero hops, so neighbouring frames of one onset can both fire; they
    backtrack to the same minimum and are one beat (kept once). ``compat="beat"`` keeps
    BEAT's behaviour, duplicates included. ``backtrack=False`` gives the raw onset frames.

    A pure function of its inputs, so the evaluate stage may compute it once per test take
    and reuse it for every method (the audio is the same); see :class:`BeatAlign`.
    """
    _check_compat(compat)
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"audio must be mono [N], got shape {y.shape}")
    if len(y) < HOP:
        return np.zeros(0, dtype=np.int64)
    librosa = load_librosa()
    oenv = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP)
    peak_sr = LIBROSA_DEFAULT_SR if compat == "beat" else sr
    raw = librosa.onset.onset_detect(
        onset_envelope=oenv, sr=peak_sr, hop_length=HOP, backtrack=False
    )
    if not backtrack or len(raw) == 0:  # librosa refuses to backtrack an empty list
        return np.asarray(raw, dtype=np.int64)
    rms = librosa.feature.rms(S=np.abs(librosa.stft(y=y, hop_length=HOP)), hop_length=HOP)[0]
    frames = np.asarray(librosa.onset.onset_backtrack(raw, rms), dtype=np.int64)
    return frames if compat == "beat" else np.unique(frames)


def audio_beats(
    audio: np.ndarray, sr: int, *, compat: Compat = None, trim_seconds: float = 0.0
) -> np.ndarray:
    """Audio beat times in seconds ``[K]`` (from the start of the trimmed audio)."""
    start = int(round(trim_seconds * sr))
    frames = onset_frames(np.asarray(audio)[start:], sr, compat=compat)
    to_sr = LIBROSA_DEFAULT_SR if compat == "beat" else sr
    return load_librosa().frames_to_time(frames, sr=to_sr, hop_length=HOP).astype(np.float64)


def _resolve_joints(
    joints: Sequence[str | int], joint_names: Sequence[str] | None, num_joints: int
) -> list[int]:
    names = list(GESTURE_JOINTS if joint_names is None else joint_names)
    if any(isinstance(j, str) for j in joints) and len(names) != num_joints:
        raise ValueError(
            f"{len(names)} joint names for motion with {num_joints} joints; pass joint_names"
        )
    out = []
    for j in joints:
        if isinstance(j, str):
            if j not in names:
                raise ValueError(f"joint {j!r} not among the motion's joints {names}")
            out.append(names.index(j))
        else:
            out.append(int(j))
    if any(not 0 <= j < num_joints for j in out):
        raise ValueError(f"joint indices {out} out of range for {num_joints} joints")
    return out


def joint_speed(
    motion: np.ndarray,
    *,
    joints: Sequence[str | int] = WRIST_JOINTS,
    joint_names: Sequence[str] | None = None,
    compat: Compat = None,
) -> np.ndarray:
    """Speed ``[T - 1]``: ``|x[i+1] - x[i]|`` per joint triple, averaged over ``joints``.

    Args:
        motion: ``[T, J*3]`` or ``[T, J, 3]`` rotations (or positions) of ``J`` joints.
        joints: names, looked up in ``joint_names`` (default: the 47 gesture joints,
            :data:`adm.skeleton.GESTURE_JOINTS`), or joint indices.
        compat: ``"beat"`` ignores ``joints`` and uses columns 36:39 of the flat motion.
    """
    _check_compat(compat)
    x = np.asarray(motion, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] % 3 == 0:
        x = x.reshape(len(x), -1, 3)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"motion must be [T, J*3] or [T, J, 3], got shape {np.shape(motion)}")
    if compat == "beat":
        flat = x.reshape(len(x), -1)
        if flat.shape[1] < BEAT_COLUMNS.stop:
            raise ValueError(f"compat='beat' reads columns 36:39; motion has {flat.shape[1]}")
        sel = flat[:, BEAT_COLUMNS][:, None, :]
    else:
        sel = x[:, _resolve_joints(joints, joint_names, x.shape[1])]
    return np.linalg.norm(np.diff(sel, axis=0), axis=-1).mean(axis=1)


def motion_beats(
    motion: np.ndarray,
    fps: float,
    *,
    joints: Sequence[str | int] = WRIST_JOINTS,
    joint_names: Sequence[str] | None = None,
    order: int = 2,
    compat: Compat = None,
    trim_seconds: float = 0.0,
) -> np.ndarray:
    """Motion beat times in seconds ``[K]``: local minima of the joint speed.

    ``motion`` is ``[T, J*3]`` / ``[T, J, 3]`` (see :func:`joint_speed`) or a precomputed
    speed curve ``[T']``. The first ``trim_seconds`` are dropped, times count from there.
    """
    speed = np.asarray(motion, dtype=np.float64)
    require_finite(speed, "beat align motion")
    if speed.ndim != 1:
        speed = joint_speed(speed, joints=joints, joint_names=joint_names, compat=compat)
    speed = speed[int(round(trim_seconds * fps)) :]
    (idx,) = argrelextrema(speed, np.less, order=order)
    return idx.astype(np.float64) / fps


def beat_align_score(
    audio_times: np.ndarray,
    motion_times: np.ndarray,
    *,
    sigma: float = 0.3,
    direction: Literal["audio", "motion"] = "audio",
) -> float:
    """Mean over the outer beats of ``exp(-d^2 / (2 sigma^2))``, ``d`` the distance to the
    nearest inner beat; outer = audio beats (BEAT) or motion beats (``direction="motion"``,
    AIST++). NaN when there is no outer beat; 0 terms when there is no inner beat.
    """
    if direction not in ("audio", "motion"):
        raise ValueError(f"direction must be 'audio' or 'motion', got {direction!r}")
    a = np.asarray(audio_times, dtype=np.float64).ravel()
    m = np.asarray(motion_times, dtype=np.float64).ravel()
    outer, inner = (a, m) if direction == "audio" else (m, a)
    if len(outer) == 0:
        return float("nan")
    if len(inner) == 0:
        return 0.0
    inner = np.sort(inner)
    pos = np.clip(np.searchsorted(inner, outer), 1, len(inner)) - 1
    nearest = np.minimum(
        np.abs(outer - inner[pos]), np.abs(outer - inner[np.minimum(pos + 1, len(inner) - 1)])
    )
    return float(np.mean(np.exp(-(nearest**2) / (2.0 * sigma**2))))


def beat_align(
    audio: np.ndarray,
    sr: int,
    motion: np.ndarray,
    fps: float,
    *,
    sigma: float = 0.3,
    direction: Literal["audio", "motion"] = "audio",
    compat: Compat = None,
    trim_seconds: float = 0.0,
    joints: Sequence[str | int] = WRIST_JOINTS,
    joint_names: Sequence[str] | None = None,
    order: int = 2,
) -> float:
    """Beat Align of one sequence: audio ``[N]`` at ``sr`` against motion ``[T, J*3]`` (or a
    speed curve ``[T']``) at ``fps``. See the module docstring for every option."""
    a = audio_beats(audio, sr, compat=compat, trim_seconds=trim_seconds)
    m = motion_beats(
        motion,
        fps,
        joints=joints,
        joint_names=joint_names,
        order=order,
        compat=compat,
        trim_seconds=trim_seconds,
    )
    return beat_align_score(a, m, sigma=sigma, direction=direction)


class BeatAlign:
    """Mean Beat Align over sequences, with the audio beats of each take cached by ``key``.

    Options are those of :func:`beat_align`. ``update(audio, sr, motion, fps, key=None)``
    scores one sequence and returns the score; with a ``key`` (e.g. the take name) the take's
    audio beats are computed once and reused for every later update with that key. Sequences
    without any outer beat (NaN) are counted in ``skipped`` and left out of the mean.
    """

    def __init__(
        self,
        *,
        sigma: float = 0.3,
        direction: Literal["audio", "motion"] = "audio",
        compat: Compat = None,
        trim_seconds: float = 0.0,
        joints: Sequence[str | int] = WRIST_JOINTS,
        joint_names: Sequence[str] | None = None,
        order: int = 2,
    ):
        _check_compat(compat)
        self.sigma = sigma
        self.direction = direction
        self.compat = compat
        self.trim_seconds = trim_seconds
        self.joints = joints
        self.joint_names = joint_names
        self.order = order
        self.scores: list[float] = []
        self.skipped = 0
        self._cache: dict[Hashable, np.ndarray] = {}

    def remember(self, key: Hashable, times: np.ndarray) -> None:
        """Use ``times [K]`` (seconds, computed earlier with these options) as ``key``'s audio
        beats: later updates with that key need no audio."""
        self._cache[key] = np.asarray(times, dtype=np.float64)

    def audio_times(
        self, audio: np.ndarray | None, sr: int, key: Hashable | None = None
    ) -> np.ndarray:
        """Audio beat times of one take, from the cache when ``key`` was seen before."""
        if key is not None and key in self._cache:
            return self._cache[key]
        if audio is None:
            raise ValueError(
                f"beat align: no audio given and no audio beats remembered for {key!r}"
            )
        times = audio_beats(audio, sr, compat=self.compat, trim_seconds=self.trim_seconds)
        if key is not None:
            self._cache[key] = times
        return times

    def update(
        self,
        audio: np.ndarray | None,
        sr: int,
        motion: np.ndarray,
        fps: float,
        key: Hashable | None = None,
    ) -> float:
        m = motion_beats(
            motion,
            fps,
            joints=self.joints,
            joint_names=self.joint_names,
            order=self.order,
            compat=self.compat,
            trim_seconds=self.trim_seconds,
        )
        a = self.audio_times(audio, sr, key)
        score = beat_align_score(a, m, sigma=self.sigma, direction=self.direction)
        if np.isnan(score):
            self.skipped += 1
        else:
            self.scores.append(score)
        return score

    def compute(self) -> float:
        if not self.scores:
            raise ValueError("beat align: no sequence with beats seen")
        return float(np.mean(self.scores))
