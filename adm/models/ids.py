"""The value check every network's integer condition ids get (speaker, emotion).

Reading the values waits for the device on a GPU, so networks check ids once per sampling
call or dataset (their ``check_speakers``), never in ``forward``, which checks shapes only.
"""

from __future__ import annotations

from torch import Tensor


def check_ids(key: str, ids: Tensor, n: int) -> None:
    """Raise ValueError naming ``cond[key]`` unless every id is in ``[0, n)``."""
    values = ids.detach().cpu()
    if values.numel() and (int(values.min()) < 0 or int(values.max()) >= n):
        raise ValueError(f"cond[{key!r}]: ids must be in [0, {n}), got {values.tolist()}")
