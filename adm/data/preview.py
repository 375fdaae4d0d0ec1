"""A picture of one BEAT-format clip, to check that it moves sensibly.

Top row: the skeleton seen from the front (forward kinematics of the BVH) at 4-6 gesture peaks,
one per semantic interval (the frame where the hands are farthest from where they rest;
without annotations, the wrist-speed minima with the largest excursion). Middle: wrist speed with
the semantic intervals shaded. Bottom: the waveform with the word intervals shaded and the
jawOpen curve on top. Works on real BEAT clips as well as the synthetic corpus.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adm.data.annotations import SemanticInterval, read_semantic
from adm.data.audio import load_wav
from adm.data.bvh import read_bvh
from adm.data.clips import find_clip_files
from adm.data.face import ARKIT_NAMES, read_face_json
from adm.data.textgrid import read_textgrid
from adm.errors import BadInputError
from adm.kinematics import forward_kinematics

_WRISTS = ("RightHand", "LeftHand")


def wrist_data(positions: np.ndarray, wrists: list[int], fps: float) -> tuple[np.ndarray, ...]:
    """Wrist excursion ``[T]`` (the larger of the wrists) and wrist speeds ``[T, W]`` (units/s)
    from world positions ``[T, J, 3]``.

    Excursion is measured from each wrist's resting place, estimated as its mean position over
    the 10% of frames where it hangs lowest (arms down), not from the median, which a clip full
    of gestures pulls away from rest.
    """
    w = positions[:, wrists]  # [T, W, 3]
    low = w[..., 1] <= np.percentile(w[..., 1], 10, axis=0)  # [T, W]
    rest = np.stack([w[low[:, k], k].mean(axis=0) for k in range(w.shape[1])])  # [W, 3]
    excursion = np.linalg.norm(w - rest, axis=-1).max(axis=1)
    speed = np.zeros(w.shape[:2])
    if len(w) > 1:
        speed[1:] = np.linalg.norm(np.diff(w, axis=0), axis=-1) * fps
        speed[0] = speed[1]
    return excursion, speed


def pick_frames(
    excursion: np.ndarray, speed: np.ndarray, fps: float, intervals: list[SemanticInterval],
    count: int = 5,
) -> list[int]:  # fmt: skip
    """Up to ``count`` frames to draw, in time order (see the module docstring)."""
    n = len(excursion)
    chosen: list[int] = []
    spans = sorted(intervals, key=lambda iv: -iv.score)
    for iv in spans:
        lo, hi = int(np.ceil(iv.start * fps)), min(int(np.floor(iv.end * fps)) + 1, n)
        if hi > lo:
            chosen.append(lo + int(np.argmax(excursion[lo:hi])))
    chosen = sorted(chosen[: max(count * 3, count)], key=lambda f: -excursion[f])[:count]
    if len(chosen) < 4:
        inner = speed[1:-1]
        minima = np.flatnonzero((inner < speed[:-2]) & (inner <= speed[2:])) + 1
        gap = int(0.5 * fps)
        for f in sorted(minima, key=lambda f: -excursion[f]):
            if len(chosen) >= count:
                break
            if all(abs(int(f) - c) > gap for c in chosen):
                chosen.append(int(f))
    if len(chosen) < 4:
        chosen += [int(f) for f in np.linspace(0, n - 1, 6)[1:-1] if int(f) not in chosen]
    return sorted(set(chosen))[:count]


def _draw_skeleton(ax, pos: np.ndarray, parents: tuple[int, ...], names: tuple[str, ...]) -> None:
    """Front view of one pose ``[J, 3]``: x right, y up; right side red, left blue."""
    from matplotlib.collections import LineCollection

    bones = [(p, j) for j, p in enumerate(parents) if p >= 0]
    segments = [pos[[p, j], :2] for p, j in bones]
    colors = [
        "tab:red" if names[j].startswith("Right") else
        ("tab:blue" if names[j].startswith("Left") else "0.2")
        for _, j in bones
    ]  # fmt: skip
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=1.4))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _wave_envelope(audio: np.ndarray, sr: int, bins: int = 3000) -> tuple[np.ndarray, ...]:
    """Time [B], min [B] and max [B] of the waveform in ``bins`` bins (fast to draw)."""
    n = max(1, len(audio) // bins)
    usable = (len(audio) // n) * n
    blocks = audio[:usable].reshape(-1, n)
    t = (np.arange(len(blocks)) + 0.5) * n / sr
    return t, blocks.min(axis=1), blocks.max(axis=1)


def render_preview(root: Path, stem: str, out: Path) -> list[float]:
    """Draw the preview of clip ``stem`` under ``root`` to ``out`` (PNG); returns the frame
    times drawn (seconds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from adm.io.atomic import atomic_path

    try:
        files = find_clip_files(root, stem)
    except ValueError as err:
        raise BadInputError(root, str(err)) from None
    for ext in ("bvh", "json", "wav", "TextGrid"):
        if ext not in files:
            raise BadInputError(
                root / stem, f"no {stem}.{ext} under {root} (needed for the preview)"
            )
    bvh = read_bvh(files["bvh"])
    face = read_face_json(files["json"])
    audio = load_wav(files["wav"], 16000)
    words = read_textgrid(files["TextGrid"]).words
    intervals = read_semantic(files["txt"]) if "txt" in files else []

    header = bvh.header
    pos = forward_kinematics(header, bvh.motion)
    wrists = [header.joint_index(w) for w in _WRISTS]
    excursion, speeds = wrist_data(pos, wrists, bvh.fps)
    frames = pick_frames(excursion, speeds.mean(axis=1), bvh.fps, intervals)
    t_body = np.arange(len(pos)) / bvh.fps

    fig = plt.figure(figsize=(15, 9.5))
    grid = fig.add_gridspec(3, len(frames), height_ratios=[2.2, 1.0, 1.3], hspace=0.35)
    # frame the upper body: gestures happen above the hips, the legs do not move
    upper = [j for j, name in enumerate(header.joints) if "Leg" not in name and "Foot" not in name
             and "Toe" not in name]  # fmt: skip
    lo, hi = pos[:, upper, :2].min(axis=(0, 1)), pos[:, upper, :2].max(axis=(0, 1))
    for k, f in enumerate(frames):
        ax = fig.add_subplot(grid[0, k])
        _draw_skeleton(ax, pos[f], header.parents, header.joints)
        ax.set_xlim(lo[0] - 5, hi[0] + 5)
        ax.set_ylim(lo[1] - 5, hi[1] + 5)
        t = f / bvh.fps
        slack = 0.5 / bvh.fps
        iv = next((iv for iv in intervals if iv.start - slack <= t <= iv.end + slack), None)
        word = next((w.label for w in words if w.start <= t <= w.end and w.label), "")
        label = f"{iv.type.split('_')[1]} '{iv.keywords}'" if iv else word
        ax.set_title(f"t = {t:.2f} s  {label}", fontsize=10)

    ax = fig.add_subplot(grid[1, :])
    ax.plot(t_body, speeds[:, 0], color="tab:red", lw=0.8, label="right wrist")
    ax.plot(t_body, speeds[:, 1], color="tab:blue", lw=0.8, label="left wrist")
    ax.legend(loc="upper right", fontsize=8)
    for iv in intervals:
        ax.axvspan(iv.start, iv.end, color="tab:orange", alpha=0.25)
        ax.text(iv.start, ax.get_ylim()[1] * 0.9, iv.type.split("_")[1], fontsize=7)
    for f in frames:
        ax.axvline(f / bvh.fps, color="tab:green", lw=1)
    ax.set_xlim(0, t_body[-1])
    ax.set_ylabel("wrist speed")
    ax.set_title(
        "wrist speed (orange: semantic gesture intervals, green: frames drawn)", fontsize=10
    )

    ax = fig.add_subplot(grid[2, :])
    peak = max(float(np.abs(audio).max()), 1e-6)
    t_wave, lo_wave, hi_wave = _wave_envelope(audio / peak, 16000)
    ax.fill_between(t_wave, lo_wave, hi_wave, color="0.6", lw=0)
    for i, w in enumerate(w for w in words if w.label):
        ax.axvspan(w.start, w.end, color="tab:blue" if i % 2 else "tab:cyan", alpha=0.15)
    jaw = face.weights[:, ARKIT_NAMES.index("jawOpen")]
    ax2 = ax.twinx()
    ax2.plot(np.arange(len(jaw)) / face.fps, jaw, color="tab:red", lw=1.2)
    ax2.set_ylim(-0.05, 1.0)
    ax2.set_ylabel("jawOpen", color="tab:red")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(0, len(audio) / 16000)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("waveform")
    ax.set_title("audio with word intervals (shaded) and jawOpen (red)", fontsize=10)
    fig.suptitle(stem)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return [f / bvh.fps for f in frames]
