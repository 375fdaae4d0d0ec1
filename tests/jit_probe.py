"""Run in a fresh process by test_jit_cache: after the warm-up, run the feature stage and
Beat Align on a wav and print the numba kernels they compiled anew (``NEW {}`` when none).

    python tests/jit_probe.py <wav> <num_frames> <fps>
"""

from __future__ import annotations

import sys

from numba.core.dispatcher import Dispatcher

import adm.jit as jit
from adm.data.audio import load_wav
from adm.features.audio import compute_audio_features
from adm.features.config import AudioFeatureConfig
from adm.metrics.beat_align import audio_beats, onset_frames


def kernels() -> dict[tuple[str, str], int]:
    """(module, name) -> number of compiled signatures of each numba kernel librosa holds."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("librosa"):
            for attr, value in vars(module).items():
                if isinstance(value, Dispatcher):
                    found[name, attr] = len(value.signatures)
                elif type(value).__module__.startswith("numba.np.ufunc"):
                    found[name, attr] = len(value.types)
    return found


def main(wav: str, num_frames: str, fps: str) -> None:
    jit.load_librosa()
    before = kernels()
    if not before:
        raise SystemExit("no numba kernels found in librosa")
    config = AudioFeatureConfig()
    audio = load_wav(wav, config.sample_rate)
    compute_audio_features(audio, int(num_frames), float(fps), config)
    for compat in (None, "beat"):
        audio_beats(audio, config.sample_rate, compat=compat)
    onset_frames(audio, config.sample_rate, backtrack=False)
    after = kernels()
    print("NEW", {k: (before.get(k, 0), n) for k, n in after.items() if n != before.get(k, 0)})


if __name__ == "__main__":
    main(*sys.argv[1:])
