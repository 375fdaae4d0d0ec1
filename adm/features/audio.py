"""Audio condition of one clip (the command: ``adm audio-features``, :mod:`adm.features.cli`).

Assembles the blocks of :class:`~adm.features.config.AudioFeatureConfig` in order
(DiffuseStyleGesture+ layout: MFCC 40 | log-mel 64 | prosody 4 | WavLM 1024 | onset 1 = 1133)
on the prepared clip's motion frames and writes them as one ``[T, D]`` float32 column ``audio``
with the layout, config hash and extractor versions in the metadata.

    adm audio-features --clip prepared/2_scott_0_1_1.parquet \\
        --wav beat/2/2_scott_0_1_1.wav --out features/audio/2_scott_0_1_1.parquet \\
        --config '{"wavlm": "microsoft/wavlm-large"}' [--log features.log]

The clip's ``num_frames`` T is authoritative: the waveform is cut or zero-padded to ``T / fps``
seconds before analysis (see :mod:`adm.features.align`), so there are always exactly T rows.
"""

from __future__ import annotations

import logging

import numpy as np

from adm.features import acoustic, onset, prosody
from adm.features.align import clip_samples, fit_waveform, interpolate_by_time, motion_times
from adm.features.config import AudioFeatureConfig
from adm.features.layout import FeatureLayout, audio_layout
from adm.features.wavlm import WavLMFeatures, load_wavlm

log = logging.getLogger("adm.features.audio")

VERSIONED = ("librosa", "numpy", "scipy", "torch", "transformers")


def compute_audio_features(
    audio: np.ndarray,
    num_frames: int,
    fps: float,
    config: AudioFeatureConfig,
    wavlm: WavLMFeatures | None = None,
) -> tuple[np.ndarray, FeatureLayout]:
    """The audio condition ``[T, D]`` float32 on motion frames ``i / fps``, and its layout.

    Args:
        audio: ``[N]`` float32 waveform at ``config.sample_rate``, sample 0 at time 0.
        num_frames: T, the prepared clip's frame count.
        fps: the clip's frame rate.
        config: blocks and analysis settings.
        wavlm: the WavLM runner; ``None`` leaves the ``wavlm`` block out of the layout.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    sr = config.sample_rate
    x = fit_waveform(audio, clip_samples(num_frames, fps, sr))
    target = motion_times(num_frames, fps)
    layout = audio_layout(config, wavlm.width if wavlm is not None else None)
    names = set(layout.names)

    parts: dict[str, np.ndarray] = {}
    if names & {"mfcc", "logmel", "onset"}:
        spec = acoustic.power_spectrogram(x, config)
        mel_db = acoustic.log_mel(spec, config)
        if "logmel" in names:
            parts["logmel"] = interpolate_by_time(mel_db, spec.times, target)
        if "mfcc" in names:
            parts["mfcc"] = interpolate_by_time(acoustic.mfcc(mel_db, config), spec.times, target)
        if "onset" in names:
            parts["onset"] = onset.onset_flag(onset.onset_times(mel_db, config), num_frames, fps)
    if "prosody" in names:
        grid = 1 + len(x) // config.hop_length  # the centred STFT's frame count
        times = acoustic.frame_times(grid, config.hop_length, sr)
        pros = prosody.prosody(x, config, grid)
        # Energy is continuous; pitch jumps to 0 when unvoiced, so it takes the nearest frame.
        parts["prosody"] = np.concatenate(
            [
                interpolate_by_time(pros[:, :2], times, target),
                interpolate_by_time(pros[:, 2:], times, target, mode="nearest"),
            ],
            axis=1,
        )
    if "wavlm" in names and wavlm is not None:
        feats, times = wavlm(x)
        parts["wavlm"] = interpolate_by_time(feats, times, target)

    out = np.concatenate([parts[name] for name in layout.names], axis=1).astype(np.float32)
    assert out.shape == (num_frames, layout.dim), (out.shape, layout.dim)
    return out, layout


def build_wavlm(config: AudioFeatureConfig) -> WavLMFeatures | None:
    """Load the configured WavLM (``None`` when it is off); logs when features go without it."""
    if not config.uses_wavlm:
        reason = (
            "features.audio.wavlm is 'none'"
            if "wavlm" in config.blocks
            else "'wavlm' is not in features.audio.blocks"
        )
        log.info("audio features are computed WITHOUT WavLM (%s)", reason)
        return None
    model = load_wavlm(config.wavlm, allow_download=config.allow_download)
    runner = WavLMFeatures(
        model,
        layer=config.wavlm_layer,
        sample_rate=config.sample_rate,
        chunk_seconds=config.wavlm_chunk_seconds,
        overlap_seconds=config.wavlm_overlap_seconds,
        batch=config.wavlm_batch,
    )
    log.info(
        "WavLM %s: %d layers, width %d, layer %d, on %s (%s)",
        config.wavlm,
        runner.num_layers,
        runner.width,
        runner.layer,
        runner.device,
        runner.dtype,
    )
    return runner
