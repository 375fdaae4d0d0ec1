"""Building blocks of the CaMN peer that keep padded frames out of valid frames' outputs.

A training window may end in padded frames (``mask`` False). Every block here computes, at the
valid frames, exactly what it would compute on the window cut to its valid frames:

- centred convolutions zero the padded frames before each convolution (as the zero padding of
  the cut window would be) and batch normalisation takes its statistics over valid frames only;
- the word TCN is causal: frame t sees frames <= t only;
- the bidirectional LSTM reverses each row within its own valid length for the backward
  direction, so the backward pass starts at the last valid frame. This is what
  ``pack_padded_sequence`` achieves, without copying the lengths to the host (packing needs
  them there: one device synchronisation per call).

Tensor layouts: conv blocks take ``x [B, C, T]`` and ``mask [B, 1, T]`` (float 1/0); the LSTM
takes ``x [B, T, D]`` and ``lengths [B]`` (long, on the device).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch normalisation over ``[B, C, T]`` whose training statistics count valid frames only
    (running statistics as :class:`torch.nn.BatchNorm1d`, unbiased variance, momentum)."""

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        if not self.training:
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        count = mask.sum().clamp_min(1.0)
        mean = (x * mask).sum(dim=(0, 2)) / count
        centred = x - mean[:, None]
        var = (centred.square() * mask).sum(dim=(0, 2)) / count
        with torch.no_grad():
            momentum = 0.1 if self.momentum is None else self.momentum
            self.running_mean.lerp_(mean, momentum)
            self.running_var.lerp_(var * count / (count - 1.0).clamp_min(1.0), momentum)
            self.num_batches_tracked.add_(1)
        return (
            centred * torch.rsqrt(var[:, None] + self.eps) * self.weight[:, None]
            + self.bias[:, None]
        )


class MaskedConvNorm(nn.Module):
    """Centred ``Conv1d`` (odd kernel, 'same' length) followed by :class:`MaskedBatchNorm1d`;
    padded input frames are zeroed first."""

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, padding=kernel // 2)
        self.norm = MaskedBatchNorm1d(cout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return self.norm(self.conv(x * mask), mask)


class ResidualConvBlock(nn.Module):
    """CaMN's residual conv block: conv-norm-LeakyReLU, conv-norm, plus the input (through a
    conv-norm projection when widths differ or ``project``), LeakyReLU. ``[B, cin, T]`` ->
    ``[B, cout, T]``, zero at padded frames."""

    def __init__(self, cin: int, cout: int, kernel: int, project: bool = False):
        super().__init__()
        self.first = MaskedConvNorm(cin, cout, kernel)
        self.second = MaskedConvNorm(cout, cout, kernel)
        self.shortcut = MaskedConvNorm(cin, cout, kernel) if project or cin != cout else None

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = F.leaky_relu(self.first(x, mask))
        h = self.second(h, mask)
        skip = x if self.shortcut is None else self.shortcut(x, mask)
        return F.leaky_relu(h + skip) * mask


class ConvStack(nn.Module):
    """A sequence of mask-aware conv blocks, ``[B, T, cin]`` -> ``[B, T, cout]``."""

    def __init__(self, blocks: list[nn.Module]):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = x.transpose(1, 2)
        for block in self.blocks:
            h = block(h, mask)
        return h.transpose(1, 2)


class ConvNormAct(nn.Module):
    """Conv-norm-LeakyReLU(0.3), zero at padded frames (CaMN's emotion tail layers)."""

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__()
        self.layer = MaskedConvNorm(cin, cout, kernel)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return F.leaky_relu(self.layer(x, mask), 0.3) * mask


class CausalBlock(nn.Module):
    """One TCN level: two weight-normalised causal dilated convs with ReLU and dropout, plus a
    residual (1x1 conv when widths differ). ``[B, cin, T]`` -> ``[B, cout, T]``."""

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.left = (kernel - 1) * dilation  # past frames each output frame sees
        self.conv1 = weight_norm(nn.Conv1d(cin, cout, kernel, dilation=dilation))
        self.conv2 = weight_norm(nn.Conv1d(cout, cout, kernel, dilation=dilation))
        self.drop = nn.Dropout(dropout)
        self.residual = nn.Conv1d(cin, cout, 1) if cin != cout else None
        if self.residual is not None:
            nn.init.normal_(self.residual.weight, 0.0, 0.01)

    def forward(self, x: Tensor) -> Tensor:
        h = self.drop(F.relu(self.conv1(F.pad(x, (self.left, 0)))))
        h = self.drop(F.relu(self.conv2(F.pad(h, (self.left, 0)))))
        return F.relu(h + (x if self.residual is None else self.residual(x)))


class WordTCN(nn.Module):
    """CaMN's text encoder over per-frame word vectors: a learned projection (standing in for
    its fastText-initialised embedding), dropout, a causal TCN with dilations 1, 2, 4, ... and a
    linear output layer. ``[B, T, text_dim]`` -> ``[B, T, word_f]``."""

    def __init__(
        self,
        text_dim: int,
        word_dims: int,
        hidden: int,
        layers: int,
        kernel: int,
        out: int,
        dropout: float,
        embed_dropout: float,
    ):
        super().__init__()
        self.embed = nn.Linear(text_dim, word_dims)
        self.embed_drop = nn.Dropout(embed_dropout)
        widths = [word_dims] + [hidden] * layers
        self.levels = nn.Sequential(
            *(CausalBlock(widths[i], widths[i + 1], kernel, 2**i, dropout) for i in range(layers))
        )
        self.decoder = nn.Linear(hidden, out)
        nn.init.normal_(self.decoder.weight, 0.0, 0.01)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, text: Tensor) -> Tensor:
        h = self.embed_drop(self.embed(text))
        return self.decoder(self.levels(h.transpose(1, 2)).transpose(1, 2))


def reverse_valid(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each row's first ``lengths[b]`` frames in time, leaving later frames in place.

    ``x [B, T, D]``, ``lengths [B]`` long; an involution (applying it twice gives ``x``)."""
    t = torch.arange(x.shape[1], device=x.device)
    last = lengths[:, None] - 1
    index = torch.where(t[None, :] <= last, last - t[None, :], t[None, :])
    return x.gather(1, index[..., None].expand(-1, -1, x.shape[2]))


class MaskedBiLSTM(nn.Module):
    """A multi-layer bidirectional LSTM whose two directions are summed at the output, as in
    CaMN; between layers the directions are concatenated and dropout applied (as
    :class:`torch.nn.LSTM`). Valid frames' outputs equal those of a packed sequence of each
    row's valid length. ``[B, T, input]`` -> ``[B, T, hidden]``."""

    def __init__(self, input_size: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        sizes = [input_size] + [2 * hidden] * (layers - 1)
        self.forward_layers = nn.ModuleList(nn.LSTM(s, hidden, batch_first=True) for s in sizes)
        self.backward_layers = nn.ModuleList(nn.LSTM(s, hidden, batch_first=True) for s in sizes)
        self.drop = nn.Dropout(dropout)
        self.input_size = input_size

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        h, directions = x, []
        for fwd, bwd in zip(self.forward_layers, self.backward_layers, strict=True):
            if directions:  # a layer below: its two directions, concatenated, with dropout
                h = self.drop(torch.cat(directions, dim=-1))
            ahead, _ = fwd(h)
            behind, _ = bwd(reverse_valid(h, lengths))
            directions = [ahead, reverse_valid(behind, lengths)]
        return directions[0] + directions[1]
