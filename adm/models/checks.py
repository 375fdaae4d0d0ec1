"""Input checks the networks share: shapes and dtypes of ``x_t``, ``t`` and ``cond`` entries,
each failure a ``ValueError`` that names the entry, what was expected and what came.

They read tensor metadata only, never values, so a forward pass that runs them never waits for
the device (the speaker ids' range is :func:`adm.models.ids.check_ids`, once per sampling call).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor


def _shape(value: Tensor | None) -> list[int] | None:
    return None if value is None else list(value.shape)


def check_noisy_input(x_t: Tensor, t: Tensor, x_dim: int, tasks) -> tuple[int, int]:
    """``x_t`` ``[B, T, x_dim]`` and ``t`` ``[B]``; returns ``(B, T)``."""
    if x_t.dim() != 3 or x_t.shape[-1] != x_dim:
        raise ValueError(
            f"x_t: expected [B, T, {x_dim}] for tasks {list(tasks)}, got {list(x_t.shape)}"
        )
    b, length = x_t.shape[:2]
    if t.shape != (b,):
        raise ValueError(f"t: expected shape [{b}], got {list(t.shape)}")
    return b, length


def check_audio(cond: Mapping[str, Tensor], audio_dim: int) -> tuple[int, int]:
    """``cond["audio"]`` ``[B, T, audio_dim]`` of a network without ``x_t`` (a regression
    network: the audio sets the window); returns ``(B, T)``."""
    audio = cond.get("audio")
    if audio is None or audio.dim() != 3 or audio.shape[-1] != audio_dim:
        raise ValueError(f"cond['audio']: expected [B, T, {audio_dim}], got {_shape(audio)}")
    return audio.shape[0], audio.shape[1]


def check_features(cond: Mapping[str, Tensor], key: str, b: int, length: int, width: int) -> None:
    """``cond[key]`` ``[B, T, width]``; absent is allowed only when ``width`` is 0."""
    value = cond.get(key)
    if value is None:
        if width > 0:
            raise ValueError(f"cond[{key!r}]: missing; the model expects {width} dims")
        return
    if tuple(value.shape) != (b, length, width):
        raise ValueError(f"cond[{key!r}]: expected [{b}, {length}, {width}], got {_shape(value)}")


def check_speaker(cond: Mapping[str, Tensor], b: int) -> None:
    """``cond["speaker"]`` ``[B]``."""
    speaker = cond.get("speaker")
    if speaker is None or tuple(speaker.shape) != (b,):
        raise ValueError(f"cond['speaker']: expected shape [{b}], got {_shape(speaker)}")


def check_seed(
    cond: Mapping[str, Tensor], b: int, length: int, seed_frames: int, x_dim: int, frames: str
) -> None:
    """``cond["seed"]`` ``[B, S, x_dim]`` and a window of at least S frames (``frames`` names
    the entry that carries the window's length, e.g. ``"x_t"``); nothing when S is 0."""
    if seed_frames <= 0:
        return
    seed = cond.get("seed")
    expected = (b, seed_frames, x_dim)
    if seed is None or tuple(seed.shape) != expected:
        raise ValueError(f"cond['seed']: expected {list(expected)}, got {_shape(seed)}")
    if length < seed_frames:
        raise ValueError(f"{frames}: {length} frames, fewer than the {seed_frames} seed")


def check_bool_masks(cond: Mapping[str, Tensor], shapes: Mapping[str, tuple[int, ...]]) -> None:
    """Each optional ``cond[key]`` of ``shapes`` is a bool tensor of that shape when present
    (``mask`` ``[B, T]``: True on real frames; ``drop_speaker`` ``[B]``)."""
    for key, shape in shapes.items():
        value = cond.get(key)
        if value is not None and (value.dtype != torch.bool or tuple(value.shape) != shape):
            raise ValueError(
                f"cond[{key!r}]: expected bool {list(shape)}, got {value.dtype} {list(value.shape)}"
            )
