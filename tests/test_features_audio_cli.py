"""``adm audio-features`` end to end: real BEAT audio, metadata, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adm.commands import run
from adm.config import config_hash, from_dict
from adm.data.audio import write_wav
from adm.features.config import AudioFeatureConfig
from adm.features.layout import FeatureLayout
from adm.io.frames import read_frames, write_frames

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared/fixtures/beat"
SR, FPS = 16000, 30


def make_clip(path, num_frames: int) -> None:
    meta = {"num_frames": num_frames, "fps": FPS, "clip": "2_scott_0_3_3", "speaker": 2}
    write_frames(path, {"gesture": np.zeros((num_frames, 3), np.float32)}, meta)


def extract(tmp_path, wav, num_frames: int, config: dict | None = None, log=None):
    clip, out = tmp_path / "clip.parquet", tmp_path / "audio.parquet"
    make_clip(clip, num_frames)
    argv = ["--clip", str(clip), "--wav", str(wav), "--out", str(out)]
    argv += ["--config", json.dumps(config or {})] + (["--log", str(log)] if log else [])
    return run("audio-features", argv), out


def test_real_beat_take_gives_t_rows_and_records_how(tmp_path):
    wav = FIXTURES / "2_scott_0_3_3.wav"
    if not wav.exists():
        pytest.skip("BEAT fixtures (../shared/fixtures/beat) are not available")
    log = tmp_path / "logs" / "audio.log"
    # 60 s of motion against the 68 s recording: the clip's T wins.
    code, out = extract(tmp_path, wav, 1800, log=log)
    assert code == 0
    table = read_frames(out)
    feats, meta = table["audio"], table.metadata
    assert feats.shape == (1800, 109) and feats.dtype == np.float32
    assert np.isfinite(feats).all()
    layout = FeatureLayout.from_dict(meta["layout"])
    assert layout.names == ("mfcc", "logmel", "prosody", "onset") and layout.dim == 109
    assert meta["config_hash"] == config_hash(AudioFeatureConfig())
    assert meta["wavlm"] is None
    assert {"adm", "librosa", "torch", "transformers"} <= set(meta["versions"])
    assert meta["num_frames"] == 1800 and meta["clip"] == "2_scott_0_3_3"
    assert abs(meta["audio_seconds"] - 68.0) < 0.1
    assert "WITHOUT WavLM" in log.read_text()
    # Speech: voiced frames with a male speaker's pitch, and a few onsets per second.
    pitch = feats[:, layout.slice("prosody")][:, 2]
    assert 0.2 < (pitch > 0).mean() < 0.9
    assert 70 < np.median(pitch[pitch > 0]) < 250
    assert 0.5 < feats[:, layout.slice("onset")].sum() / 60 < 8


def test_audio_shorter_than_the_clip_is_padded_with_silence(tmp_path):
    wav = tmp_path / "short.wav"
    t = np.arange(SR) / SR
    write_wav(wav, 0.3 * np.sin(2 * np.pi * 150 * t), SR, sample_format="int16")
    code, out = extract(tmp_path, wav, 60)  # 1 s of audio, 2 s of motion
    assert code == 0
    table = read_frames(out)
    feats = table["audio"]
    assert feats.shape == (60, 109) and np.isfinite(feats).all()
    layout = FeatureLayout.from_dict(table.metadata["layout"])
    energy = feats[:, layout.slice("prosody")][:, 0]
    assert np.all(energy[35:] == -100.0) and np.all(energy[5:25] > -20.0)


def test_only_the_chosen_blocks_are_written(tmp_path):
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(SR, np.float32), SR)
    code, out = extract(tmp_path, wav, 30, {"blocks": ["onset", "mfcc"], "n_mfcc": 13})
    assert code == 0
    table = read_frames(out)
    assert table["audio"].shape == (30, 14)
    stored = from_dict(AudioFeatureConfig, table.metadata["config"])
    assert stored.blocks == ("onset", "mfcc") and stored.n_mfcc == 13


@pytest.mark.parametrize(
    ("config", "message"),
    [({"n_mfc": 40}, "unknown key 'n_mfc'"), ({"wavlm": "/no/such/folder"}, "/no/such/folder")],
)
def test_errors_name_the_problem_and_write_nothing(tmp_path, capsys, config, message):
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(SR, np.float32), SR)
    code, out = extract(tmp_path, wav, 30, config)
    assert code == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_clip_is_named(tmp_path, capsys):
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(SR, np.float32), SR)
    missing = tmp_path / "nope.parquet"
    argv = ["--clip", str(missing), "--wav", str(wav), "--out", str(tmp_path / "o.parquet")]
    assert run("audio-features", argv) == 1
    assert str(missing) in capsys.readouterr().err


def _speech_like(path, seconds: float, pitch: float) -> None:
    """A voiced tone in bursts (so the prosody and onset blocks see voicing and onsets)."""
    t = np.arange(int(seconds * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * pitch * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    write_wav(path, tone, SR, sample_format="int16")


def test_a_batch_writes_each_clip_exactly_as_its_own_job_would(tmp_path):
    """The pipeline runs one job per batch of clips: every table (values and metadata) equals
    the one a job of that clip alone writes."""
    clips, wavs = [], []
    for i, (frames, pitch) in enumerate([(60, 120.0), (45, 210.0), (90, 160.0)]):
        clips.append(tmp_path / f"clip{i}.parquet")
        wavs.append(tmp_path / f"clip{i}.wav")
        make_clip(clips[-1], frames)
        _speech_like(wavs[-1], frames / FPS, pitch)
    batch = [tmp_path / "batch" / f"{i}.parquet" for i in range(3)]
    argv = ["--clip", *map(str, clips), "--wav", *map(str, wavs), "--out", *map(str, batch)]
    assert run("audio-features", argv) == 0
    for clip, wav, out in zip(clips, wavs, batch, strict=True):
        alone = tmp_path / "alone" / out.name
        argv = ["--clip", str(clip), "--wav", str(wav), "--out", str(alone)]
        assert run("audio-features", argv) == 0
        a, b = read_frames(out), read_frames(alone)
        np.testing.assert_array_equal(a["audio"], b["audio"])
        assert a.metadata == b.metadata
    assert not np.array_equal(read_frames(batch[0])["audio"][:45], read_frames(batch[1])["audio"])


def test_a_batch_with_unequal_file_lists_is_refused(tmp_path, capsys):
    clip, wav = tmp_path / "clip.parquet", tmp_path / "a.wav"
    make_clip(clip, 30)
    write_wav(wav, np.zeros(SR, np.float32), SR)
    outs = [tmp_path / "o1.parquet", tmp_path / "o2.parquet"]
    argv = ["--clip", str(clip), "--wav", str(wav), "--out", *map(str, outs)]
    assert run("audio-features", argv) == 1
    err = capsys.readouterr().err
    assert (
        "--clip 1, --wav 1, --out 2" in err
        and "one value of each per clip" in err
        and len(err.strip().splitlines()) == 1
    )
    assert not any(o.exists() for o in outs)


def test_a_bad_clip_in_a_batch_is_named_before_any_table_is_written(tmp_path, capsys):
    good, wav = tmp_path / "good.parquet", tmp_path / "a.wav"
    make_clip(good, 30)
    write_wav(wav, np.zeros(SR, np.float32), SR)
    missing = tmp_path / "nope.parquet"
    outs = [tmp_path / "o1.parquet", tmp_path / "o2.parquet"]
    argv = ["--clip", str(good), str(missing), "--wav", str(wav), str(wav)]
    assert run("audio-features", [*argv, "--out", *map(str, outs)]) == 1
    assert str(missing) in capsys.readouterr().err
    assert not any(o.exists() for o in outs)
