"""The FGD feature extractor: BEAT/CaMN's motion autoencoder, retrained on our gestures.

metrics.md gives every layer (see :mod:`adm.metrics.conv_window`): on a window of ``L``
normalised frames ``[B, L, D]`` (D = 141 axis-angle dims) the encoder's ``mu [B, 300]`` is the
feature for FGD and for ``diversity``. BEAT writes the two MLP activations as
``LeakyReLU(True)``, i.e. negative slope 1.0, which makes the MLP linear; the field's FGD is
computed with that network, so ``mlp_negative_slope=1.0`` is the default and 0.2 the option.

Training (BEAT, Yoon et al. 2020 with ``variational_encoding=False``): the decoder reconstructs
the window from ``mu`` and the loss is ``L1(recon, x) + 0.1 * MSE(vel(recon), vel(x))`` with
``vel(x) = x[:, 1:] - x[:, :-1]``; Adam(0.5, 0.999), lr 1.2e-4, batch 256, windows of ``L``
with stride 10 from the train split. ``fc_logvar`` is kept for the layer layout but unused.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from adm.metrics.conv_window import WindowDecoder, WindowedModel, WindowEncoder
from adm.metrics.fitting import Observer, Progress, Windows, resolve_steps, seeded
from adm.metrics.fitting import train_on_windows as _train
from adm.optim import adam

CONV = (300, 600, 600, 300)
MLP = (1200, 600, 300)
LATENT = 300


class MotionAutoencoder(WindowedModel):
    """BEAT's FGD autoencoder for windows ``[B, length, dim]``.

    Args:
        dim: features per frame (141 for the 47 gesture joints in axis-angle).
        length: window length ``L`` (34 in BEAT at 15 fps; configured at 30 fps).
        mlp_negative_slope: LeakyReLU slope of the encoder MLP; 1.0 is BEAT's (linear) quirk.
    """

    kind = "motion_autoencoder"

    def __init__(self, dim: int = 141, length: int = 34, mlp_negative_slope: float = 1.0):
        super().__init__()
        self.dim = self.width = dim
        self.length = length
        self.label = "motion autoencoder"
        self.mlp_negative_slope = mlp_negative_slope
        self.encoder = WindowEncoder(dim, length, CONV, MLP, LATENT, 0.2, mlp_negative_slope)
        self.decoder = WindowDecoder(dim, length, CONV, MLP, LATENT)

    def config(self) -> dict:
        """Constructor arguments, stored in the checkpoint metadata."""
        return {
            "dim": self.dim,
            "length": self.length,
            "mlp_negative_slope": self.mlp_negative_slope,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``[B, L, D]`` of ``x [B, L, D]`` through ``mu``."""
        mu, _ = self.encoder(x)
        return self.decoder(mu)

    def encode(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Features ``mu [B, 300]`` of windows ``x [B, L, D]`` (eval mode, no grad)."""
        return self.encode_windows(x)

    def encode_sequence(self, x: np.ndarray | torch.Tensor, stride: int = 10) -> torch.Tensor:
        """``mu [N, 300]`` of the windows of ``x [T, D]`` at ``stride`` (N = (T-L)//stride+1)."""
        return super().encode_sequence(x, stride)


def motion_autoencoder_loss(
    model: MotionAutoencoder, x: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``L1(recon, x) + 0.1 * MSE(vel(recon), vel(x))`` for windows ``x [B, L, D]``."""
    recon = model(x)
    vel_loss = F.mse_loss(recon[:, 1:] - recon[:, :-1], x[:, 1:] - x[:, :-1])
    return F.l1_loss(recon, x) + 0.1 * vel_loss


def fit_motion_autoencoder(
    train_windows: Windows,
    *,
    iterations: int | None = None,
    epochs: int | None = None,
    batch: int = 256,
    lr: float = 1.2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    mlp_negative_slope: float = 1.0,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> MotionAutoencoder:
    """Train a :class:`MotionAutoencoder` on normalised windows ``[N, L, D]``.

    ``L`` and ``D`` come from the windows. Give exactly one of ``iterations`` (optimiser steps)
    or ``epochs``. Returns the model in eval mode on ``device``; its per-step losses are in
    ``model.train_losses``.
    """
    num, length, dim = train_windows.shape
    with seeded(seed):
        model = MotionAutoencoder(dim, length, mlp_negative_slope).to(device)
    opt = adam(model.parameters(), lr=lr, betas=betas)
    steps = resolve_steps(num, batch, iterations, epochs)
    model.train_losses = _train(
        model,
        train_windows,
        motion_autoencoder_loss,
        opt,
        steps=steps,
        batch=batch,
        seed=seed,
        device=device,
        progress=progress,
        observe=observe,
    )
    return model
