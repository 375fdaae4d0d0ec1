"""What an MP4 holds, read back with the ffmpeg binary of ``imageio-ffmpeg`` (no ffprobe).

The video's frame count and duration come from decoding it (``imageio_ffmpeg``'s
``count_frames_and_secs``); the audio's duration from decoding its stream to raw 16 kHz mono
samples and counting them, so both are measured, not read from the container's header.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MediaStreams:
    """Streams of one media file.

    Attributes:
        video_frames: decoded video frames (0 without a video stream).
        video_seconds: video duration in seconds (0.0 without a video stream).
        audio_seconds: decoded audio duration in seconds (0.0 without an audio stream).
        streams: each stream's kind as ffmpeg lists it (``["Video", "Audio"]``).
    """

    video_frames: int
    video_seconds: float
    audio_seconds: float
    streams: tuple[str, ...]


_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?: (Video|Audio|Data|Subtitle):", re.M)
_PROBE_RATE = 16000


def probe_media(path: str | Path) -> MediaStreams:
    """Count the streams of ``path`` and measure the video and audio durations."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    ).stderr
    streams = tuple(_STREAM.findall(info))
    frames, seconds = (0, 0.0)
    if "Video" in streams:
        frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    audio = 0.0
    if "Audio" in streams:
        raw = subprocess.run(
            [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le",
             "-ac", "1", "-ar", str(_PROBE_RATE), "-"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        audio = len(raw) / 2 / _PROBE_RATE
    return MediaStreams(int(frames), float(seconds), audio, streams)
