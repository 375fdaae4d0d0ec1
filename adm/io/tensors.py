"""safetensors files that carry a digest of their tensor data, checked whenever they are read.

Every weights file adm writes (training checkpoints, the final model and EMA weights, the
metric models) goes through :func:`save_tensors`, which stores the SHA-256 of the tensors
(names, dtypes, shapes and bytes, in name order) under the metadata key ``tensors_sha256``.
:func:`load_tensors` recomputes it: a bit flipped on disk or in transfer is an error naming the
file, never a model that samples from damaged weights. safetensors itself checks only the
header, so a flip inside the data would otherwise go unnoticed.

Files without the key (written by other tools) load with a warning that their integrity cannot
be checked.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from adm.errors import BadInputError
from adm.io.atomic import atomic_path

log = logging.getLogger("adm.io")

DIGEST_KEY = "tensors_sha256"


def tensors_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 (hex) of every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        if tensor.numel():
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def save_tensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str]
) -> None:
    """Write ``tensors`` (CPU, contiguous) and ``metadata`` (strings) atomically, with the
    digest of the tensors added to the metadata.

    Raises:
        WriteError: the system refused the write (disk full, ...); nothing is left behind.
    """
    tensors = dict(tensors)
    meta = {**dict(metadata), DIGEST_KEY: tensors_digest(tensors)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def _unreadable(path: Path, err: BaseException) -> BadInputError:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return BadInputError(path, f"not a readable safetensors file ({text})")


def read_tensor_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a safetensors file, without reading its tensors.

    Raises:
        BadInputError: missing, or not a readable safetensors file.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise _unreadable(path, err) from None


def load_tensors(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file, its digest checked.

    Raises:
        BadInputError: missing, unreadable, or its tensor data differ from the digest stored
            when it was written (the file is damaged).
    """
    path = Path(path)
    metadata = read_tensor_metadata(path)
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise _unreadable(path, err) from None
    stored = metadata.get(DIGEST_KEY)
    if stored is None:
        log.warning("%s: no %s in its metadata; its integrity cannot be checked", path, DIGEST_KEY)
    elif tensors_digest(tensors) != stored:
        raise BadInputError(
            path,
            "damaged: the tensor data differ from the digest stored when it was written "
            "(a flipped bit or a partial copy); write it again (rerun the stage that made it)",
        )
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return tensors, metadata
