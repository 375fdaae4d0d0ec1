"""The mean-pose baseline: a floor for every metric table.

For every frame of every test clip it "generates" the train split's mean gesture (axis-angle
``[141]``) and mean face (``[51]``) from the normalisation statistics: no motion, no lip sync.
What it scores shows how much of a metric a model earns by moving at all:

- FGD and FD measure how far one constant window is from the test distribution;
- ``diversity`` and ``l1div`` are 0 (all windows identical);
- Beat Align is 0 for every clip (a constant pose has no speed minima, so no motion beats);
- SRGR counts the frames where the mean pose happens to lie within 4 degrees of the truth;
- the jawOpen Pearson r is undefined (a constant has no variance) and is recorded as null.
"""

from __future__ import annotations

import numpy as np

from adm.data.normalization import NormStats
from adm.evaluation.inputs import TASKS, GeneratedClip, TestClip

NAME = "mean-pose"


def mean_pose_clip(
    clip: TestClip, norm: NormStats, tasks: tuple[str, ...] = TASKS
) -> GeneratedClip:
    """The baseline's "generated" clip: the train mean repeated for all ``T`` frames.

    The mean face is clipped to ``[0, 1]`` like any generated face (a mean of weights in
    ``[0, 1]`` already is; the clip only guards against statistics from elsewhere).
    """
    streams = {}
    for task in tasks:
        mean = np.asarray(norm.mean[task], dtype=np.float64)
        if task == "face":
            mean = np.clip(mean, 0.0, 1.0)
        streams[task] = np.broadcast_to(mean, (clip.num_frames, mean.shape[0])).copy()
    return GeneratedClip(clip.stem, None, streams, {"clip": clip.stem, "baseline": NAME})
