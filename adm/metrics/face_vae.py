"""The face feature extractor for FD and WInD: SAiD's blendshape VAE (BCVAE), 51 channels.

SAiD's current BCVAE as metrics.md gives it, on windows of ``L`` frames of ARKit blendshape
weights ``[B, L, C]`` (C = 51):

- encoder (:class:`~adm.metrics.conv_window.WindowEncoder`): Conv1d(C->32, k3) BN LReLU(0.2),
  Conv1d(32->64, k3) BN LReLU(0.2), Conv1d(64->64, k4, s2) BN LReLU(0.2), Conv1d(64->32, k3);
  flatten; Linear(->256) BN LReLU(0.01), Linear(256->128) BN LReLU(0.01), Linear(128->64);
  ``fc_mu``/``fc_logvar`` (64->64). The conv widths 32/64/64/32 are fixed (they do not follow
  C); the MLP activations have PyTorch's default slope 0.01, the conv ones 0.2.
- decoder (:class:`FaceDecoder`): Linear(64->2L) BN LReLU(0.01), Linear(2L->4L), unflatten
  to ``[4, L]``, ConvT(4->32, k3) BN LReLU(0.2), ConvT(32->32, k3) BN LReLU(0.2),
  Conv1d(32->32, k3), Conv1d(32->C, k3), ReLU, Tanh: the two transposed convs grow the length
  to ``L + 4`` and the two convs bring it back to ``L``. The output lies in ``[0, 1)``, so
  inputs are the weights themselves (not z-normalised), as SAiD trains on raw coefficients.

SAiD uses windows of 120 frames at 60 fps; at 30 fps ``length`` is 60 or 120.

Training is a beta-VAE (beta = 1, lr 1e-4, SAiD's AdamW): the Gaussian ELBO with SAiD's
scaling, ``0.5 * sum((recon - x)^2) / B + beta * 0.5 * mean_B sum_z(mu^2 + e^logvar - logvar
- 1)``, decoding a reparametrised sample. Features for the metrics are ``mu``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from adm.metrics.conv_window import WindowedModel, WindowEncoder, check_length
from adm.metrics.fitting import Observer, Progress, Windows, resolve_steps, seeded
from adm.metrics.fitting import train_on_windows as _train
from adm.optim import adamw

CONV = (32, 64, 64, 32)
MLP = (256, 128, 64)
LATENT = 64
CONV_SLOPE = 0.2
MLP_SLOPE = 0.01  # PyTorch's default LeakyReLU slope, as SAiD writes nn.LeakyReLU()


class FaceDecoder(nn.Module):
    """SAiD's BCVAE decoder: latent ``[B, 64]`` -> window ``[B, L, C]`` (see the module
    docstring). Only the training loss uses it."""

    def __init__(self, channels: int, length: int, mlp_slope: float = MLP_SLOPE):
        super().__init__()
        self.length = length
        self.mlp = nn.Sequential(
            nn.Linear(LATENT, 2 * length),
            nn.BatchNorm1d(2 * length),
            nn.LeakyReLU(mlp_slope),
            nn.Linear(2 * length, 4 * length),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose1d(4, 32, 3),
            nn.BatchNorm1d(32),
            nn.LeakyReLU(CONV_SLOPE),
            nn.ConvTranspose1d(32, 32, 3),
            nn.BatchNorm1d(32),
            nn.LeakyReLU(CONV_SLOPE),
            nn.Conv1d(32, 32, 3),
            nn.Conv1d(32, channels, 3),
            nn.ReLU(),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z [B, 64]`` -> ``[B, L, C]``."""
        return self.conv(self.mlp(z).view(-1, 4, self.length)).transpose(1, 2)


class FaceVAE(WindowedModel):
    """SAiD's blendshape VAE for windows ``[B, length, channels]`` of weights in ``[0, 1]``.

    Args:
        channels: blendshape channels (51 ARKit weights in BEAT).
        length: window length ``L`` in frames.
        mlp_negative_slope: LeakyReLU slope of the encoder and decoder MLPs (SAiD: 0.01).
    """

    kind = "face_vae"

    def __init__(self, channels: int = 51, length: int = 60, mlp_negative_slope: float = MLP_SLOPE):
        super().__init__()
        check_length(length)
        self.channels = self.width = channels
        self.length = length
        self.label = "face VAE"
        self.mlp_negative_slope = mlp_negative_slope
        self.encoder = WindowEncoder(
            channels, length, CONV, MLP, LATENT, CONV_SLOPE, mlp_negative_slope
        )
        self.decoder = FaceDecoder(channels, length, mlp_negative_slope)

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
    mlp_negative_slope: float = MLP_SLOPE,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> FaceVAE:
    """Train a :class:`FaceVAE` on blendshape windows ``[N, L, C]`` (weights in ``[0, 1]``).

    ``L`` and ``C`` come from the windows; give exactly one of ``iterations`` or ``epochs``.
    Returns the model in eval mode on ``device``; per-step losses in ``model.train_losses``.
    """
    num, length, channels = train_windows.shape
    with seeded(seed):
        model = FaceVAE(channels, length, mlp_negative_slope).to(device)
    opt = adamw(model.parameters(), lr=lr)
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
        observe=observe,
    )
    return model
