"""In what order an evaluation feeds its evaluators, so that two cores stay busy.

Most of an evaluation is WInD's mixture fits (:meth:`FaceEvaluator.compute`), which run as
parallel single-threaded fits; most of the rest is the gesture metrics, clip by clip. Run one
after the other, the cores idle while the gesture metrics run single-threaded numpy (SRGR's
Euler angles) and while the last fit finishes alone. So the face evaluator sees every clip
first, its computation starts in the background, and the gesture evaluator sees the clips
meanwhile. The numbers do not depend on the order (each evaluator only accumulates its own
clips); only the wall time does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from adm.evaluation.inputs import TestClip

#: Every test clip with its generated streams (``{"gesture": [T, 141], "face": [T, 51]}``);
#: called once per pass over the clips.
Pairs = Callable[[], Iterable[tuple[TestClip, dict[str, np.ndarray]]]]


class Evaluator(Protocol):
    timing: dict[str, float]

    def update(self, clip: TestClip, stream: np.ndarray) -> None: ...

    def compute(self) -> tuple[dict[str, Any], dict[str, int]]: ...


def run_evaluators(
    pairs: Pairs,
    gesture: Evaluator | None,
    face: Evaluator | None,
    before_compute: Callable[[], None] = lambda: None,
) -> tuple[dict[str, Any], dict[str, int]]:
    """Feed the clips of ``pairs`` to the evaluators and compute them (see the module
    docstring). ``before_compute`` runs after the first pass over the clips, before any
    computation (the evaluate stage checks its reference there). Returns the merged
    ``(metrics, counts)``; an evaluator's error is raised as is."""
    first, second = (face, gesture) if face is not None else (gesture, None)
    if first is None:
        raise ValueError("no evaluator to run")
    key = "face" if first is face else "gesture"
    for clip, streams in pairs():
        first.update(clip, streams[key])
    before_compute()
    if second is None:
        return first.compute()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(first.compute)
        try:
            for clip, streams in pairs():
                second.update(clip, streams["gesture"])
            metrics, counts = second.compute()
        except BaseException:
            pending.cancel()  # a running computation finishes before the error propagates
            raise
        face_metrics, face_counts = pending.result()
    return {**metrics, **face_metrics}, {**counts, **face_counts}
