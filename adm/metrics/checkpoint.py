"""Metric-model checkpoints: safetensors weights with the model config in the metadata.

A checkpoint carries everything needed to rebuild its model (nanoGPT's habit), and loading
unpickles nothing. Metadata keys: ``format`` (``adm.metrics/1``), ``kind``
(``motion_autoencoder`` or ``face_vae``), ``config`` (JSON constructor arguments) and
``extra`` (JSON, e.g. training steps and final loss, for the record), and the digest of the
tensors (:mod:`adm.io.tensors`), checked on loading so that a damaged file is an error.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from adm.errors import BadInputError, MissingWeightsError
from adm.io.tensors import load_tensors, read_tensor_metadata, save_tensors
from adm.metrics.face_vae import FaceVAE
from adm.metrics.motion_autoencoder import MotionAutoencoder

FORMAT = "adm.metrics/1"
KINDS: dict[str, type[nn.Module]] = {
    MotionAutoencoder.kind: MotionAutoencoder,
    FaceVAE.kind: FaceVAE,
}


def save_metric_model(path: str | Path, model: nn.Module, extra: dict | None = None) -> None:
    """Write ``model`` (a :class:`MotionAutoencoder` or :class:`FaceVAE`) atomically."""
    kind = getattr(model, "kind", None)
    if kind not in KINDS:
        raise TypeError(f"not a metric model: {type(model).__name__}")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "kind": kind,
        "config": json.dumps(model.config(), sort_keys=True),
        "extra": json.dumps(extra or {}, sort_keys=True),
    }
    save_tensors(path, tensors, metadata)


def read_metadata(path: str | Path) -> dict:
    """The checkpoint's metadata with ``config`` and ``extra`` decoded from JSON."""
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(
            f"{path}: metric model checkpoint not found; train it with the metric-model stage"
        )
    meta: dict = read_tensor_metadata(path)
    if meta.get("format") != FORMAT:
        raise BadInputError(path, f"metadata format is {meta.get('format')!r}, expected {FORMAT}")
    try:
        meta["config"] = json.loads(meta["config"])
        meta["extra"] = json.loads(meta.get("extra", "{}"))
    except (KeyError, json.JSONDecodeError) as err:
        raise BadInputError(path, f"metadata 'config' missing or not JSON ({err})") from err
    return meta


def load_metric_model(
    path: str | Path, kind: str | None = None, device: torch.device | str = "cpu"
) -> nn.Module:
    """Rebuild a metric model from ``path`` (config from the metadata), in eval mode.

    Args:
        kind: when given, the checkpoint must hold that kind of model.

    Raises:
        MissingWeightsError: no file at ``path``.
        BadInputError: not a metric checkpoint, the wrong kind, or weights that do not fit.
    """
    meta = read_metadata(path)
    found = meta.get("kind")
    if found not in KINDS:
        raise BadInputError(path, f"unknown metric model kind {found!r}; known: {sorted(KINDS)}")
    if kind is not None and found != kind:
        raise BadInputError(path, f"holds a {found}, expected a {kind}")
    try:
        model = KINDS[found](**meta["config"])
    except TypeError as err:
        raise BadInputError(path, f"config {meta['config']} does not fit {found}: {err}") from err
    state, _ = load_tensors(path)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise BadInputError(path, f"weights do not match the {found} config: {err}") from err
    return model.to(device).eval()


def load_motion_autoencoder(
    path: str | Path, device: torch.device | str = "cpu"
) -> MotionAutoencoder:
    """Load the FGD autoencoder saved by :func:`save_metric_model`."""
    model = load_metric_model(path, MotionAutoencoder.kind, device)
    assert isinstance(model, MotionAutoencoder)
    return model


def load_face_vae(path: str | Path, device: torch.device | str = "cpu") -> FaceVAE:
    """Load the face VAE saved by :func:`save_metric_model`."""
    model = load_metric_model(path, FaceVAE.kind, device)
    assert isinstance(model, FaceVAE)
    return model
