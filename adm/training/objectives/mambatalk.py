"""MambaTalk's stage-2 objective: per part, latent MSE and code cross-entropy, grouped by task.

MambaTalk (``mambatalk_trainer.py``, kkakkkka/MambaTalk @b3c30e4c) compares each part's
predicted latent with the frozen VQ-VAE's quantised latent of the ground truth (MSE, weight
``lf = lu = lh = 3``) and its code logits with the VQ-VAE's code indices (cross-entropy,
``cu = ch = 1``). Its seed-conditioned pass weights the face's cross-entropy ``cf = 0``.
Each training step adds ``masked_passes`` (2) masked-motion passes: the network sees the
ground-truth motion with each element replaced by its learnable query with probability
``r = r0 + (1 - r0) * progress`` (``r0 = 0.05``; MambaTalk's ``epoch / epochs * 0.95 + 0.05``),
the same mask for both passes (they differ by dropout), and each pass adds the same latent terms
and every part's cross-entropy with weight 1. Validation runs the seed-conditioned pass only,
as MambaTalk's. adm's face code term keeps weight 1 in the seed-conditioned pass too (by
default; ``code_weights``).

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
    #: Masked-motion passes per training step (MambaTalk: 2; 0 = the seed-conditioned pass only).
    masked_passes: int = 2
    #: The masking probability at the start of training; it grows linearly to 1 at the end.
    mask_ratio_start: float = 0.05
    #: Weight of every part's cross-entropy in a masked pass (MambaTalk: 1).
    masked_code_weight: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.masked_passes, bool) or not (
            isinstance(self.masked_passes, int) and self.masked_passes >= 0
        ):
            raise ConfigError(
                f"objective.masked_passes: a whole number >= 0, got {self.masked_passes!r}"
            )
        if not 0.0 <= self.mask_ratio_start <= 1.0:
            raise ConfigError(
                f"objective.mask_ratio_start: must be in [0, 1], got {self.mask_ratio_start}"
            )
        if not self.masked_code_weight >= 0:
            raise ConfigError(
                f"objective.masked_code_weight: must be >= 0, got {self.masked_code_weight}"
            )
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

    @property
    def draws_motion_noise(self) -> bool:  # the masked passes' masks
        return self.settings.masked_passes > 0

    def mask_ratio(self, progress: float) -> float:
        """Probability that a motion element is masked at ``progress`` (0..1) of training."""
        r0 = self.settings.mask_ratio_start
        return r0 + (1.0 - r0) * min(max(progress, 0.0), 1.0)

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
        self._add_terms(out, "", pred, target, inputs, s.code_weights)
        if s.masked_passes and inputs.motion_noise is not None and inputs.progress is not None:
            # masked with probability r: the element is shown where the draw is >= r
            known = inputs.motion_noise >= self.mask_ratio(inputs.progress)
            # The passes share the mask and differ by dropout alone: without dropout they are
            # one computation, run once and counted masked_passes times (same loss, gradient).
            runs = s.masked_passes if pred.get("stochastic", True) else 1
            weights = dict.fromkeys(s.code_weights, s.masked_code_weight)
            masked: dict[str, dict[str, Tensor]] = {task: {} for task in inputs.task_slices}
            for _ in range(runs):
                again = pred["with_motion"](inputs.x0, known)
                self._add_terms(masked, "_masked", again, target, inputs, weights)
            for task, group in masked.items():
                out[task].update({k: v * (s.masked_passes / runs) for k, v in group.items()})
        return out

    def _add_terms(
        self,
        out: dict[str, dict[str, Tensor]],
        suffix: str,
        pred: dict,
        target: dict,
        inputs: LossInputs,
        code_weights: dict[str, float],
    ) -> None:
        """One pass's latent MSE and code cross-entropy per part, added into its task's group."""
        for part in active_parts(tuple(inputs.task_slices)):
            group = out[PART_TASK[part]]
            latent = self.settings.latent_weights[part] * masked_mse(
                pred["latent"][part].float(),
                target["latent"][part],
                inputs.mask,
                inputs.valid_frames,
                inputs.scale,
            )
            code = code_weights[part] * masked_cross_entropy(
                pred["logits"][part].float(),
                target["codes"][part],
                inputs.mask,
                inputs.valid_frames,
                inputs.scale,
            )
            for name, value in ((f"{part}_latent{suffix}", latent), (f"{part}_code{suffix}", code)):
                group[name] = group[name] + value if name in group else value  # passes add up
