"""Generating whole clips with a trained model (``adm sample``).

- :mod:`.windows`: seeded, overlapping windows over a clip of any length, seams crossfaded;
- :mod:`.chain`: the reverse diffusion chain with one noise generator per clip;
- :mod:`.inputs`: a clip's conditions, seed and speaker in the model's normalised units;
- :mod:`.generate`: sampler settings and the generation loop;
- :mod:`.export`: Parquet, BVH and face JSON writers and the staged output folder.
"""

from adm.sampling.chain import clip_generator, sample_chain
from adm.sampling.export import gesture_euler, staged_folder, write_sample, write_samples_tsv
from adm.sampling.generate import SampleConfig, generate, pick_device, sampling_diffusion
from adm.sampling.inputs import TestClip, denormalize_tasks, prepare_clip
from adm.sampling.windows import (
    ClipInputs,
    Window,
    crossfade_weights,
    plan_windows,
    sample_windows,
)

__all__ = [
    "ClipInputs",
    "SampleConfig",
    "TestClip",
    "Window",
    "clip_generator",
    "crossfade_weights",
    "denormalize_tasks",
    "generate",
    "gesture_euler",
    "pick_device",
    "plan_windows",
    "prepare_clip",
    "sample_chain",
    "sample_windows",
    "sampling_diffusion",
    "staged_folder",
    "write_sample",
    "write_samples_tsv",
]
