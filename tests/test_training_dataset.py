"""Training data: clip loading, windows, masks, normalisation, speakers, tasks, sampler.

Also home of :func:`write_corpus`, the tiny on-disk corpus (prepared clips, audio/text features,
split lists, norm stats in the stage contracts) that the other training tests import.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tolerance import ops_tol, sum_tol

from adm.data.normalization import compute_norm_stats, load_norm_stats, save_norm_stats
from adm.errors import BadInputError
from adm.io.frames import write_frames
from adm.training.conditions import ConditionStats
from adm.training.corpus import DataPaths, load_corpus
from adm.training.dataset import build_window_dataset, load_clip_arrays, window_starts
from adm.training.sampler import BatchStream, WindowBatchSampler

AUDIO_DIM, TEXT_DIM = 6, 5
TRAIN = {"2_scott_0_9_9": 90, "4_lawrence_0_9_9": 70, "2_scott_0_10_10": 25}
VAL = {"2_scott_0_57_57": 45}

pytestmark = pytest.mark.usefixtures("one_thread")


def write_corpus(root: Path, train=TRAIN, val=VAL, seed: int = 0) -> DataPaths:
    """Write clips, features, split lists and norm stats under ``root``; speaker = stem prefix.

    Every stream has its own per-dim offset and scale, so normalisation visibly matters.
    """
    rng = np.random.default_rng(seed)
    paths = DataPaths(
        root / "clips", root / "audio", root / "text", root / "split", root / "n.json"
    )
    offsets = {k: rng.normal(0, 3, d) for k, d in (("g", 141), ("f", 51), ("a", AUDIO_DIM))}
    for split, clips in (("train", train), ("val", val)):
        for stem, frames in clips.items():
            speaker = int(stem.split("_")[0])
            gesture = offsets["g"] + rng.normal(0, 0.5, (frames, 141))
            write_frames(
                paths.clips_dir / f"{stem}.parquet",
                {
                    "gesture": gesture,
                    "gesture_euler": gesture * 57.3,
                    "face": offsets["f"] + rng.normal(0, 0.2, (frames, 51)),
                    "semantic": np.zeros(frames),
                    "emotion": np.zeros(frames, dtype=np.int64),
                },
                {
                    "clip": stem,
                    "speaker": speaker,
                    "fps": 30,
                    "num_frames": frames,
                    "split": split,
                    "skipped": False,
                },
            )
            audio = offsets["a"] + rng.normal(0, 4.0, (frames, AUDIO_DIM))
            layout = {"dim": AUDIO_DIM, "blocks": [{"name": "mfcc", "offset": 0, "width": 6}]}
            write_frames(paths.audio_dir / f"{stem}.parquet", {"audio": audio}, {"layout": layout})
            text = rng.normal(0, 1, (frames, TEXT_DIM))
            text[:, -1] = 1.0  # a constant channel: its std hits the floor
            write_frames(paths.text_dir / f"{stem}.parquet", {"text": text}, {})
        paths.split_dir.mkdir(parents=True, exist_ok=True)
        (paths.split_dir / f"{split}.txt").write_text("".join(f"{s}\n" for s in clips))
    stats, _ = compute_norm_stats([paths.clips_dir / f"{s}.parquet" for s in train], 1e-4)
    save_norm_stats(paths.norm, stats, {})
    return paths


@pytest.fixture
def corpus(tmp_path) -> DataPaths:
    return write_corpus(tmp_path)


def _z_tol(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Bound of a float32 z-score ``(x - mean) / std`` against the same in float64: the casts
    of x, mean and std, the subtraction and the division (5 roundings) relative to
    ``(|x| + |mean|) / std``."""
    return ops_tol(5, float(((np.abs(x) + np.abs(mean)) / std).max()))


def _dataset(paths: DataPaths, tasks=("gesture", "face"), speakers=(2, 4)):
    clips = [load_clip_arrays(s, paths.clips_dir, paths.audio_dir, paths.text_dir) for s in TRAIN]
    cond = ConditionStats.compute({"audio": c.audio, "text": c.text} for c in clips)
    norm = load_norm_stats(paths.norm)
    ds = build_window_dataset(clips, tasks, norm, cond, speakers, 40, 10, 10)
    return ds, clips, norm, cond


def test_window_starts():
    assert window_starts(90, 40, 10) == [(s, 40) for s in (0, 10, 20, 30, 40, 50)]
    assert window_starts(40, 40, 10) == [(0, 40)]
    assert window_starts(25, 40, 10) == [(0, 25)]
    assert window_starts(90, 40, 40, cover_tail=True) == [(0, 40), (40, 40), (80, 10)]
    assert window_starts(80, 40, 40, cover_tail=True) == [(0, 40), (40, 40)]


def test_windows_masks_and_normalisation(corpus):
    ds, clips, norm, cond = _dataset(corpus)
    assert len(ds) == 6 + 4 + 1  # 90 frames, 70 frames, one padded 25-frame window
    batch = ds.batch([1, 10])  # clip 0 from frame 10; the short clip
    assert batch.x0.shape == (2, 40, 192)
    mask = batch.cond["mask"]
    assert mask[0].all() and mask[1, :25].all() and not mask[1, 25:].any()
    assert (batch.x0[1, 25:] == 0).all() and (batch.cond["audio"][1, 25:] == 0).all()
    parts = [(clips[0].gesture[10:50], norm.mean["gesture"], norm.std["gesture"])]
    parts += [(clips[0].face[10:50], norm.mean["face"], norm.std["face"])]
    expected = np.concatenate([(x - m) / sd for x, m, sd in parts], 1)
    tol = max(_z_tol(*p) for p in parts)
    np.testing.assert_allclose(batch.x0[0].numpy(), expected, atol=tol, rtol=0)
    stats = (clips[2].audio, cond.mean["audio"], cond.std["audio"])
    a = (stats[0] - stats[1]) / stats[2]
    np.testing.assert_allclose(batch.cond["audio"][1, :25].numpy(), a, atol=_z_tol(*stats), rtol=0)
    # Train-split condition statistics: z-scored over all train frames; the constant text
    # channel gets the floored std instead of a division by zero.
    all_audio = np.concatenate([c.audio for c in clips]).astype(np.float64)
    z = cond.normalize("audio", all_audio)
    n = len(all_audio)
    # The statistics are float64 sums stored as float32 (one rounding each); z adds 3 float32
    # roundings per value and its mean / std a float32 sum of n terms.
    shift = np.abs(all_audio.mean(0)) / all_audio.std(0)
    np.testing.assert_allclose(
        z.mean(0), 0, atol=ops_tol(4, shift.max()) + sum_tol(n, np.abs(z).mean()), rtol=0
    )
    np.testing.assert_allclose(
        z.std(0), 1, atol=ops_tol(4, 1.0 + shift.max()) + sum_tol(n + 3, (z**2).mean()), rtol=0
    )
    assert cond.std["text"][-1] == pytest.approx(1e-4)
    assert np.isfinite(ds.text.numpy()).all()


def test_batch_shapes_seed_and_speakers(corpus):
    ds, *_ = _dataset(corpus, speakers=(4, 2))
    batch = ds.batch([0, 6, 10])
    c = batch.cond
    assert c["audio"].shape == (3, 40, AUDIO_DIM) and c["text"].shape == (3, 40, TEXT_DIM)
    assert c["seed"].shape == (3, 10, 192) and torch.equal(c["seed"], batch.x0[:, :10])
    assert c["mask"].dtype == torch.bool and c["speaker"].dtype == torch.long
    # --speakers 4 2: speaker 2 is index 1, speaker 4 index 0
    assert c["speaker"].tolist() == [1, 0, 1]


def test_task_subset_face_only(corpus):
    ds, clips, norm, _ = _dataset(corpus, tasks=("face",))
    assert ds.x_dim == 51
    x0 = ds.batch([0]).x0[0]
    stats = (clips[0].face[:40], norm.mean["face"], norm.std["face"])
    f = (stats[0] - stats[1]) / stats[2]
    np.testing.assert_allclose(x0.numpy(), f, atol=_z_tol(*stats), rtol=0)


def test_speaker_not_listed_is_named(corpus):
    with pytest.raises(BadInputError, match=r"4_lawrence_0_9_9\.parquet.*speaker 4"):
        _dataset(corpus, speakers=(2,))


def test_missing_feature_file_is_named(corpus):
    audio = corpus.audio_dir / "4_lawrence_0_9_9.parquet"
    audio.unlink()
    with pytest.raises(BadInputError, match="4_lawrence_0_9_9") as err:
        load_corpus(corpus, ("gesture", "face"), (2, 4), 40, 10, 10)
    assert err.value.path == audio


def test_frame_count_mismatch_names_both_files(corpus):
    stem = "2_scott_0_9_9"
    write_frames(corpus.text_dir / f"{stem}.parquet", {"text": np.zeros((89, TEXT_DIM))}, {})
    with pytest.raises(BadInputError) as err:
        load_clip_arrays(stem, corpus.clips_dir, corpus.audio_dir, corpus.text_dir)
    message = str(err.value)
    assert str(corpus.text_dir / f"{stem}.parquet") in message
    assert str(corpus.clips_dir / f"{stem}.parquet") in message
    assert "89" in message and "90" in message


def test_corpus_val_windows_and_layout(corpus):
    data = load_corpus(corpus, ("gesture", "face"), (2, 4), 40, 10, 10)
    assert len(data.train) == 11 and len(data.val) == 2  # val: 45 frames = 40 + a padded 5
    assert data.audio_layout["dim"] == AUDIO_DIM
    names = set(data.norm_tensors())
    assert {
        f"norm.{s}.{m}" for s in ("gesture", "face", "audio", "text") for m in ("mean", "std")
    } == names


def test_sampler_shards_disjointly_and_matches_one_process():
    n, global_batch = 23, 6
    one = WindowBatchSampler(n, global_batch, seed=3)
    ranks = [WindowBatchSampler(n, global_batch // 2, seed=3, rank=r, world_size=2) for r in (0, 1)]
    for s in (one, *ranks):
        s.set_epoch(1)
    assert one.batches_per_epoch == ranks[0].batches_per_epoch == 3
    single = list(one)
    per_rank = [list(s) for s in ranks]
    for j in range(3):
        a, b = per_rank[0][j], per_rank[1][j]
        assert not set(a) & set(b)
        assert sorted(a + b) == sorted(single[j])
    # another epoch, another order; the same epoch, the same order
    one.set_epoch(2)
    assert list(one) != single
    one.set_epoch(1)
    assert list(one) == single


def test_sampler_starts_at_batch_offset():
    s = WindowBatchSampler(20, 4, seed=0)
    s.set_epoch(5)
    full = list(s)
    s.set_epoch(5, start_batch=3)
    assert list(s) == full[3:] and len(s) == 2


def test_batch_stream_position_crosses_epochs(corpus):
    ds, *_ = _dataset(corpus)
    sampler = WindowBatchSampler(len(ds), 4, seed=0)  # 11 windows: 2 batches per epoch
    stream = BatchStream(ds, sampler)
    first = [next(stream).cond["speaker"] for _ in range(3)]
    assert stream.position == (1, 1)
    resumed = BatchStream(ds, WindowBatchSampler(len(ds), 4, seed=0), epoch=1, offset=0)
    assert torch.equal(next(resumed).cond["speaker"], first[2])


def test_condition_stats_round_trip():
    rng = np.random.default_rng(1)
    clips = [{"audio": rng.normal(2, 3, (50, 4)), "text": rng.normal(0, 1, (50, 2))}]
    stats = ConditionStats.compute(clips)
    tensors = stats.tensors()
    back = ConditionStats.from_norm(
        {s: (tensors[f"norm.{s}.mean"], tensors[f"norm.{s}.std"]) for s in ("audio", "text")}
    )
    np.testing.assert_array_equal(back.mean["audio"], stats.mean["audio"])
    # A float64 mean stored as float32: one rounding.
    mean = clips[0]["audio"].mean(0)
    np.testing.assert_allclose(stats.mean["audio"], mean, atol=ops_tol(1, np.abs(mean).max()))
    assert json.dumps(stats.std["text"].tolist())
