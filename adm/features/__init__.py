"""Conditions of the model, computed once per clip on the prepared clip's motion frames.

- audio (:mod:`adm.features.audio`): MFCC 40 | log-mel 64 | prosody 4 | WavLM 1024 | onset 1
  = 1133 dims (the DiffuseStyleGesture+ layout the paper uses; any block can be switched off);
- text (:mod:`adm.features.text`): fastText word vector 300 + silence flag 1 = 301 dims.

Every block is computed on its own time grid and mapped to motion frame ``i`` at ``i / fps``
by time (:mod:`adm.features.align`). Each feature file is a per-frame Parquet table whose
metadata holds the layout, the settings' hash and the extractor versions.
"""

from adm.features.config import AudioFeatureConfig, FastTextTrainConfig, TextFeatureConfig
from adm.features.layout import Block, FeatureLayout, audio_layout, text_layout

__all__ = [
    "AudioFeatureConfig",
    "Block",
    "FastTextTrainConfig",
    "FeatureLayout",
    "TextFeatureConfig",
    "audio_layout",
    "text_layout",
]
