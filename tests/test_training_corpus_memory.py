"""Loading the training corpus holds the dataset and one clip, whatever the number of clips.

A BEAT-sized corpus is 1.3 million train frames of 1,133 audio and 301 text dims (about 9 GB in
float32): holding every clip's raw arrays beside the dataset while it is built would double
that. These tests count the clips alive while the corpus loads (the growth) and check that the
streamed build gives exactly the tensors of a build from clips held in a list.
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch
from test_training_dataset import write_corpus

import adm.training.corpus as corpus_module
from adm.data.normalization import load_norm_stats
from adm.errors import BadInputError
from adm.training.conditions import ConditionStats
from adm.training.corpus import load_corpus
from adm.training.dataset import build_window_dataset, load_clip_arrays

pytestmark = pytest.mark.usefixtures("one_thread")

MANY = {f"{spk}_{name}_0_{take}_{take}": 20 + 7 * take
        for spk, name in ((2, "scott"), (4, "lawrence")) for take in range(9, 15)}  # fmt: skip


def _count_live_clips(monkeypatch) -> list[int]:
    """Patch the corpus loader's clip reader to record how many clips are alive at each read."""
    live = [0]
    counts: list[int] = []

    def release() -> None:
        live[0] -= 1

    def tracked(*args, **kwargs):
        counts.append(live[0])
        clip = load_clip_arrays(*args, **kwargs)
        live[0] += 1
        weakref.finalize(clip, release)
        return clip

    monkeypatch.setattr(corpus_module, "load_clip_arrays", tracked)
    return counts


@pytest.mark.parametrize("condition_dtype", ["float32", "float16"])
def test_at_most_one_clip_is_alive_while_the_corpus_loads(tmp_path, monkeypatch, condition_dtype):
    paths = write_corpus(tmp_path, train=MANY)
    counts = _count_live_clips(monkeypatch)
    data = load_corpus(paths, ("gesture", "face"), (2, 4), 40, 10, 10, condition_dtype)
    # Two passes over 12 train clips and two over the val clip; before a read at most the
    # previous clip is still referenced (the loop's variable), never the 12.
    assert len(counts) == 2 * len(MANY) + 2
    assert max(counts) <= 1, str(counts)
    assert data.train.audio.dtype == getattr(torch, condition_dtype)


@pytest.mark.parametrize("condition_dtype", ["float32", "float16"])
def test_the_streamed_build_equals_a_build_from_clips_in_memory(tmp_path, condition_dtype):
    paths = write_corpus(tmp_path, train=MANY)
    data = load_corpus(paths, ("gesture", "face"), (2, 4), 40, 10, 10, condition_dtype)
    clips = [load_clip_arrays(s, paths.clips_dir, paths.audio_dir, paths.text_dir) for s in MANY]
    cond = ConditionStats.compute({"audio": c.audio, "text": c.text} for c in clips)
    norm = load_norm_stats(paths.norm)
    ref = build_window_dataset(
        clips, ("gesture", "face"), norm, cond, (2, 4), 40, 10, 10, condition_dtype
    )
    for name in ("x", "audio", "text", "base", "valid", "speaker"):
        assert torch.equal(getattr(data.train, name), getattr(ref, name)), name
    for key in ("semantic", "emotion"):
        assert torch.equal(data.train.frame_streams[key], ref.frame_streams[key]), key
    for k in ("audio", "text"):
        assert np.array_equal(data.conditions.mean[k], cond.mean[k])
        assert np.array_equal(data.conditions.std[k], cond.std[k])


def test_a_clip_that_grows_between_the_passes_is_named(tmp_path, monkeypatch):
    paths = write_corpus(tmp_path, train=MANY)
    real = corpus_module.load_clip_arrays
    reads: dict[str, int] = {}

    def growing(stem, *dirs):
        clip = real(stem, *dirs)
        reads[stem] = reads.get(stem, 0) + 1
        if stem == "4_lawrence_0_14_14" and reads[stem] == 2:  # its second read: one more frame
            for key in ("gesture", "face", "audio", "text", "semantic", "emotion"):
                values = getattr(clip, key)
                setattr(clip, key, np.concatenate([values, values[-1:]]))
        return clip

    monkeypatch.setattr(corpus_module, "load_clip_arrays", growing)
    with pytest.raises(BadInputError, match="4_lawrence_0_14_14.*more than the"):
        load_corpus(paths, ("gesture", "face"), (2, 4), 40, 10, 10)
