"""MambaTalk stage 1: one VQ-VAE per body part (face, upper body, hands).

Facts from MambaTalk (``models/motion_representation.py`` ``VQVAEConvZero``,
``models/motion_encoder.py`` ``VQEncoderV5``/``VQDecoderV5``, ``models/quantizer.py``,
``configs/cnn_vqvae_*_30.yaml``, kkakkkka/MambaTalk @b3c30e4c):

- encoder: ``layers`` (2) stages of Conv1d(k=3) -> LeakyReLU(0.2) -> residual block (two
  Conv1d(k=3) with a LeakyReLU between); every convolution has stride 1, so there is one latent
  (and one code) per motion frame;
- codebook: 256 codes of width 256 (``vae_codebook_size``, ``vae_length``), initialised
  uniform in +-1/256; nearest code by Euclidean distance; straight-through gradient; embedding
  loss ``|sg(z_e) - e|^2 + beta |z_e - sg(e)|^2`` with ``beta`` = 1 (``vae_quantizer_lambda``);
- decoder: two residual blocks, then ``layers`` Conv1d(k=3) -> LeakyReLU stages (the last to
  the part's width) and a final Conv1d(k=3); weights Xavier-normal, biases zero;
- training on 64-frame windows (stride 20), Adam, lr 3e-4, batch 64; loss: reconstruction +
  L1 of velocity + L1 of acceleration + the embedding loss (``ae_trainer.py``,
  ``aeface_trainer.py``). MambaTalk's reconstruction term is a geodesic loss on 6D rotations
  (body) or an MSE (face), plus SMPL-X vertex losses; adm's parts are normalised axis-angle and
  ARKit weights without a body mesh, so every part uses the MSE and no vertex term.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from adm.config import from_dict
from adm.errors import BadInputError, ConfigError
from adm.io.tensors import load_tensors, save_tensors
from adm.models.mambatalk.parts import part_dims
from adm.optim import adam

#: ``format`` metadata value of a saved part VQ-VAE.
VQ_FORMAT = "adm.mambatalk.part_vq"


@dataclass(frozen=True)
class VQConfig:
    """Sizes of one part's VQ-VAE (MambaTalk's values as defaults).

    Attributes:
        part: "face", "upper" or "hands"; fixes the input width (51, 27, 114).
        latent_dim: width of the latent and of each code (``vae_length`` 256).
        codebook_size: number of codes (``vae_codebook_size`` 256).
        layers: conv stages of the encoder and decoder (``vae_layer`` 2).
        beta: commitment weight of the embedding loss (``vae_quantizer_lambda`` 1.0).
        window: training window in frames (``pose_length`` 64).
    """

    part: Literal["face", "upper", "hands"] = "upper"
    latent_dim: int = 256
    codebook_size: int = 256
    layers: int = 2
    beta: float = 1.0
    window: int = 64

    def __post_init__(self) -> None:
        for name in ("latent_dim", "codebook_size", "layers", "window"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"vq.{name}: must be positive, got {getattr(self, name)}")
        if not self.beta >= 0:
            raise ConfigError(f"vq.beta: must be >= 0, got {self.beta}")

    @property
    def in_dim(self) -> int:
        """The part's feature width."""
        return part_dims()[self.part]


def _conv(c_in: int, c_out: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, kernel_size=3, stride=1, padding=1)


class _ResBlock(nn.Module):
    """``x + conv(lrelu(conv(x)))`` on ``[B, C, T]``."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels), nn.LeakyReLU(0.2), _conv(channels, channels)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Conv1d):
        nn.init.xavier_normal_(module.weight)
        nn.init.zeros_(module.bias)


def conv_encoder(in_dim: int, width: int, layers: int) -> nn.Sequential:
    """``layers`` stages of Conv1d(k=3) -> LeakyReLU(0.2) -> residual block on ``[B, C, T]``
    (MambaTalk's ``VQEncoderV5``/``V6``; the stage-2 network encodes its motion input with it)."""
    stages: list[nn.Module] = []
    for i in range(layers):
        stages += [_conv(in_dim if i == 0 else width, width), nn.LeakyReLU(0.2), _ResBlock(width)]
    encoder = nn.Sequential(*stages)
    encoder.apply(_init_weights)
    return encoder


class PartVQ(nn.Module):
    """One part's VQ-VAE. Motion ``[B, T, D]`` -> latents/codes ``[B, T, C]``/``[B, T]`` -> motion.

    Every convolution has stride 1 and zero padding, so ``T`` is any length and the latent has
    the motion's frame rate.
    """

    def __init__(self, config: VQConfig):
        super().__init__()
        self.config = config
        c, d = config.latent_dim, config.in_dim
        self.encoder = conv_encoder(d, c, config.layers)
        dec: list[nn.Module] = [_ResBlock(c), _ResBlock(c)]
        for i in range(config.layers):
            dec += [_conv(c, d if i == config.layers - 1 else c), nn.LeakyReLU(0.2)]
        dec.append(_conv(d, d))
        self.decoder = nn.Sequential(*dec)
        self.apply(_init_weights)
        self.codebook = nn.Embedding(config.codebook_size, c)
        nn.init.uniform_(
            self.codebook.weight, -1.0 / config.codebook_size, 1.0 / config.codebook_size
        )

    def _check(self, x: Tensor, width: int, what: str) -> None:
        if x.ndim != 3 or x.shape[-1] != width:
            raise ValueError(
                f"{self.config.part} VQ-VAE: {what} must be [B, T, {width}], got {tuple(x.shape)}"
            )

    def encode(self, x: Tensor) -> Tensor:
        """Continuous latents ``z_e [B, T, C]`` of motion ``x [B, T, D]``."""
        self._check(x, self.config.in_dim, "motion")
        return self.encoder(x.transpose(1, 2)).transpose(1, 2)

    def nearest_codes(self, z: Tensor) -> Tensor:
        """Index ``[B, T]`` of the code nearest (Euclidean) to each latent of ``z [B, T, C]``."""
        self._check(z, self.config.latent_dim, "latent")
        e = self.codebook.weight
        # |z|^2 - 2 z.e + |e|^2, without materialising [B, T, K, C]
        dist = z.square().sum(-1, keepdim=True) - 2 * z @ e.t() + e.square().sum(-1)
        return dist.argmin(-1)

    def lookup(self, codes: Tensor) -> Tensor:
        """Code vectors ``[B, T, C]`` of indices ``[B, T]``."""
        return self.codebook(codes)

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """``(z_q, codes)``: the nearest code vectors of latents ``z`` and their indices."""
        codes = self.nearest_codes(z)
        return self.lookup(codes), codes

    def decode(self, z: Tensor) -> Tensor:
        """Motion ``[B, T, D]`` of (quantised) latents ``z [B, T, C]``."""
        self._check(z, self.config.latent_dim, "latent")
        return self.decoder(z.transpose(1, 2)).transpose(1, 2)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Round trip with the straight-through estimator.

        Returns:
            ``recon [B, T, D]``, ``codes [B, T]``, ``codebook`` (``|sg(z_e) - e|^2``) and
            ``commitment`` (``|z_e - sg(e)|^2``, unweighted) 0-dim losses.
        """
        z_e = self.encode(x)
        z_q, codes = self.quantize(z_e)
        codebook = F.mse_loss(z_q, z_e.detach())
        commitment = F.mse_loss(z_e, z_q.detach())
        z_st = z_e + (z_q - z_e).detach()  # straight-through: decoder gradient reaches z_e
        return {
            "recon": self.decode(z_st),
            "codes": codes,
            "codebook": codebook,
            "commitment": commitment,
        }


def vq_loss(model: PartVQ, x: Tensor) -> tuple[Tensor, dict[str, float]]:
    """MambaTalk's VQ-VAE training loss on windows ``x [B, W, D]``: MSE reconstruction + L1
    velocity + L1 acceleration + codebook + ``beta`` commitment; also the terms as floats."""
    out = model(x)
    rec = out["recon"]
    terms = {
        "rec": F.mse_loss(rec, x),
        "vel": F.l1_loss(rec.diff(dim=1), x.diff(dim=1)),
        "acc": F.l1_loss(rec.diff(n=2, dim=1), x.diff(n=2, dim=1)),
        "codebook": out["codebook"],
        "commitment": model.config.beta * out["commitment"],
    }
    total = sum(terms.values())
    return total, {k: float(v.detach()) for k, v in terms.items()}  # type: ignore[return-value]


def part_windows(clips: list[np.ndarray], window: int = 64, stride: int = 20) -> np.ndarray:
    """Every ``window``-frame slice of each clip ``[T_i, D]``, ``stride`` frames apart, as
    ``[N, window, D]`` float32 (MambaTalk: 64 and 20). Clips shorter than a window add none."""
    if window <= 0 or stride <= 0:
        raise ValueError(f"window and stride must be positive, got {window} and {stride}")
    out = [
        clip[s : s + window] for clip in clips for s in range(0, clip.shape[0] - window + 1, stride)
    ]
    if not out:
        raise ValueError(f"no clip has {window} frames: no training window")
    return np.stack(out).astype(np.float32, copy=False)


def train_part_vq(
    windows: np.ndarray | Tensor,
    config: VQConfig,
    steps: int,
    lr: float = 3e-4,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
) -> tuple[PartVQ, list[float]]:
    """Train one part's VQ-VAE on ``windows [N, W, D]`` float32 (Adam, MambaTalk's loss).

    Deterministic for a given seed on a given machine and thread count: the initial weights
    and the minibatch draws come from generators seeded with ``seed`` (on the CPU, whatever
    ``device`` trains), and the global RNG is left as it was.

    Returns:
        the trained model (eval mode, on the CPU) and the total loss of every step.
    """
    x = torch.as_tensor(np.asarray(windows), dtype=torch.float32)
    if x.ndim != 3 or x.shape[-1] != config.in_dim:
        raise ValueError(
            f"{config.part} VQ-VAE: windows must be [N, W, {config.in_dim}], got {tuple(x.shape)}"
        )
    if steps <= 0 or batch_size <= 0 or not lr > 0:
        raise ValueError(f"steps, batch_size and lr must be positive ({steps}, {batch_size}, {lr})")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = PartVQ(config)
    model.to(device)
    x = x.to(device)
    draw = torch.Generator().manual_seed(seed + 1)
    opt = adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (min(batch_size, x.shape[0]),), generator=draw)
        loss, _ = vq_loss(model, x[idx.to(x.device)])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model.cpu().eval(), losses


def save_part_vq(path: str | Path, model: PartVQ) -> None:
    """Write ``model``'s weights atomically, with its :class:`VQConfig` as JSON metadata."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_tensors(path, tensors, {"format": VQ_FORMAT, "config": json.dumps(asdict(model.config))})


def load_part_vq(path: str | Path, part: str | None = None) -> PartVQ:
    """The frozen (eval, no gradients) VQ-VAE saved by :func:`save_part_vq`.

    Raises:
        BadInputError: missing, damaged, not a part VQ-VAE, or (``part`` given) another part's.
    """
    tensors, meta = load_tensors(path)
    if meta.get("format") != VQ_FORMAT or "config" not in meta:
        raise BadInputError(path, f"not a MambaTalk part VQ-VAE (metadata format != {VQ_FORMAT})")
    try:
        config = from_dict(VQConfig, json.loads(meta["config"]), where="vq")
    except (ConfigError, ValueError) as err:
        raise BadInputError(path, f"bad VQ-VAE config in its metadata ({err})") from None
    if part is not None and config.part != part:
        raise BadInputError(path, f"holds the {config.part!r} VQ-VAE, expected {part!r}")
    model = PartVQ(config)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise BadInputError(path, f"weights do not fit its config ({first})") from None
    return freeze(model)


def vq_file(folder: str | Path, part: str) -> Path:
    """Where a set of part VQ-VAEs keeps ``part``'s: ``<folder>/<part>.safetensors``."""
    return Path(folder) / f"{part}.safetensors"


def load_part_vqs(folder: str | Path, parts: tuple[str, ...]) -> dict[str, PartVQ]:
    """``{part: frozen PartVQ}`` from :func:`vq_file` of each part (for ``attach_vqs``).

    Raises:
        BadInputError: a file is missing, damaged, or holds another part's VQ-VAE.
    """
    return {p: load_part_vq(vq_file(folder, p), part=p) for p in parts}


def freeze(model: PartVQ) -> PartVQ:
    """``model`` in eval mode with gradients off (stage 2 uses the VQ-VAEs frozen)."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
