"""MambaTalk's stage-2 objective: per part, latent MSE and code cross-entropy, grouped by task.

MambaTalk (``mambatalk_trainer.py``, kkakkkka/MambaTalk @b3c30e4c) compares each part's
predicted latent with the frozen VQ-VAE's quantised latent of the ground truth (MSE, weight
``lf = lu = lh = 3``) and its code logits with the VQ-VAE's code indices (cross-entropy,
``cu = ch = 1``). Its seed-conditioned pass weights the face's cross-entropy ``cf = 0``, but its
two masked-motion passes weight every part's cross-entropy 1; adm trains the seed-conditioned
pass only (the masked passes need the ground-truth motion as a network input), so the face's
code term keeps weight 1 by default and its classifier is trained.

Targets come from the network's output: ``pred["encode_targets"](x0, mask)`` runs the
network's attached VQ-VAEs on the ground truth (no gradient). Terms are grouped as the
uncertainty weighting needs them (MambaTalk + UWP): upper body and hands in "gesture", face in
"face"; with fixed 1:1 task weights their sum is MambaTalk's loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from adm.errors import ConfigError
from adm.models.mambatalk.parts import PART_TASK, PARTS, active_parts
from adm.training.objectives.base import LossInputs, Objective, register_objective
from adm.training.objectives.target import masked_mse


def _latent_weights() -> dict[str, float]:
    return {"upper": 3.0, "hands": 3.0, "face": 3.0}


def _code_weights() -> dict[str, float]:
    return {"upper": 1.0, "hands": 1.0, "face": 1.0}


@dataclass(frozen=True)
class MambaTalkSettings:
    """Per-part weights of the latent MSE (3) and of the code cross-entropy (1)."""

    latent_weights: dict[str, float] = field(default_factory=_latent_weights)
    code_weights: dict[str, float] = field(default_factory=_code_weights)

    def __post_init__(self) -> None:
        for name in ("latent_weights", "code_weights"):
            weights = getattr(self, name)
            if set(weights) != set(PARTS):
                raise ConfigError(
                    f"objective.{name}: needs exactly the parts {list(PARTS)}, "
                    f"got {sorted(weights)}"
                )
            for part, w in weights.items():
                if not w >= 0:
                    raise ConfigError(f"objective.{name}.{part}: must be >= 0, got {w}")


def masked_cross_entropy(
    logits: Tensor, codes: Tensor, mask: Tensor, valid_frames: Tensor | float, scale: float = 1.0
) -> Tensor:
    """Cross-entropy of ``logits [B, T, K]`` against ``codes [B, T]``, summed over valid frames
    and divided by the GLOBAL valid-frame count (times ``scale``, the number of ranks)."""
    ce = F.cross_entropy(logits.float().transpose(1, 2), codes, reduction="none")  # [B, T]
    total = torch.where(mask, ce, torch.zeros((), device=ce.device)).sum()
    denom = torch.as_tensor(valid_frames, dtype=torch.float32, device=ce.device).clamp_min(1.0)
    return total * scale / denom


@register_objective("mambatalk")
class MambaTalkLoss(Objective):
    """``{"gesture": {upper_latent, upper_code, hands_latent, hands_code}, "face":
    {face_latent, face_code}}`` for the active tasks."""

    settings_class = MambaTalkSettings
    prediction = None

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        pred = inputs.pred
        if not isinstance(pred, dict) or "encode_targets" not in pred:
            raise ValueError(
                "mambatalk objective: the network output must be MambaTalk's dict "
                "(latent, logits, encode_targets)"
            )
        target = pred["encode_targets"](inputs.x0, inputs.mask)
        s = self.settings
        out: dict[str, dict[str, Tensor]] = {task: {} for task in inputs.task_slices}
        for part in active_parts(tuple(inputs.task_slices)):
            group = out[PART_TASK[part]]
            group[f"{part}_latent"] = s.latent_weights[part] * masked_mse(
                pred["latent"][part],
                target["latent"][part],
                inputs.mask,
                inputs.valid_frames,
                inputs.scale,
            )
            group[f"{part}_code"] = s.code_weights[part] * masked_cross_entropy(
                pred["logits"][part],
                target["codes"][part],
                inputs.mask,
                inputs.valid_frames,
                inputs.scale,
            )
        return out
