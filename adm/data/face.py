"""Read and write BEAT's ARKit face blendshape JSON files.

BEAT stores the 51 ARKit blendshapes (Apple's 52 minus ``tongueOut``) captured at 60 fps as
``{"names": [51 names], "frames": [{"weights": [51 floats], "time": t, "rotation": []}, ...]}``
(``beat.md``). Columns are matched by name, never by position, so a file whose ``names`` come in
another order, or carry extra names, reads the same.

ARKit weights lie in [0, 1]. Exports that pass through smoothing or resampling overshoot by a
few hundredths, so values within :data:`WEIGHT_TOLERANCE` of the range are kept as written;
anything further out (a weight of 7, of -3, or a file on a 0-100 scale) is another rig or a
damaged file and is refused, naming the frame and blendshape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.errors import BadClipError, some_names
from adm.io.atomic import write_text_atomic

# The 51 BEAT blendshapes in alphabetical order; jawOpen is index 24.
ARKIT_NAMES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
    "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft",
    "noseSneerRight",
)  # fmt: skip
FACE_FPS = 60.0
WEIGHT_TOLERANCE = 0.05  # accepted overshoot beyond [0, 1]


@dataclass(frozen=True, eq=False)
class Face:
    """Face blendshape weights of one clip.

    Attributes:
        names: the column names, :data:`ARKIT_NAMES`.
        weights: ``[T, 51]`` float32 in ``names`` order.
        fps: frame rate (BEAT: 60).
        path: the file read, if any.
    """

    names: tuple[str, ...]
    weights: np.ndarray
    fps: float
    path: Path | None = None


def read_face_json(path: str | Path, fps: float = FACE_FPS) -> Face:
    """Read a BEAT face JSON file into ``[T, 51]`` weights in :data:`ARKIT_NAMES` order.

    The ``time`` fields are not used: frames are taken as uniformly spaced at ``fps``.

    Raises:
        BadClipError: not JSON, missing ``names``/``frames``, required names absent (listed),
            a frame with the wrong number of weights, a non-finite weight or one outside
            ``[0, 1]`` by more than :data:`WEIGHT_TOLERANCE` (frame index given), or no frames.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_bytes())
    except OSError as e:
        raise BadClipError(path, f"cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadClipError(path, f"not a JSON file: {e}") from None
    if not isinstance(data, dict):
        raise BadClipError(path, "expected a JSON object with 'names' and 'frames'")
    for key in ("names", "frames"):
        if not isinstance(data.get(key), list):
            raise BadClipError(path, f"missing or non-list {key!r}")
    names = [str(n) for n in data["names"]]
    column = {n: i for i, n in enumerate(names)}
    repeated = sorted({n for n in ARKIT_NAMES if names.count(n) > 1})
    if repeated:
        raise BadClipError(path, f"blendshapes named twice in 'names': {', '.join(repeated)}")
    missing = [n for n in ARKIT_NAMES if n not in column]
    if missing:
        raise BadClipError(
            path,
            f"{len(missing)} of the {len(ARKIT_NAMES)} ARKit blendshapes missing from 'names': "
            f"{some_names(missing, 8)}",
        )
    frames = data["frames"]
    if not frames:
        raise BadClipError(path, "no frames")
    rows = []
    for k, frame in enumerate(frames):
        weights = frame.get("weights") if isinstance(frame, dict) else None
        if not isinstance(weights, list) or len(weights) != len(names):
            got = len(weights) if isinstance(weights, list) else "no"
            raise BadClipError(
                path, f"frame {k}: {got} weights, expected {len(names)} (one per name)"
            )
        rows.append(weights)
    try:
        table = np.array(rows, dtype=np.float64)
        # numpy takes true/false and numeric strings for numbers; a face file holds numbers.
        k = next((k for k, r in enumerate(rows) if not all(map(_is_number, r))), None)
    except (TypeError, ValueError):
        k = next(k for k, r in enumerate(rows) if not all(map(_is_number, r)))
    if k is not None:
        bad = next(v for v in rows[k] if not _is_number(v))
        raise BadClipError(path, f"frame {k}: weight {json.dumps(bad)} is not a number")
    weights = table[:, [column[n] for n in ARKIT_NAMES]]
    bad = ~np.isfinite(weights)
    if bad.any():
        k, j = (int(v) for v in np.argwhere(bad)[0])
        raise BadClipError(
            path, f"frame {k}: non-finite weight {weights[k, j]} for {ARKIT_NAMES[j]}"
        )
    outside = (weights < -WEIGHT_TOLERANCE) | (weights > 1.0 + WEIGHT_TOLERANCE)
    if outside.any():
        k, j = (int(v) for v in np.argwhere(outside)[0])
        raise BadClipError(
            path,
            f"frame {k}: {ARKIT_NAMES[j]} weight {weights[k, j]:g} is outside [0, 1] "
            f"(ARKit blendshape weights; {int(outside.sum())} such values in the file, "
            f"+-{WEIGHT_TOLERANCE:g} tolerated)",
        )
    return Face(names=ARKIT_NAMES, weights=weights.astype(np.float32), fps=float(fps), path=path)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def write_face_json(
    path: str | Path,
    weights: np.ndarray,
    fps: float = FACE_FPS,
    names: Sequence[str] = ARKIT_NAMES,
) -> None:
    """Write ``weights`` ``[T, len(names)]`` as a BEAT face JSON file, atomically.

    Each frame gets ``time = index / fps`` and an empty ``rotation`` as BEAT files have.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != len(names):
        raise ValueError(f"weights must be [T, {len(names)}], got {list(weights.shape)}")
    if not np.isfinite(weights).all():
        raise ValueError("weights contain NaN or inf")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    frames = [
        {"weights": row, "time": round(k / fps, 6), "rotation": []}
        for k, row in enumerate(weights.tolist())
    ]
    write_text_atomic(path, json.dumps({"names": list(names), "frames": frames}))
