"""The face feature extractor for FD and WInD: SAiD's blendshape VAE (BCVAE), 51 channels.

metrics.md gives the encoder (see :mod:`adm.metrics.conv_window`): on a window of ``L``
frames of ARKit blendshape weights ``[B, L, 51]``: Conv1d(C->C, k3), Conv1d(C->64, k3),
Conv1d(64->64, k4, s2), Conv1d(64->32, k3), each but the last followed by BatchNorm and
LeakyReLU(0.2); flatten; Linear(->256), Linear(256->128) with BatchNorm and LeakyReLU;
Linear(128->64); ``fc_mu``/``fc_logvar`` (64->64). The decoder mirrors it and ends in Tanh,
so inputs are the weights themselves in ``[0, 1]`` (not z-normalised), as SAiD trains on raw
coefficients. SAiD uses windows of 120 frames at 60 fps; at 30 fps ``length`` is 60 or 120.

Training is a beta-VAE (beta = 1, lr 1e-4, SAiD's AdamW): the Gaussian ELBO with SAiD's
scaling, ``0.5 * sum((recon - x)^2) / B + beta * 0.5 * mean_B sum_z(mu^2 + e^logvar - logvar
- 1)``, decoding a reparametrised sample. Features for the metrics are ``mu``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from adm.metrics.conv_window import WindowDecoder, WindowedModel, WindowEncoder
from adm.metrics.fitting import Progress, Windows, resolve_steps, seeded
from adm.metrics.fitting import train_on_windows as _train

MLP = (256, 128, 64)
LATENT = 64


def _conv(channels: int) -> tuple[int, int, int, int]:
    return (channels, 64, 64, 32)


class FaceVAE(WindowedModel):
    """SAiD's blendshape VAE for windows ``[B, length, channels]`` of weights in ``[0, 1]``.

    Args:
        channels: blendshape channels (51 ARKit weights in BEAT).
        length: window length ``L`` in frames.
        mlp_negative_slope: LeakyReLU slope of the encoder MLP (0.2, as the convs).
    """

    kind = "face_vae"

    def __init__(self, channels: int = 51, length: int = 60, mlp_negative_slope: float = 0.2):
        super().__init__()
        self.channels = self.width = channels
        self.length = length
        self.label = "face VAE"
        self.mlp_negative_slope = mlp_negative_slope
        conv = _conv(channels)
        self.encoder = WindowEncoder(channels, length, conv, MLP, LATENT, 0.2, mlp_negative_slope)
        self.decoder = WindowDecoder(channels, length, conv, MLP, LATENT, tanh=True)

    def config(self) -> dict:
        """Constructor arguments, stored in the checkpoint metadata."""
        return {
            "channels": self.channels,
            "length": self.length,
            "mlp_negative_slope": self.mlp_negative_slope,
        }

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None, sample: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x [B, L, C]`` -> ``(recon [B, L, C], mu [B, 64], logvar [B, 64])``.

        With ``sample`` the decoder sees ``mu + exp(logvar / 2) * eps`` (reparametrisation),
        else ``mu``.
        """
        mu, logvar = self.encoder(x)
        z = mu
        if sample:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mu, logvar

    def encode_mu(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Latent means ``[B, 64]`` of windows ``x [B, L, C]`` (eval mode, no grad)."""
        return self.encode_windows(x)

    def encode_sequence(self, x: np.ndarray | torch.Tensor, stride: int = 1) -> torch.Tensor:
        """``mu [N, 64]`` of every window of ``x [T, C]`` at ``stride`` (metrics.md: 1)."""
        return super().encode_sequence(x, stride)


def face_vae_losses(
    model: FaceVAE, x: torch.Tensor, generator: torch.Generator | None = None, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, reconstruction, kl)`` of the beta-VAE ELBO for windows ``x [B, L, C]``."""
    recon, mu, logvar = model(x, generator)
    batch = x.shape[0]
    rec = 0.5 * (recon - x).pow(2).sum() / batch
    kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1).mean()
    return rec + beta * kl, rec, kl


def fit_face_vae(
    train_windows: Windows,
    *,
    iterations: int | None = None,
    epochs: int | None = None,
    batch: int = 128,
    lr: float = 1e-4,
    beta: float = 1.0,
    mlp_negative_slope: float = 0.2,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> FaceVAE:
    """Train a :class:`FaceVAE` on blendshape windows ``[N, L, C]`` (weights in ``[0, 1]``).

    ``L`` and ``C`` come from the windows; give exactly one of ``iterations`` or ``epochs``.
    Returns the model in eval mode on ``device``; per-step losses in ``model.train_losses``.
    """
    num, length, channels = train_windows.shape
    with seeded(seed):
        model = FaceVAE(channels, length, mlp_negative_slope).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    steps = resolve_steps(num, batch, iterations, epochs)

    def loss_fn(m: nn.Module, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return face_vae_losses(m, x, gen, beta)[0]

    model.train_losses = _train(
        model,
        train_windows,
        loss_fn,
        opt,
        steps=steps,
        batch=batch,
        seed=seed,
        device=device,
        progress=progress,
    )
    return model
