"""Per-dimension normalisation of the audio and text conditions (train split statistics).

The motion streams are normalised with ``results/data/norm_stats.json``; the conditions get the
same treatment here, computed on the TRAIN clips only, because their blocks live on very
different scales (log-mel in dB, WavLM activations, 0/1 flags). The std is floored (1e-4) so
constant channels (a silence flag that never fires, unused mel bands) do not divide by zero.
The statistics travel inside every checkpoint (``norm.audio.mean`` ...), so the sampling stage
normalises test clips with exactly the numbers the model was trained on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

#: Condition streams, in the order the denoiser concatenates them.
CONDITION_STREAMS = ("audio", "text")
DEFAULT_MIN_STD = 1e-4


@dataclass(frozen=True)
class ConditionStats:
    """Mean and std ``[D]`` float32 per condition stream ("audio", "text")."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]

    @classmethod
    def compute(
        cls,
        clips: Iterable[Mapping[str, np.ndarray]],
        min_std: float = DEFAULT_MIN_STD,
        streams: tuple[str, ...] = CONDITION_STREAMS,
    ) -> ConditionStats:
        """Population mean/std over all frames of ``clips`` (each maps stream -> ``[T, D]``).

        Sums run in float64 so a corpus of millions of frames keeps its precision.
        """
        sums: dict[str, np.ndarray] = {}
        squares: dict[str, np.ndarray] = {}
        count = 0
        for clip in clips:
            for name in streams:
                x = np.asarray(clip[name], dtype=np.float64)
                sums[name] = sums.get(name, 0.0) + x.sum(axis=0)
                squares[name] = squares.get(name, 0.0) + np.einsum("td,td->d", x, x)
            count += len(clip[streams[0]])
        if count == 0:
            raise ValueError("no frames to compute condition statistics on")
        mean = {k: sums[k] / count for k in streams}
        std = {
            k: np.maximum(np.sqrt(np.maximum(squares[k] / count - mean[k] ** 2, 0.0)), min_std)
            for k in streams
        }
        return cls(
            mean={k: v.astype(np.float32) for k, v in mean.items()},
            std={k: v.astype(np.float32) for k, v in std.items()},
        )

    def normalize(self, name: str, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` of stream ``name``; ``x`` ``[..., D]`` -> float32 ``[..., D]``."""
        if x.shape[-1] != self.mean[name].shape[0]:
            raise ValueError(
                f"{name}: features have {x.shape[-1]} dims, statistics {self.mean[name].shape[0]}"
            )
        return ((x - self.mean[name]) / self.std[name]).astype(np.float32)

    def tensors(self, prefix: str = "norm") -> dict[str, torch.Tensor]:
        """``{"norm.audio.mean": [Da], "norm.audio.std": [Da], "norm.text.mean": ...}``."""
        out: dict[str, torch.Tensor] = {}
        for name in self.mean:
            out[f"{prefix}.{name}.mean"] = torch.from_numpy(self.mean[name].copy())
            out[f"{prefix}.{name}.std"] = torch.from_numpy(self.std[name].copy())
        return out

    @classmethod
    def from_norm(
        cls,
        norm: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
        streams: tuple[str, ...] = CONDITION_STREAMS,
    ) -> ConditionStats:
        """Rebuild from a checkpoint's ``norm`` mapping (stream -> (mean, std) tensors)."""
        missing = [k for k in streams if k not in norm]
        if missing:
            raise KeyError(f"normalisation of {missing} not found (have {sorted(norm)})")
        return cls(
            mean={k: norm[k][0].detach().cpu().numpy().astype(np.float32) for k in streams},
            std={k: norm[k][1].detach().cpu().numpy().astype(np.float32) for k in streams},
        )

    def fingerprint(self) -> bytes:
        """Raw bytes of every statistic (to detect that the features changed on resume)."""
        return b"".join(self.mean[k].tobytes() + self.std[k].tobytes() for k in sorted(self.mean))
