"""WavLM block of the audio condition (WavLM-Large last layer: 1024 dims, method.md).

WavLM (Chen et al., 2022) through ``transformers.WavLMModel``. The waveform is normalised as
WavLM-Large's feature extractor does (zero mean, unit variance; here per chunk, since each
chunk is one forward pass). Long audio runs in chunks that overlap; each chunk keeps the
frames nearest its own centre, so every kept frame has at least half the overlap of context on
both sides and chunk seams do not show.

Frame times are exact. The convolutional front end (kernels 10,3,3,3,3,2,2; strides
5,2,2,2,2,2,2 for WavLM-Large) has no padding, a receptive field of ``R = 400`` samples and a
stride of ``S = 320`` samples (50 Hz at 16 kHz): output frame ``k`` sees samples
``[k S, k S + R)`` and is centred at ``(k S + (R - 1) / 2) / sr`` seconds. Chunks start on
multiples of ``S`` so that their frame grids coincide with the whole clip's.

The device is found at run time: CUDA in half precision when available, else float32 on CPU.
Nothing is downloaded unless ``allow_download`` is set.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adm.errors import ConfigError, MissingWeightsError

if TYPE_CHECKING:
    import torch
    from transformers import WavLMModel

log = logging.getLogger("adm.features.wavlm")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def how_to_get_weights(spec: str) -> str:
    """The instructions a :class:`MissingWeightsError` for ``spec`` carries."""
    repo = spec if _HUB_ID.match(spec) and not Path(spec).exists() else "microsoft/wavlm-large"
    return (
        f"get them on a machine with network access with `hf download {repo}` "
        f"(older hubs: `huggingface-cli download {repo}`), which fills the Hugging Face cache "
        "(~/.cache/huggingface/hub, or $HF_HOME/hub; copy it here); or save a local copy with "
        f"`WavLMModel.from_pretrained('{repo}').save_pretrained('<folder>')` and set "
        "features.audio.wavlm to that folder; or set features.audio.allow_download: true to let "
        "this run download them; or set features.audio.wavlm: none to compute the audio "
        "features without WavLM"
    )


def load_wavlm(spec: str, allow_download: bool = False) -> WavLMModel:
    """Load a WavLM model from a local folder or the local Hugging Face cache, in eval mode.

    Args:
        spec: a folder written by ``save_pretrained``, or a hub id such as
            ``"microsoft/wavlm-large"`` (looked up in the local cache).
        allow_download: pass ``local_files_only=False`` to ``from_pretrained``.

    Raises:
        MissingWeightsError: the folder or the cached weights do not exist; the message says
            how to get them.
    """
    path = Path(spec).expanduser()
    if path.is_dir():
        source = str(path)
    elif _HUB_ID.match(spec):
        source = spec
    else:
        raise MissingWeightsError(f"{spec}: no such WavLM folder; {how_to_get_weights(spec)}")
    from transformers import WavLMModel  # imported late: it is slow and often not needed

    try:
        model = WavLMModel.from_pretrained(source, local_files_only=not allow_download)
    except (OSError, ValueError) as err:
        where = "folder" if path.is_dir() else "model (not in the local Hugging Face cache)"
        raise MissingWeightsError(
            f"{spec}: WavLM {where} could not be loaded ({str(err).splitlines()[0]}); "
            f"{how_to_get_weights(spec)}"
        ) from None
    return model.eval()


def conv_geometry(kernels: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, int]:
    """Receptive field ``R`` and total stride ``S`` (samples) of an unpadded conv stack.

    ``R = 1 + sum_l (k_l - 1) prod_{m<l} s_m`` and ``S = prod_l s_l``.
    """
    field, jump = 1, 1
    for k, s in zip(kernels, strides, strict=True):
        field += (k - 1) * jump
        jump *= s
    return field, jump


def frame_centres(num_frames: int, field: int, stride: int, sample_rate: int) -> np.ndarray:
    """Centre times ``[F]`` in seconds of the conv front end's frames."""
    return (np.arange(num_frames) * stride + (field - 1) / 2.0) / sample_rate


def num_output_frames(num_samples: int, field: int, stride: int) -> int:
    """Frames the conv front end makes from ``num_samples`` samples (``>= field``)."""
    return (num_samples - field) // stride + 1


@dataclass(frozen=True)
class Chunk:
    """One forward pass's slice of audio and the global frames it contributes.

    Attributes:
        start: first sample (a multiple of the stride).
        stop: one past the last sample.
        keep: ``(lo, hi)`` global frame indices taken from this chunk.
    """

    start: int
    stop: int
    keep: tuple[int, int]


def plan_chunks(num_samples: int, chunk: int, overlap: int, field: int, stride: int) -> list[Chunk]:
    """Split ``num_samples`` (``>= field``) into overlapping chunks and assign frames.

    ``chunk`` and ``overlap`` (samples) are rounded to multiples of ``stride``; the overlap is
    raised to at least ``ceil(field / stride) * stride`` so that no frame straddles a seam
    unseen. Consecutive chunks split their shared frames at the midpoint.
    """
    min_overlap = math.ceil(field / stride) * stride
    overlap = max(overlap // stride * stride, min_overlap)
    chunk = max(chunk // stride * stride, overlap + stride)
    step = chunk - overlap
    starts = [0]
    while starts[-1] + chunk < num_samples:
        starts.append(starts[-1] + step)
    stops = [min(s + chunk, num_samples) for s in starts]
    first = [s // stride for s in starts]
    ends = [
        f + num_output_frames(e - s, field, stride)
        for f, s, e in zip(first, starts, stops, strict=True)
    ]
    bounds = [0] + [(first[i + 1] + ends[i]) // 2 for i in range(len(starts) - 1)] + [ends[-1]]
    return [
        Chunk(s, e, (bounds[i], bounds[i + 1]))
        for i, (s, e) in enumerate(zip(starts, stops, strict=True))
    ]


def normalise(chunk: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance, as ``Wav2Vec2FeatureExtractor(do_normalize=True)``."""
    x = chunk.astype(np.float64)
    return ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)


def resolve_layer(layer: int, num_layers: int) -> int:
    """Map ``wavlm_layer`` to ``0..L`` (``-1`` -> ``L``, the final output)."""
    index = layer if layer >= 0 else num_layers + 1 + layer
    if not 0 <= index <= num_layers:
        raise ConfigError(
            f"features.audio.wavlm_layer: {layer} is out of range for a model with "
            f"{num_layers} layers (use -{num_layers + 1}..{num_layers})"
        )
    return index


def pick_device() -> tuple[torch.device, torch.dtype]:
    """CUDA in float16 when present, else CPU in float32."""
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda"), torch.float16
    return torch.device("cpu"), torch.float32


class WavLMFeatures:
    """Runs a WavLM model over a waveform in overlapping, batched chunks.

    Args:
        model: a ``WavLMModel`` (moved to the run-time device and precision here).
        layer: ``wavlm_layer`` (see :func:`resolve_layer`).
        sample_rate: the waveform's rate (WavLM expects 16 kHz).
        chunk_seconds, overlap_seconds, batch: chunking (see :func:`plan_chunks`).
    """

    def __init__(
        self,
        model: WavLMModel,
        layer: int = -1,
        sample_rate: int = 16000,
        chunk_seconds: float = 20.0,
        overlap_seconds: float = 2.0,
        batch: int = 4,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ):
        if device is None or dtype is None:
            device, dtype = pick_device()
        self.device, self.dtype = device, dtype
        self.model = model.to(device=device, dtype=dtype).eval()
        cfg = model.config
        self.field, self.stride = conv_geometry(tuple(cfg.conv_kernel), tuple(cfg.conv_stride))
        self.layer = resolve_layer(layer, cfg.num_hidden_layers)
        self.num_layers = cfg.num_hidden_layers
        self.width = int(cfg.hidden_size)
        self.sample_rate = sample_rate
        self.chunk = int(round(chunk_seconds * sample_rate))
        self.overlap = int(round(overlap_seconds * sample_rate))
        self.batch = batch

    def _forward(self, chunks: list[np.ndarray]) -> np.ndarray:
        """Hidden states ``[B, F_chunk, H]`` of equal-length normalised chunks ``[B, N]``."""
        import torch

        x = torch.from_numpy(np.stack(chunks)).to(device=self.device, dtype=self.dtype)
        with torch.inference_mode():
            if self.layer == self.num_layers:
                hidden = self.model(x).last_hidden_state
            else:
                hidden = self.model(x, output_hidden_states=True).hidden_states[self.layer]
        return hidden.float().cpu().numpy()

    def __call__(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features of ``audio`` ``[N]`` float32.

        Returns:
            ``(features [F, H] float32, times [F] seconds)`` with ``F = (N - R) // S + 1``
            (audio shorter than one receptive field is zero-padded to it: one frame).
        """
        audio = np.asarray(audio, dtype=np.float32)
        if len(audio) < self.field:
            audio = np.concatenate([audio, np.zeros(self.field - len(audio), np.float32)])
        plan = plan_chunks(len(audio), self.chunk, self.overlap, self.field, self.stride)
        total = plan[-1].keep[1]
        out = np.zeros((total, self.width), dtype=np.float32)
        # Equal-length chunks share a batch (all but possibly the last): no padding, no mask.
        groups: dict[int, list[Chunk]] = {}
        for c in plan:
            groups.setdefault(c.stop - c.start, []).append(c)
        for members in groups.values():
            for i in range(0, len(members), self.batch):
                part = members[i : i + self.batch]
                hidden = self._forward([normalise(audio[c.start : c.stop]) for c in part])
                for c, h in zip(part, hidden, strict=True):
                    lo, hi = c.keep
                    first = c.start // self.stride
                    out[lo:hi] = h[lo - first : hi - first]
        times = frame_centres(total, self.field, self.stride, self.sample_rate)
        return out, times
