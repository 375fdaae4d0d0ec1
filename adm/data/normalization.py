"""Per-dimension normalisation statistics of the train split (beat.md).

Computed on the train split only, with a floor on the standard deviation (constant channels,
e.g. BEAT's all-zero columns, would otherwise divide by zero), and stored with the cache so that
training, sampling and metrics normalise and denormalise with the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.data.face import ARKIT_NAMES
from adm.errors import BadInputError
from adm.io.atomic import write_text_atomic
from adm.io.frames import read_frames
from adm.skeleton import GESTURE_DIM

STREAMS = ("gesture", "face")
STREAM_DIMS = {"gesture": GESTURE_DIM, "face": len(ARKIT_NAMES)}


@dataclass(frozen=True)
class NormStats:
    """mean and std per stream: name -> ([D], [D]) float32 arrays."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]

    def normalize(self, name: str, x: np.ndarray) -> np.ndarray:
        """(x - mean) / std for stream ``name``; x [..., D]."""
        return (x - self.mean[name]) / self.std[name]

    def denormalize(self, name: str, z: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`normalize`."""
        return z * self.std[name] + self.mean[name]


def compute_norm_stats(clips: list[Path], min_std: float, streams=STREAMS) -> tuple[NormStats, int]:
    """Mean and (population) std over all frames of ``clips``, per dim, std floored at min_std.

    Sums are accumulated in float64 so long corpora do not lose precision.

    Returns:
        the statistics and the number of frames they were computed on.
    """
    if not clips:
        raise ValueError("no train clips to compute normalisation statistics on")
    sums: dict[str, np.ndarray] = {}
    squares: dict[str, np.ndarray] = {}
    count = 0
    for path in clips:
        table = read_frames(path, columns=list(streams))
        for name in streams:
            x = table[name].astype(np.float64)
            if x.ndim != 2 or not np.isfinite(x).all():
                raise BadInputError(path, f"column {name!r} is not a finite [T, D] array")
            sums[name] = sums.get(name, 0.0) + x.sum(axis=0)
            squares[name] = squares.get(name, 0.0) + (x * x).sum(axis=0)
        count += table.num_frames
    if count == 0:
        raise BadInputError(clips[0], "the train clips hold no frame")
    mean = {k: sums[k] / count for k in streams}
    var = {k: np.maximum(squares[k] / count - mean[k] ** 2, 0.0) for k in streams}
    std = {k: np.maximum(np.sqrt(var[k]), min_std) for k in streams}
    return NormStats(
        mean={k: v.astype(np.float32) for k, v in mean.items()},
        std={k: v.astype(np.float32) for k, v in std.items()},
    ), count


def save_norm_stats(path: Path, stats: NormStats, extra: dict) -> None:
    """Write the statistics as JSON (human-readable; a few hundred numbers)."""
    payload = {
        "streams": {
            k: {"mean": stats.mean[k].tolist(), "std": stats.std[k].tolist()} for k in stats.mean
        },
        **extra,
    }
    write_text_atomic(path, json.dumps(payload, indent=1))


def load_norm_stats(path: Path) -> NormStats:
    """Read statistics written by :func:`save_norm_stats`.

    Raises:
        BadInputError: missing, not JSON, or not statistics: each stream needs ``mean`` and
            ``std`` lists of the same length, finite, with ``std > 0``.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise BadInputError(path, "normalisation statistics not found") from None
    except OSError as err:
        raise BadInputError(path, f"cannot read: {err.strerror or err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadInputError(path, f"not a normalisation statistics file ({err})") from None
    streams = payload.get("streams") if isinstance(payload, dict) else None
    if not isinstance(streams, dict) or not streams:
        raise BadInputError(path, "not a normalisation statistics file: no 'streams' object")
    mean, std = {}, {}
    for name, value in streams.items():
        try:
            m = np.asarray(value["mean"], dtype=np.float32)
            s = np.asarray(value["std"], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as err:
            raise BadInputError(
                path, f"stream {name!r}: needs 'mean' and 'std' lists of numbers ({err})"
            ) from None
        if m.ndim != 1 or m.shape != s.shape:
            raise BadInputError(
                path, f"stream {name!r}: mean {list(m.shape)} and std {list(s.shape)} differ"
            )
        if not (np.isfinite(m).all() and np.isfinite(s).all() and (s > 0).all()):
            raise BadInputError(path, f"stream {name!r}: non-finite mean or std, or std <= 0")
        mean[name], std[name] = m, s
    for name, width in STREAM_DIMS.items():
        if name not in mean:
            raise BadInputError(path, f"no statistics of stream {name!r} (has {list(mean)})")
        if mean[name].shape != (width,):
            raise BadInputError(
                path, f"stream {name!r} has {mean[name].shape[0]} dims, expected {width}"
            )
    return NormStats(mean=mean, std=std)
