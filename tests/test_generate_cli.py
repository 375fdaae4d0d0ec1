"""``adm generate`` end to end with a tiny model trained here, and streaming."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from cli_output import non_log_lines
from test_training_dataset import write_corpus
from tiny import tiny_run

from adm.data.beat_skeleton import beat_header
from adm.data.bvh import read_bvh
from adm.data.face import read_face_json
from adm.data.textgrid import Interval, write_textgrid
from adm.features.config import AudioFeatureConfig
from adm.features.vectors import write_vector_table
from adm.generation.audio_input import file_sha256, read_recording
from adm.generation.cli import main
from adm.generation.livelink import BLENDSHAPE_COUNT, HEADER
from adm.generation.probe import probe_media
from adm.generation.stream import MotionStream, concatenate, stream_motion
from adm.sampling import SampleConfig
from adm.skeleton import euler_motion_to_gesture
from adm.training.checkpoint import load_checkpoint
from adm.training.config import parse_run_config
from adm.training.loop import train

FPS, SECONDS, RATE = 30, 5.3, 48000
AUDIO_CONFIG = {"blocks": ["mfcc"], "n_mfcc": 6}  # the tiny corpus' layout: mfcc, 6 dims
TEXT_CONFIG = {"source": "vec", "dim": 4}  # 4 + the silence flag = the corpus' 5 text dims
SAMPLER = {"sampler": "ddpm"}
WORDS = ["hello", "there", "this", "is", "a", "test", "of", "gestures"]
AAC_SLACK = 2 * 1024 / 16000  # see test_generate_preview


pytestmark = pytest.mark.usefixtures("one_thread")


def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Syllable-rate bursts of a harmonic tone and noise, with pauses: ``[N]`` in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) * (np.sin(2 * np.pi * 0.4 * t) > -0.3)
    return 0.3 * envelope * (voice / 2.3 + 0.2 * rng.normal(size=len(t)))


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A tiny trained model of both streams and one of the face only, a 48 kHz stereo 24-bit
    recording, word vectors and transcripts."""
    root = tmp_path_factory.mktemp("generate")
    corpus = write_corpus(root / "corpus")
    train(corpus, [2, 4], root / "full", parse_run_config(tiny_run(steps=10)))
    face_only = {"name": "a2e", "tasks": ["face"], "weighting": {"name": "fixed"}}
    train(corpus, [2, 4], root / "a2e", parse_run_config(tiny_run(steps=10, variant=face_only)))
    mono = speech_like(SECONDS, RATE)
    wav = root / "talk.wav"
    soundfile.write(wav, np.stack([mono, 0.5 * mono], axis=1), RATE, subtype="PCM_24")
    rng = np.random.default_rng(3)
    vectors = root / "vectors.parquet"
    write_vector_table(vectors, WORDS, rng.normal(size=(len(WORDS), 4)), {})
    text = root / "talk.txt"
    text.write_text(" ".join(WORDS) + "\n")
    grid = root / "talk.TextGrid"
    step = SECONDS / len(WORDS)
    intervals = [Interval(k * step, (k + 1) * step, w) for k, w in enumerate(WORDS)]
    write_textgrid(grid, {"words": intervals}, SECONDS)
    return {"root": root, "wav": wav, "vectors": vectors, "text": text, "grid": grid}


def run(world: dict, outdir: Path, *extra: str, ckpt: str = "full", audio=None) -> int:
    argv = [
        "--audio", str(audio or world["wav"]), "--speaker", "2",
        "--checkpoint", str(world["root"] / ckpt / "ema.safetensors"), "--outdir", str(outdir),
        "--config", json.dumps(SAMPLER), "--audio-config", json.dumps(AUDIO_CONFIG),
        "--text-config", json.dumps(TEXT_CONFIG), "--vectors", str(world["vectors"]),
        "--no-progress", *extra,
    ]  # fmt: skip
    return main(argv)


@pytest.fixture(scope="module")
def generated(world) -> Path:
    out = world["root"] / "out" / "talk"
    assert run(world, out, "--transcript", str(world["grid"])) == 0
    return out


def test_writes_the_four_outputs_of_the_recordings_length(generated, world):
    frames = round(SECONDS * FPS)
    bvh = read_bvh(generated / "motion.bvh")
    beat = beat_header(FPS)
    assert bvh.header.joints == beat.joints and bvh.header.channels == beat.channels
    assert np.array_equal(bvh.header.offsets, beat.offsets) and len(bvh.motion) == frames
    assert abs(bvh.header.frame_time - 1 / FPS) <= 0.5e-6  # Frame Time printed to 6 decimals
    gesture = euler_motion_to_gesture(bvh.motion, bvh.header)
    assert np.ptp(gesture, axis=0).max() > 0.01  # the joints move
    face = read_face_json(generated / "face.json", fps=60)
    assert len(face.weights) == 2 * frames  # --face-fps 60 by default
    with (generated / "face_livelink.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == HEADER and len(rows) - 1 == 2 * frames
    assert rows[1][0] == "00:00:00:00.000" and rows[61][0] == "00:00:01:00.000"
    assert all(int(r[1]) == BLENDSHAPE_COUNT for r in rows[1:])
    assert all(float(r[HEADER.index("TongueOut")]) == 0.0 for r in rows[1:])
    jaw = np.array([float(r[HEADER.index("JawOpen")]) for r in rows[1:]])
    # the CSV holds face.json's jawOpen, printed to 6 decimals
    assert np.abs(jaw - face.weights[:, face.names.index("jawOpen")]).max() <= 0.5e-6 + 1e-7
    media = probe_media(generated / "preview.mp4")
    assert media.streams == ("Video", "Audio") and media.video_frames == frames
    assert abs(media.audio_seconds - SECONDS) <= AAC_SLACK
    record = json.loads((generated / "provenance.json").read_text())
    assert record["audio"]["sha256"] == file_sha256(world["wav"])
    assert record["audio"]["sample_rate"] == RATE and record["audio"]["channels"] == 2
    assert record["transcript"]["alignment"] == "textgrid"
    assert record["seed"] == 0 and record["sample_config"]["sampler"] == "ddpm"
    assert record["config_hash"] == load_checkpoint(world["root"] / "full").metadata["config_hash"]
    assert sorted(p.name for p in generated.parent.iterdir()) == ["talk"]  # no temporaries


def _engine(world, **kwargs) -> MotionStream:
    ckpt = load_checkpoint(world["root"] / "full")
    return MotionStream(
        ckpt, 2, fps=FPS, seed=kwargs.pop("seed", 0), sample=SampleConfig(**SAMPLER),
        audio_config=AudioFeatureConfig(**AUDIO_CONFIG), **kwargs,
    )  # fmt: skip


def test_stream_yields_the_offline_motion_in_chunks_as_audio_arrives(world):
    audio = read_recording(world["wav"]).samples
    offline = concatenate(stream_motion(_engine(world), [audio]))
    stream = _engine(world)
    sizes = np.random.default_rng(0).integers(100, 4000, size=200)
    pieces = np.split(audio, np.cumsum(sizes)[np.cumsum(sizes) < len(audio)])
    got, first_at = [], None
    pushed = 0
    for piece in pieces:
        pushed += len(piece)
        out = stream.push(piece)
        if out and first_at is None:
            first_at = pushed
        got += out
    got += stream.close()
    streamed = concatenate(got)
    assert set(streamed) == {"gesture", "face"}
    for task in streamed:
        np.testing.assert_array_equal(streamed[task], offline[task])
    # the first window's frames come once its audio and the right context are in, not at the end
    w, r = stream.window, stream.right
    assert first_at is not None and first_at < len(audio) / 2
    assert (w + r) * 16000 / FPS <= first_at < (w + r) * 16000 / FPS + sizes.max()
    assert len(got[0]) == stream.hop


def test_window_features_are_the_whole_recordings(world):
    """Away from the clip's end, a window's audio rows equal the whole recording's features:
    the context starts on the analysis grid and its edges stay outside the window."""
    from adm.features.audio import compute_audio_features

    audio = read_recording(world["wav"]).samples
    frames = round(len(audio) * FPS / 16000)
    whole, _ = compute_audio_features(audio, frames, FPS, AudioFeatureConfig(**AUDIO_CONFIG))
    stream = _engine(world)
    mean, std = (t.numpy() for t in stream.ckpt.norm["audio"])
    expected = torch.from_numpy(((whole - mean) / std).astype(np.float32))
    stream._buffer = audio  # the whole recording from sample 0, as before the first window
    for k in (1, 2):
        start = k * stream.hop
        got = stream._conditions(start, stream.window, frames)["audio"][0]
        torch.testing.assert_close(got, expected[start : start + stream.window], rtol=0, atol=0)


def test_stream_keeps_one_window_of_audio(world):
    stream = _engine(world)
    audio = speech_like(40.0, 16000, seed=1).astype(np.float32)
    longest = 0
    for piece in np.array_split(audio, 100):
        stream.push(piece)
        longest = max(longest, len(stream._buffer))
    context = (stream.window + stream.left + stream.right) * 16000 / FPS
    assert longest <= context + len(audio) / 100 + 1  # not the 40 s recording
    assert sum(len(c) for c in stream.close()) > 0


def test_same_seed_same_files_other_seed_other_motion(world, generated, tmp_path):
    grid = ["--transcript", str(world["grid"]), "--outputs", "bvh"]
    assert run(world, tmp_path / "again", *grid) == 0
    assert (tmp_path / "again/motion.bvh").read_bytes() == (generated / "motion.bvh").read_bytes()
    assert run(world, tmp_path / "seed1", *grid, "--seed", "1") == 0
    assert (tmp_path / "seed1/motion.bvh").read_bytes() != (generated / "motion.bvh").read_bytes()


def test_transcripts_change_the_motion_and_are_recorded(world, generated, tmp_path):
    assert (
        run(world, tmp_path / "plain", "--transcript", str(world["text"]), "--outputs", "json") == 0
    )
    assert run(world, tmp_path / "none", "--outputs", "json") == 0
    plain = json.loads((tmp_path / "plain/provenance.json").read_text())["transcript"]
    assert plain["alignment"] == "approximate" and plain["words"] == len(WORDS)
    assert json.loads((tmp_path / "none/provenance.json").read_text())["transcript"] is None
    assert sorted(p.name for p in (tmp_path / "none").iterdir()) == [
        "face.json", "provenance.json",
    ]  # fmt: skip
    with_text = read_face_json(generated / "face.json").weights
    without = read_face_json(tmp_path / "none/face.json").weights
    assert not np.array_equal(with_text, without)


def test_face_only_checkpoint_writes_face_files_and_refuses_a_bvh(world, tmp_path, capsys):
    assert run(world, tmp_path / "face", ckpt="a2e") == 0
    names = sorted(p.name for p in (tmp_path / "face").iterdir())
    assert names == ["face.json", "face_livelink.csv", "preview.mp4", "provenance.json"]
    assert run(world, tmp_path / "bvh", "--outputs", "bvh", ckpt="a2e") == 1
    err = non_log_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("error: --outputs: bvh needs the gesture stream")
    assert not (tmp_path / "bvh").exists()


def _bad(tmp_path: Path, name: str, samples: np.ndarray | None, rate: int = 16000) -> Path:
    path = tmp_path / name
    if samples is None:
        path.write_text("not audio at all\n")
    else:
        soundfile.write(path, samples, rate)
    return path


@pytest.mark.parametrize(
    ("name", "samples", "message"),
    [
        ("text.wav", None, "cannot read it as audio"),
        ("empty.wav", np.zeros(0), "the audio is empty"),
        ("short.flac", speech_like(0.5, 16000), "the audio lasts 0.500 s"),
        ("silent.wav", np.zeros(32000), "the audio is silent"),
    ],
)
def test_bad_audio_is_one_line_naming_the_file(world, tmp_path, capsys, name, samples, message):
    path = _bad(tmp_path, name, samples)
    assert run(world, tmp_path / "out", audio=path) == 1
    err = non_log_lines(capsys.readouterr().err)
    assert err == [err[0]] and err[0].startswith(f"error: {path}: {message}")
    assert not (tmp_path / "out").exists()


def test_unknown_speaker_and_unfitting_transcripts_are_refused(world, tmp_path, capsys):
    argv_speaker = ["--speaker", "6"]
    assert run(world, tmp_path / "a", *argv_speaker) == 1
    (err,) = non_log_lines(capsys.readouterr().err)
    assert err.startswith("error: --speaker: speaker 6 is unknown") and "[2, 4]" in err
    long_grid = tmp_path / "long.TextGrid"
    write_textgrid(long_grid, {"words": [Interval(0.0, 20.0, "hello")]}, 20.0)
    assert run(world, tmp_path / "b", "--transcript", str(long_grid)) == 1
    (err,) = non_log_lines(capsys.readouterr().err)
    assert err.startswith(f"error: {long_grid}: words run to 20.00 s") and "\n" not in err
    many = tmp_path / "many.txt"
    many.write_text(" ".join(["word"] * 400))
    assert run(world, tmp_path / "c", "--transcript", str(many)) == 1
    (err,) = non_log_lines(capsys.readouterr().err)
    assert err.startswith(f"error: {many}: 400 words cannot")
    assert not any((tmp_path / n).exists() for n in "abc")


def test_audio_settings_that_do_not_fit_the_model_are_refused(world, tmp_path, capsys):
    assert run(world, tmp_path / "a", "--audio-config", json.dumps({"blocks": ["mfcc"]})) == 1
    (err,) = non_log_lines(capsys.readouterr().err)
    assert err.startswith("error: features.audio: these settings give the audio layout")
    assert not (tmp_path / "a").exists()
