"""The convolutional window encoder/decoder shared by the two metric models.

Both feature extractors of metrics.md have the same topology and differ only in widths:

    Conv1d(D->c1, k3) BN LReLU -> Conv1d(c1->c2, k3) BN LReLU -> Conv1d(c2->c3, k4, s2) BN LReLU
    -> Conv1d(c3->c4, k3) -> flatten [c4 * L'] -> Linear(->h1) BN act -> Linear(h1->h2) BN act
    -> Linear(h2->h3) -> fc_mu, fc_logvar Linear(h3->z)

with no padding, so ``L' = (L - 8) // 2 + 1 - 2``:

- the FGD motion autoencoder of BEAT/CaMN (after Yoon et al. 2020's gesture embedding net):
  c = (300, 600, 600, 300), h = (1200, 600, 300), z = 300;
- SAiD's blendshape VAE (BCVAE): c = (32, 64, 64, 32), h = (256, 128, 64), z = 64, MLP slope
  0.01 (its decoder is its own: :class:`adm.metrics.face_vae.FaceDecoder`).

Evaluation encodes many overlapping windows of each test sequence. Without padding, and with
BatchNorm using its running statistics, every conv layer is translation-equivariant, so
:meth:`WindowEncoder.encode_sequence` runs the conv stack once over the whole sequence and
reads each window's features out of it: the same numbers as encoding every window alone
(tested), at a fraction of the cost (a 60-frame face window at stride 1 reuses 59 frames).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from adm.metrics.finite import require_finite
from adm.metrics.tensors import as_tensor, eval_mode


def flat_length(length: int) -> int:
    """Frames left after the conv stack for a window of ``length``: ``(L - 8) // 2 + 1 - 2``."""
    return (length - 8) // 2 + 1 - 2


def check_length(length: int) -> None:
    if flat_length(length) < 1:
        raise ValueError(f"window length {length} is too short for the conv stack (need >= 12)")


class WindowEncoder(nn.Module):
    """Window ``[B, L, D]`` -> ``(mu [B, z], logvar [B, z])``; see the module docstring.

    Args:
        in_channels: ``D``, features per frame.
        length: ``L``, frames per window (fixes the flatten size ``c4 * L'``).
        conv: widths ``(c1, c2, c3, c4)`` of the four conv layers.
        mlp: widths ``(h1, h2, h3)`` of the three linear layers.
        latent: ``z``, width of ``fc_mu`` and ``fc_logvar``.
        conv_slope: LeakyReLU negative slope after the convs (0.2 in both models).
        mlp_slope: LeakyReLU negative slope in the MLP (1.0 reproduces BEAT's linear MLP).
    """

    def __init__(
        self,
        in_channels: int,
        length: int,
        conv: tuple[int, int, int, int],
        mlp: tuple[int, int, int],
        latent: int,
        conv_slope: float = 0.2,
        mlp_slope: float = 0.2,
    ):
        super().__init__()
        check_length(length)
        c1, c2, c3, c4 = conv
        h1, h2, h3 = mlp
        self.length = length
        self.conv = nn.Sequential(
            nn.Conv1d(in_channels, c1, 3),
            nn.BatchNorm1d(c1),
            nn.LeakyReLU(conv_slope),
            nn.Conv1d(c1, c2, 3),
            nn.BatchNorm1d(c2),
            nn.LeakyReLU(conv_slope),
            nn.Conv1d(c2, c3, 4, stride=2),
            nn.BatchNorm1d(c3),
            nn.LeakyReLU(conv_slope),
            nn.Conv1d(c3, c4, 3),
        )
        self.mlp = nn.Sequential(
            nn.Linear(c4 * flat_length(length), h1),
            nn.BatchNorm1d(h1),
            nn.LeakyReLU(mlp_slope),
            nn.Linear(h1, h2),
            nn.BatchNorm1d(h2),
            nn.LeakyReLU(mlp_slope),
            nn.Linear(h2, h3),
        )
        self.fc_mu = nn.Linear(h3, latent)
        self.fc_logvar = nn.Linear(h3, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, L, D]`` -> ``(mu [B, z], logvar [B, z])``."""
        h = self.mlp(self.conv(x.transpose(1, 2)).flatten(1))
        return self.fc_mu(h), self.fc_logvar(h)

    def _head(self, flat: torch.Tensor, batch: int) -> torch.Tensor:
        """MLP + ``fc_mu`` on flattened conv features ``[N, c4 * L']`` in chunks of ``batch``."""
        outs = [self.fc_mu(self.mlp(flat[i : i + batch])) for i in range(0, len(flat), batch)]
        return torch.cat(outs) if outs else flat.new_zeros((0, self.fc_mu.out_features))

    def encode_sequence(self, x: torch.Tensor, stride: int, batch: int = 4096) -> torch.Tensor:
        """``mu [N, z]`` of every window of ``x [T, D]`` starting at ``0, stride, 2 stride, ..``.

        Must run in eval mode (BatchNorm with running statistics); the caller sees to it.
        Window ``s`` needs conv3 outputs at frames ``s + 2j``: the stride-2 conv3 started at
        frame ``s % 2``; conv3 and conv4 run once per phase present.
        """
        if self.training:
            raise RuntimeError("encode_sequence needs eval mode (BatchNorm running statistics)")
        length = self.length
        frames = x.shape[0]
        n = 0 if frames < length else (frames - length) // stride + 1
        if n == 0:
            return x.new_zeros((0, self.fc_mu.out_features))
        conv = self.conv
        h = conv[0:6](x.t().unsqueeze(0))  # [1, c2, T - 4]
        starts = torch.arange(n, device=x.device) * stride
        lp = flat_length(length)
        flat = x.new_empty((n, conv[9].out_channels * lp))
        offsets = torch.arange(lp, device=x.device)
        for phase in (0, 1):
            rows = torch.nonzero(starts % 2 == phase).flatten()
            if len(rows) == 0:
                continue
            # conv3 (stride 2) from frame ``phase`` on: only the outputs this phase's windows
            # read (an even stride such as FGD's 10 never needs phase 1).
            h3 = F.conv1d(h[:, :, phase:], conv[6].weight, conv[6].bias, stride=2)
            c4 = conv[9](conv[8](conv[7](h3)))[0]  # [c4, M]
            idx = (starts[rows] - phase).div(2, rounding_mode="floor")[:, None] + offsets
            flat[rows] = c4[:, idx].permute(1, 0, 2).flatten(1)  # [n_p, c4 * L']
        return self._head(flat, batch)


class WindowDecoder(nn.Module):
    """Latent ``[B, z]`` -> window ``[B, L, D]``, the mirror image of :class:`WindowEncoder`.

    Linear(z->h2) BN act -> Linear(h2->h1) BN act -> Linear(h1->c4 L') -> ConvT(c4->c3, k3)
    BN act -> ConvT(c3->c2, k4, s2) BN act -> ConvT(c2->c1, k3) BN act -> ConvT(c1->D, k3)
    (the FGD autoencoder's decoder). The stride-2 layer gets ``output_padding = (L - 8) % 2``
    so odd ``L`` come back to full length. Only the training loss uses it.
    """

    def __init__(
        self,
        out_channels: int,
        length: int,
        conv: tuple[int, int, int, int],
        mlp: tuple[int, int, int],
        latent: int,
        slope: float = 0.2,
    ):
        super().__init__()
        check_length(length)
        c1, c2, c3, c4 = conv
        h1, h2, _ = mlp
        self.shape = (c4, flat_length(length))
        self.mlp = nn.Sequential(
            nn.Linear(latent, h2),
            nn.BatchNorm1d(h2),
            nn.LeakyReLU(slope),
            nn.Linear(h2, h1),
            nn.BatchNorm1d(h1),
            nn.LeakyReLU(slope),
            nn.Linear(h1, c4 * flat_length(length)),
        )
        layers: list[nn.Module] = [
            nn.ConvTranspose1d(c4, c3, 3),
            nn.BatchNorm1d(c3),
            nn.LeakyReLU(slope),
            nn.ConvTranspose1d(c3, c2, 4, stride=2, output_padding=(length - 8) % 2),
            nn.BatchNorm1d(c2),
            nn.LeakyReLU(slope),
            nn.ConvTranspose1d(c2, c1, 3),
            nn.BatchNorm1d(c1),
            nn.LeakyReLU(slope),
            nn.ConvTranspose1d(c1, out_channels, 3),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z [B, latent]`` -> ``[B, L, D]``."""
        return self.conv(self.mlp(z).view(-1, *self.shape)).transpose(1, 2)


class WindowedModel(nn.Module):
    """What the FGD autoencoder and the face VAE share: an ``encoder`` (:class:`WindowEncoder`)
    over windows ``[B, length, width]``, and the eval-mode, no-grad encoding of windows or of
    whole sequences. Subclasses set ``length``, ``width`` and ``label`` (for error messages)."""

    length: int
    width: int
    label: str
    encoder: WindowEncoder

    def encode_windows(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Latent means ``[B, Z]`` of windows ``x [B, L, W]``."""
        with eval_mode(self):
            xt = as_tensor(x, self._device())
            self._check(xt.shape[1:], "windows [B, L, W]")
            self._check_finite(xt, "windows")
            return self.encoder(xt)[0]

    def encode_sequence(self, x: np.ndarray | torch.Tensor, stride: int) -> torch.Tensor:
        """``mu [N, Z]`` of the windows of ``x [T, W]`` at ``stride`` (N = (T-L)//stride+1)."""
        with eval_mode(self):
            xt = as_tensor(x, self._device())
            self._check((self.length, xt.shape[1]), "a sequence [T, W]")
            self._check_finite(xt, "sequence")
            return self.encoder.encode_sequence(xt, stride)

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _check_finite(self, x: torch.Tensor, what: str) -> None:
        # A NaN frame would poison every window that covers it: refuse it by name.
        if not bool(torch.isfinite(x).all()):
            require_finite(x.cpu().numpy(), f"{self.label} input {what}")

    def _check(self, shape: tuple[int, ...], what: str) -> None:
        if tuple(shape) != (self.length, self.width):
            raise ValueError(
                f"{self.label} expects {what} with L={self.length}, W={self.width}; "
                f"got trailing shape {tuple(shape)}"
            )
