"""Streaming generation: audio in chunks, motion out as soon as a window can be generated.

The model generates ``W``-frame windows (150 at 30 fps) that overlap by its ``S`` seed frames
(30), as :mod:`adm.sampling.windows` describes: window ``k`` starts at ``k * hop``
(``hop = W - S``), is seeded with the previous window's last ``S`` generated frames (the
first with the train mean pose, zeros in normalised units: a user's recording has no ground
truth to start from), and the overlap is crossfaded. Each window draws its noise, in order, from
one generator seeded from ``(seed, "generate")``.

Window ``k``'s conditions are computed from the audio of frames ``[k hop - L, k hop + W + R)``
only (:data:`CONTEXT_LEFT_S`, :data:`CONTEXT_RIGHT_S`; clipped to the recording), so a window
can be generated once ``R`` seconds of audio past its end have arrived, and it is computed the
same way whether the audio came in one piece or in many. :class:`MotionStream` is the single
engine of both the ``generate`` command (the whole recording pushed at once) and the streaming
API, so a stream yields exactly the command's motion for the same seed (tested).

Frames ``[k hop, (k + 1) hop)`` are final once window ``k`` is generated (the next window only
blends frames after them), so they are yielded then; the rest at :meth:`MotionStream.close`.
The algorithmic latency of a frame is therefore at most ``W + R`` frames of audio (5.5 s at
30 fps) plus the compute of one window; memory holds one window's audio context, not the
recording.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from adm.data.textgrid import Interval, word_per_frame
from adm.diffusion import guided_model
from adm.errors import BadInputError, ConfigError
from adm.features.audio import compute_audio_features
from adm.features.config import AudioFeatureConfig, TextFeatureConfig
from adm.features.layout import audio_layout
from adm.features.text import text_features
from adm.features.vectors import WordVectors
from adm.sampling import SampleConfig, denormalize_tasks, sampling_diffusion
from adm.sampling.chain import clip_generator, sample_chain
from adm.sampling.windows import crossfade_weights, plan_windows
from adm.training.checkpoint import LoadedCheckpoint

CONTEXT_LEFT_S = 1.0
"""Audio before a window that its features see (onsets and pitch need some history)."""

CONTEXT_RIGHT_S = 0.5
"""Audio after a window that its features see; the stream waits for it (part of the latency)."""

NOISE_KEY = "generate"
"""Noise of a generation comes from ``clip_generator(seed, NOISE_KEY)``."""


@dataclass(frozen=True)
class MotionChunk:
    """Final frames ``[start, start + len)`` of the generated motion.

    Attributes:
        start: index of the first frame.
        motion: task -> ``[n, D]`` float32 denormalised (``gesture`` ``[n, 141]`` axis-angle
            radians, ``face`` ``[n, 51]`` ARKit weights in [0, 1]).
    """

    start: int
    motion: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.motion.values())))


def analysis_period(fps: int, sample_rate: int, hop_length: int) -> int:
    """Fewest motion frames whose duration is a whole number of analysis hops.

    A window's audio context starts on a multiple of it, so the excerpt's spectrogram frames
    fall on the whole recording's (30 fps, 16 kHz, hop 160: 3 frames = 1600 samples = 10 hops):
    away from the excerpt's edges, which lie in the context, its MFCC, log-mel and prosody rows
    are those of the whole recording (tested).
    """
    for frames in range(1, fps * hop_length + 1):
        samples, rest = divmod(frames * sample_rate, fps)
        if rest == 0 and samples % hop_length == 0:
            return frames
    return 1  # pragma: no cover (frames = fps * hop_length always qualifies)


def check_audio_layout(ckpt: LoadedCheckpoint, config: AudioFeatureConfig, width: int | None):
    """Refuse audio settings whose feature layout is not the one the model was trained on."""
    ours = audio_layout(config, width).to_dict()
    theirs = ckpt.audio_layout
    theirs = theirs.get("blocks", theirs) if isinstance(theirs, dict) else theirs
    ours = ours.get("blocks", ours)
    if theirs is not None and ours != theirs:
        raise ConfigError(
            f"features.audio: these settings give the audio layout {ours}, the checkpoint was "
            f"trained on {theirs} (use the features.audio settings it was trained with)"
        )


class MotionStream:
    """Generate motion from audio pushed in chunks (see the module docstring).

    Args:
        ckpt: the trained model (:func:`adm.training.load_checkpoint`).
        speaker: BEAT speaker id; must be one the model was trained on.
        fps: the model's motion frame rate (the pipeline's ``data.prepare.fps``).
        seed: sampling seed.
        sample: sampler settings (``batch`` is unused: one window at a time).
        audio_config: the audio feature settings the model was trained with.
        words: timed words of the transcript, or ``None`` for the "no transcript" input.
        vectors, text_config: the word vectors and text settings (needed with ``words``).
        wavlm: the WavLM runner when the layout has a WavLM block.
        device: where the network runs.
        on_window: called as ``on_window(k, total)`` before window ``k`` (``total`` is None
            until the stream is closed).

    Audio is pushed as mono float32 ``[n]`` at ``audio_config.sample_rate``.

    Raises:
        BadInputError: the speaker is unknown to the model (the message names ``--speaker``).
        ConfigError: the audio settings do not give the model's feature layout.
    """

    def __init__(
        self,
        ckpt: LoadedCheckpoint,
        speaker: int,
        *,
        fps: int,
        seed: int,
        sample: SampleConfig,
        audio_config: AudioFeatureConfig,
        words: Sequence[Interval] | None = None,
        vectors: WordVectors | None = None,
        text_config: TextFeatureConfig | None = None,
        wavlm=None,
        device: torch.device | str = "cpu",
        on_window: Callable[[int, int | None], None] | None = None,
    ):
        if speaker not in ckpt.speakers:
            raise BadInputError(
                "--speaker",
                f"speaker {speaker} is unknown to the checkpoint (trained on speakers "
                f"{list(ckpt.speakers)})",
            )
        check_audio_layout(ckpt, audio_config, wavlm.width if wavlm is not None else None)
        mc = ckpt.model.config
        self.ckpt, self.fps, self.device = ckpt, int(fps), device
        self.window, self.seed_frames = int(mc.window), int(mc.seed_frames)
        self.hop = self.window - self.seed_frames
        self.sr = int(audio_config.sample_rate)
        self.left = round(CONTEXT_LEFT_S * self.fps)
        self.grid = analysis_period(self.fps, self.sr, audio_config.hop_length)
        self.right = round(CONTEXT_RIGHT_S * self.fps)
        self.audio_config, self.wavlm = audio_config, wavlm
        self.text_dim = int(mc.text_dim)
        if words and self.text_dim and (vectors is None or text_config is None):
            raise ValueError("words need the word vectors and the text settings")
        self.words, self.vectors, self.text_config = list(words or []), vectors, text_config
        self.sampler, self.steps, self.eta = sample.sampler, sample.steps, sample.eta
        self.diffusion = sampling_diffusion(ckpt.diffusion_config, sample)
        self.x0_bounds = ckpt.x0_bounds() if sample.clip_x0 else None
        self.net = guided_model(ckpt.model, sample.guidance)
        self.generator = clip_generator(seed, NOISE_KEY)
        self.speaker_index = list(ckpt.speakers).index(speaker)
        self.dim = int(mc.x_dim)
        self.fade = crossfade_weights(self.seed_frames)
        self.on_window = on_window
        self._seed = torch.zeros(self.seed_frames, self.dim)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # sample index of _buffer[0]
        self._received = 0
        self._k = 0  # next window
        self._emitted = 0  # frames yielded so far
        self._pending = torch.zeros(0, self.dim)  # frames [_emitted, ...) generated, not final
        self._closed = False
        self.window_seconds: list[float] = []  # compute time of each window

    # ---------------------------------------------------------------- audio in, motion out
    def push(self, samples: np.ndarray) -> list[MotionChunk]:
        """Add audio ``[n]``; returns the chunks that became final (possibly none)."""
        if self._closed:
            raise RuntimeError("the stream is closed")
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"push mono samples [n], got shape {list(x.shape)}")
        self._buffer = np.concatenate([self._buffer, x])
        self._received += len(x)
        available = math.floor(self._received * self.fps / self.sr)
        chunks = []
        while self._k * self.hop + self.window + self.right <= available:
            chunks += self._run_window(self.window, total=None, num_frames=None)
        return chunks

    def close(self) -> list[MotionChunk]:
        """End of audio: generate the remaining windows; returns the last chunks."""
        if self._closed:
            return []
        self._closed = True
        frames = self.num_frames
        if frames < 1:
            raise ValueError("no audio was pushed")
        plan = plan_windows(frames, self.window, self.seed_frames)
        chunks = []
        while self._k < len(plan):
            chunks += self._run_window(plan[self._k].valid, total=len(plan), num_frames=frames)
        if self._emitted < frames:
            chunks.append(self._emit(frames))
        return chunks

    @property
    def num_frames(self) -> int:
        """Motion frames of the audio received so far: ``round(samples * fps / rate)``."""
        return int(round(self._received * self.fps / self.sr))

    # ---------------------------------------------------------------- one window
    def _samples(self, frame: int) -> int:
        return int(round(frame * self.sr / self.fps))

    def _first(self, start: int) -> int:
        """First frame of the audio context of a window starting at ``start``: ``left``
        frames earlier, moved back onto the analysis grid (see :func:`analysis_period`)."""
        return (max(0, start - self.left) // self.grid) * self.grid

    def _conditions(self, start: int, valid: int, num_frames: int | None) -> dict:
        w = self.window
        first = self._first(start)
        last = start + valid + self.right
        if num_frames is not None:
            last = min(last, num_frames)
        lo, hi = self._samples(first) - self._buffer_start, self._samples(last)
        excerpt = self._buffer[lo : hi - self._buffer_start]
        feats, _ = compute_audio_features(
            excerpt, last - first, self.fps, self.audio_config, self.wavlm
        )
        rows = feats[start - first : start - first + valid]
        mean, std = (t.detach().cpu().numpy() for t in self.ckpt.norm["audio"])
        audio = torch.zeros(w, rows.shape[1])
        audio[:valid] = torch.from_numpy(((rows - mean) / std).astype(np.float32))
        cond = {
            "speaker": torch.tensor([self.speaker_index], dtype=torch.long),
            "seed": self._seed[None],
            "mask": (torch.arange(w) < valid)[None],
            "audio": audio[None],
        }
        if self.text_dim:
            text = torch.zeros(w, self.text_dim)  # the "no transcript" input: the train mean
            if self.words:
                labels = word_per_frame(self.words, start + valid, self.fps)[start:]
                values, _ = text_features(labels, self.vectors, self.text_config.lowercase)
                if values.shape[1] != self.text_dim:
                    raise ConfigError(
                        f"features.text.dim: the vectors give {values.shape[1]} text dims, "
                        f"the checkpoint expects {self.text_dim}"
                    )
                t_mean, t_std = (t.detach().cpu().numpy() for t in self.ckpt.norm["text"])
                text[:valid] = torch.from_numpy(((values - t_mean) / t_std).astype(np.float32))
            cond["text"] = text[None]
        return cond

    def _run_window(self, valid: int, total: int | None, num_frames: int | None):
        import time

        start = self._k * self.hop
        if self.on_window is not None:
            self.on_window(self._k, total)
        began = time.perf_counter()
        cond = self._conditions(start, valid, num_frames)
        cond = {k: v.to(self.device) for k, v in cond.items()}
        x0 = sample_chain(
            self.diffusion, self.net, (1, self.window, self.dim), cond, [self.generator],
            self.sampler, self.eta, self.device, self.steps, x0_bounds=self.x0_bounds,
        )[0].detach().float().cpu()  # fmt: skip
        self.window_seconds.append(time.perf_counter() - began)
        self._stitch(x0, start, valid)
        self._seed = x0[self.window - self.seed_frames :].clone()
        self._k += 1
        # keep only the audio the next window's context needs
        keep = self._samples(self._first(self._k * self.hop))
        if keep > self._buffer_start:
            self._buffer = self._buffer[keep - self._buffer_start :]
            self._buffer_start = keep
        return [self._emit(start + self.hop)] if valid == self.window else []

    def _stitch(self, x0: torch.Tensor, start: int, valid: int) -> None:
        """Blend window output ``x0`` ``[W, Dx]`` into the pending frames (as the offline
        sampler: the previous window's overlap crossfaded into this one's first S frames)."""
        offset = start - self._emitted
        if self._k == 0:
            self._pending = x0[:valid].clone()
            return
        s = self.seed_frames
        w = self.fade[:, None]
        head = self._pending[:offset]
        overlap = (1.0 - w) * self._pending[offset : offset + s] + w * x0[:s]
        self._pending = torch.cat([head, overlap, x0[s:valid]])

    def _emit(self, upto: int) -> MotionChunk:
        n = min(upto, self._emitted + len(self._pending)) - self._emitted
        x, self._pending = self._pending[:n], self._pending[n:]
        chunk = MotionChunk(self._emitted, denormalize_tasks(x.numpy(), self.ckpt.tasks,
                                                             self.ckpt.norm))  # fmt: skip
        self._emitted += n
        return chunk


def stream_motion(stream: MotionStream, chunks: Iterable[np.ndarray]) -> Iterator[MotionChunk]:
    """Push each audio chunk into ``stream`` and yield motion as it becomes final."""
    for chunk in chunks:
        yield from stream.push(chunk)
    yield from stream.close()


def concatenate(chunks: Iterable[MotionChunk]) -> dict[str, np.ndarray]:
    """The whole motion, task -> ``[T, D]``, from consecutive chunks."""
    parts: dict[str, list[np.ndarray]] = {}
    expected = 0
    for chunk in chunks:
        if chunk.start != expected:
            raise ValueError(f"chunk starts at frame {chunk.start}, expected {expected}")
        for task, values in chunk.motion.items():
            parts.setdefault(task, []).append(values)
        expected += len(chunk)
    return {task: np.concatenate(values) for task, values in parts.items()}
