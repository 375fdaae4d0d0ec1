"""The evaluate stage on a tiny synthetic test set: known answers, baselines, errors, the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter1d
from tolerance import F64, fan_ins, gamma, layers_rel_tol, sum_tol

from adm.commands import run
from adm.data.audio import write_wav
from adm.data.normalization import compute_norm_stats, save_norm_stats
from adm.errors import BadInputError, ConfigError
from adm.evaluation import EvalConfig, EvalInputs, evaluate
from adm.evaluation.reference import build_reference
from adm.io.frames import write_frames
from adm.metrics.checkpoint import load_motion_autoencoder, save_metric_model
from adm.metrics.face_vae import FaceVAE
from adm.metrics.motion_autoencoder import MotionAutoencoder
from adm.rotations import axis_angle_to_euler
from adm.training.checkpoint import write_weights

FPS = 30
RATE = 16000
TEST = {"2_scott_0_1_1": 100, "2_scott_0_2_2": 110, "4_lawrence_0_1_1": 95}
TRAIN = {"2_scott_0_9_9": 120, "4_lawrence_0_9_9": 120}
# Small, fast settings: no 10 s trim on 3 s clips, every 2nd face window, 2 mixture seeds.
CFG = EvalConfig(beat_align_trim_seconds=0.0, face_stride=2, wind_repeats=2)


def _smooth(rng: np.random.Generator, frames: int, dims: int, sigma: float) -> np.ndarray:
    x = gaussian_filter1d(rng.normal(size=(frames, dims)), sigma, axis=0)
    return x / x.std()


def _write_clip(folder: Path, corpus: Path, stem: str, frames: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    gesture = 0.4 * _smooth(rng, frames, 141, 3.0)
    # Ground-truth Euler on an "unwrapped" branch, as BEAT's curves are.
    euler = axis_angle_to_euler(gesture.reshape(frames, 47, 3))
    euler += 360.0 * rng.integers(-1, 2, size=(1, 47, 3))
    face = 1.0 / (1.0 + np.exp(-2.0 * _smooth(rng, frames, 51, 2.0)))
    semantic = np.zeros(frames)
    semantic[10:40] = 0.5
    semantic[60:75] = 0.9
    speaker = stem.split("_")[0]
    write_frames(
        folder / f"{stem}.parquet",
        {
            "gesture": gesture,
            "gesture_euler": euler.reshape(frames, 141),
            "face": face,
            "semantic": semantic.astype(np.float32),
            "emotion": np.zeros(frames, np.int64),
        },
        {
            "clip": stem,
            "speaker": int(speaker),
            "fps": FPS,
            "num_frames": frames,
            "sources": {"wav": f"{stem}.wav"},
            "skipped": False,
        },
    )
    seconds = frames / FPS + 0.5  # the wav runs longer than the motion, as in BEAT
    audio = rng.normal(0.0, 0.005, int(seconds * RATE))
    for t in np.arange(0.3, seconds - 0.1, 0.45):
        i = int(t * RATE)
        audio[i : i + 200] += 0.6 * np.hanning(200)
    (corpus / speaker).mkdir(parents=True, exist_ok=True)
    write_wav(corpus / speaker / f"{stem}.wav", audio.astype(np.float32), RATE)
    return {"gesture": gesture, "face": face, "semantic": semantic}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("eval")
    clips, corpus = root / "clips", root / "corpus" / "synth"
    clips.mkdir()
    truth = {s: _write_clip(clips, corpus, s, n, i) for i, (s, n) in enumerate(TEST.items())}
    for i, (stem, n) in enumerate(TRAIN.items()):
        _write_clip(clips, corpus, stem, n, 100 + i)
    stats, _ = compute_norm_stats([clips / f"{s}.parquet" for s in TRAIN], 1e-4)
    save_norm_stats(root / "norm.json", stats, {})
    (root / "test.txt").write_text("".join(f"{s}\n" for s in TEST))
    widths = (("mfcc", 40), ("logmel", 64), ("prosody", 4), ("onset", 1))
    offsets = np.cumsum([0] + [w for _, w in widths])[:-1]
    blocks = [
        {"name": n, "offset": int(o), "width": w} for (n, w), o in zip(widths, offsets, strict=True)
    ]
    layout = {"dim": 109, "blocks": blocks}
    meta = {"format": "adm-checkpoint/1", "denoiser": "adm", "config_hash": "abc123", "step": 7,
            "variant": {"name": "full"}, "diffusion": {"steps": 1000}, "speakers": [2, 4],
            "audio_layout": layout, "model_config": {}}  # fmt: skip
    write_weights(root / "ema.safetensors", {"denoiser.w": torch.zeros(1)}, meta)
    torch.manual_seed(0)
    save_metric_model(root / "ae.safetensors", MotionAutoencoder(141, 16).eval())
    save_metric_model(root / "vae.safetensors", FaceVAE(51, 16).eval())
    return {"root": root, "clips": clips, "corpus": corpus, "truth": truth, "stats": stats}


def _samples(data: dict, name: str, noise: float = 0.0, tasks=("gesture", "face"), **meta):
    """A samples folder: the ground truth plus Gaussian noise of std ``noise``."""
    folder = data["root"] / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for stem, truth in data["truth"].items():
        columns = {}
        if "gesture" in tasks:
            columns["gesture"] = truth["gesture"] + noise * rng.normal(size=truth["gesture"].shape)
        if "face" in tasks:
            face = truth["face"] + noise * rng.normal(size=truth["face"].shape)
            columns["face"] = np.clip(face, 0.0, 1.0)
        write_frames(folder / f"{stem}.parquet", columns, {"clip": stem, **meta})
    return folder


def _inputs(data: dict, **kw) -> EvalInputs:
    root = data["root"]
    base = {
        "clips_dir": data["clips"],
        "split": root / "test.txt",
        "corpus_root": data["corpus"],
        "norm": root / "norm.json",
        "motion_ae": root / "ae.safetensors",
        "face_vae": root / "vae.safetensors",
    }
    return EvalInputs(**{**base, **kw})


def _run(data: dict, **kw) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # few windows for 300-d features
        return evaluate(_inputs(data, **kw), CFG)


@pytest.fixture(scope="module")
def perfect(data) -> dict:
    meta = {"variant": "full", "seed": 0, "config_hash": "abc123", "sampler": "ddim", "steps": 50}
    folder = _samples(data, "perfect", **meta)
    return _run(
        data, samples=folder, variant="full", seed=0, checkpoint=data["root"] / "ema.safetensors"
    )


def test_ground_truth_samples_score_perfectly(perfect, data):
    m = perfect["metrics"]
    # The same features on both sides: 0 up to the rounding of Tr(2 S - 2 sqrtm(S S)).
    reference = _reference(data, face=True)
    assert abs(m["fgd"]) <= _self_frechet_tol(reference.gesture.cov)
    assert abs(m["fd"]) <= _self_frechet_tol(reference.face.cov)
    # WInD matches each mixture component with itself: a weighted mean of such distances.
    worst = max(_self_frechet_tol(c) for g in reference.face.mixtures for c in g.covariances)
    assert abs(m["wind"]) <= worst
    assert m["jaw_open_r"] == pytest.approx(1.0, abs=1e-12)
    assert m["jaw_open_r_clip_mean"] == pytest.approx(1.0, abs=1e-12)
    # Every joint of every frame succeeds, so SRGR is the semantic-weighted maximum:
    # sum_t sem_t / 0.165 over all frames of all clips, divided by the frame count.
    sem = np.concatenate([t["semantic"].astype(np.float32) for t in data["truth"].values()])
    assert m["srgr"] == pytest.approx(sem.astype(np.float64).sum() / 0.165 / len(sem), rel=1e-9)
    # The ground truth's own row is the ground truth scored as a sample: the same numbers.
    for name in ("diversity", "l1div", "beat_align", "beat_align_corrected", "srgr"):
        assert m[name] == pytest.approx(m[f"{name}_ground_truth"], rel=1e-9), name
    # The sample's Euler angles come from its axis-angle (stored float32: ~1e-5 degrees),
    # the ground truth's are stored ones.
    assert m["l1div_beat"] == pytest.approx(m["l1div_beat_ground_truth"], rel=1e-6)
    assert 0.0 < m["beat_align"] <= 1.0 and 0.0 < m["beat_align_corrected"] <= 1.0
    assert m["l1div_beat"] > 0


def test_record_has_every_field(perfect, data):
    assert perfect["variant"] == "full" and perfect["seed"] == 0
    assert perfect["tasks"] == ["gesture", "face"]
    assert set(perfect["metrics"]) == {
        "fgd", "diversity", "l1div", "l1div_beat", "beat_align", "beat_align_corrected", "srgr",
        "diversity_ground_truth", "l1div_ground_truth", "l1div_beat_ground_truth",
        "beat_align_ground_truth", "beat_align_corrected_ground_truth", "srgr_ground_truth",
        "fd", "wind", "wind_std", "jaw_open_r", "jaw_open_r_clip_mean",
    }  # fmt: skip
    # WInD's repeats: the seeds, every score, each fit's convergence.
    wind = perfect["wind"]
    assert wind["method"] == "em" and wind["seeds"] == [0, 1] and len(wind["scores"]) == 2
    assert wind["mean"] == pytest.approx(perfect["metrics"]["wind"])
    assert wind["std"] == pytest.approx(perfect["metrics"]["wind_std"])
    assert [f["seed"] for f in wind["generated_fits"]] == [0, 1]
    assert [f["seed"] for f in wind["ground_truth_fits"]] == [0, 1]
    assert all(f["iterations"] >= 1 for f in wind["generated_fits"])
    assert perfect["counts"]["clips"] == 3
    assert perfect["counts"]["frames"] == sum(TEST.values())
    assert perfect["counts"]["fgd_windows"] == sum((n - 16) // 10 + 1 for n in TEST.values())
    assert perfect["counts"]["face_windows"] == sum((n - 16) // 2 + 1 for n in TEST.values())
    assert perfect["data"]["source"] == "synth"
    assert perfect["data"]["clips"] == list(TEST)
    assert perfect["metric_models"]["motion_ae"]["config"]["length"] == 16
    assert perfect["metric_models"]["face_vae"]["kind"] == "face_vae"
    assert perfect["config"]["beat_align_compat"] == "beat"
    assert perfect["timing"]["total_s"] > 0 and "fgd_s" in perfect["timing"]
    assert perfect["samples"]["path"].endswith("perfect")
    assert perfect["samples"]["sampler"] == {
        "sampler": "ddim", "steps": 50, "seed": 0, "variant": "full"
    }  # fmt: skip
    ckpt = perfect["checkpoint"]
    assert ckpt["config_hash"] == "abc123" and ckpt["step"] == 7
    assert ckpt["path"].endswith("ema.safetensors") and ckpt["variant"] == {"name": "full"}
    assert perfect["feature_layout"]["audio"]["dim"] == 109
    assert perfect["feature_layout"]["summary"].endswith("(109 dims, without WavLM)")
    json.dumps(perfect, allow_nan=False)


@pytest.fixture(scope="module")
def small(data) -> dict:
    return _run(data, samples=_samples(data, "small", 0.05))["metrics"]


def test_perturbed_samples_score_worse(perfect, small, data):
    large = _run(data, samples=_samples(data, "large", 0.5))["metrics"]
    p = perfect["metrics"]
    assert p["fgd"] < small["fgd"] < large["fgd"]
    assert p["fd"] < small["fd"] < large["fd"]
    assert small["jaw_open_r"] < 1.0
    assert large["srgr"] < small["srgr"] <= p["srgr"]


def test_mean_pose_baseline_is_a_floor(data, small):
    base = _run(data, baseline="mean-pose")
    m = base["metrics"]
    assert base["variant"] == "mean_pose" and base["baseline"] == "mean-pose"
    assert base["checkpoint"] is None and base["samples"] is None
    assert m["jaw_open_r"] is None and m["jaw_open_r_clip_mean"] is None
    assert base["counts"]["jaw_open_r_clips"] == 0
    assert m["fd"] > small["fd"]
    assert m["fgd"] > small["fgd"]
    # Every window is the same constant pose, so diversity and l1div are 0 up to rounding.
    assert 0.0 <= m["diversity"] <= _identical_windows_diversity_tol(data)
    # l1div: |x - mean_t(x)| of a constant x, the mean of T equal float64 values being off by
    # at most gamma(T) |x| per dim: summed over the 141 dims and averaged over frames.
    frames = max(TEST.values())
    mean_pose = np.abs(data["stats"].mean["gesture"]).sum()
    assert 0.0 <= m["l1div"] <= sum_tol(frames, mean_pose, F64)
    # The BEAT form: |e - mean_w(e)| over 34-frame windows of constant Euler degrees (each
    # at most 180 in 141 dims), float64 like ours.
    assert 0.0 <= m["l1div_beat"] <= sum_tol(34, 141 * 180.0, F64)
    assert m["beat_align"] == 0.0  # a constant pose has no motion beats


def _reference(data: dict, face: bool = False):
    """The test set's ground-truth statistics, as the evaluation computes them."""
    root = data["root"]
    vae = root / "vae.safetensors" if face else None
    return build_reference(
        data["clips"], list(TEST), data["corpus"], root / "norm.json", CFG,
        root / "ae.safetensors", vae, record=False,
    )  # fmt: skip


def _self_frechet_tol(cov: np.ndarray) -> float:
    """Rounding bound of the Fréchet distance of N(mu, S) to itself (float64).

    S S is formed with an error E of at most d gamma(d) |S|^2 in norm; an eigenvalue lambda of S S
    moves by at most |E|, so its root by at most sqrt(|E|) (the worst case, at lambda = 0: the
    covariances here are singular); over the d roots of the trace, doubled, plus the trace sums.
    """
    d = cov.shape[0]
    norm = np.linalg.norm(cov, 2)
    return 2 * d * np.sqrt(d * gamma(d, F64)) * norm + gamma(3 * d, F64) * 2 * np.trace(cov)


def _identical_windows_diversity_tol(data: dict) -> float:
    """How far from 0 the diversity of windows that are all the same can land by rounding.

    Two encodings of one window (at other positions of a batch, so possibly through other SIMD
    paths) differ per feature by at most 2 rho |f| with rho the encoder's float32 error bound
    (the sum of gamma(fan-in) over its layers); z-normalised by the ground truth's std this is
    a distance of at most 2 rho |f / std|. The pairwise distance itself comes from the float64
    Gram form |a|^2 + |b|^2 - 2 a.b, whose cancellation leaves up to gamma(d + 2) 4 |z|^2 under
    the square root.
    """
    gesture = _reference(data).gesture
    encoder = load_motion_autoencoder(data["root"] / "ae.safetensors")
    # The mean pose normalised by the train statistics is 0 in every dim.
    f = encoder.encode(np.zeros((1, encoder.length, 141), np.float32)).double().numpy()[0]
    std = np.maximum(gesture.std, 1e-8)
    rho = layers_rel_tol(fan_ins(encoder.encoder))
    z = np.linalg.norm((f - gesture.mean) / std)
    return 2 * rho * np.linalg.norm(f / std) + 2 * np.sqrt(gamma(len(f) + 2, F64)) * z


@pytest.mark.parametrize(("task", "frame", "value"), [("face", 42, np.nan), ("gesture", 7, np.inf)])
def test_a_broken_sample_is_refused_naming_file_stream_and_frame(data, task, frame, value):
    folder = _samples(data, f"broken_{task}", 0.05)
    path = folder / "2_scott_0_2_2.parquet"
    columns = {
        t: np.array(data["truth"]["2_scott_0_2_2"][t], dtype=np.float64)
        for t in ("gesture", "face")
    }
    columns[task][frame, 3] = value
    columns[task][frame + 5, 0] = value
    write_frames(path, columns, {"clip": "2_scott_0_2_2"})
    with pytest.raises(BadInputError) as err:
        _run(data, samples=folder)
    message = str(err.value)
    assert str(path) in message and f"'{task}'" in message
    assert f"frame {frame} " in message and "NaN or inf" in message


def test_missing_sample_names_the_clip(data):
    folder = _samples(data, "missing", 0.05)
    (folder / "2_scott_0_2_2.parquet").unlink()
    with pytest.raises(BadInputError, match="2_scott_0_2_2"):
        _run(data, samples=folder)


def test_gesture_samples_need_the_motion_autoencoder(data):
    with pytest.raises(ConfigError, match="--motion-ae"):
        _run(data, samples=_samples(data, "perfect"), motion_ae=None)


def test_samples_of_another_seed_or_checkpoint_are_refused(data):
    folder = _samples(data, "seeded", 0.0, seed=3)
    with pytest.raises(BadInputError, match="seed 3"):
        _run(data, samples=folder, seed=0)
    folder = _samples(data, "other_ckpt", 0.0, config_hash="fff000")
    with pytest.raises(BadInputError, match="fff000.*abc123"):
        _run(data, samples=folder, checkpoint=data["root"] / "ema.safetensors")


def test_cli_on_face_only_samples(data, capsys):

    root = data["root"]
    out = root / "metrics" / "face_only" / "seed1.json"
    argv = [
        "--samples", str(_samples(data, "cli", 0.05, tasks=("face",))),
        "--clips-dir", str(data["clips"]),
        "--split", str(root / "test.txt"),
        "--corpus-root", str(data["corpus"]),
        "--norm", str(root / "norm.json"),
        "--face-vae", str(root / "vae.safetensors"),
        "--variant", "a2e", "--seed", "1",
        "--out", str(out),
        "--config", json.dumps({"wind_repeats": 2, "face_stride": 2, "data_source": "bundled"}),
    ]  # fmt: skip
    assert run("evaluate", argv) == 0
    record = json.loads(out.read_text())
    assert record["variant"] == "a2e" and record["seed"] == 1
    assert record["data"]["source"] == "bundled"
    assert record["config"]["wind_repeats"] == 2
    # Face-only samples (A2E) give only the face metrics and need no motion autoencoder.
    assert record["tasks"] == ["face"]
    assert set(record["metrics"]) == {
        "fd",
        "wind",
        "wind_std",
        "jaw_open_r",
        "jaw_open_r_clip_mean",
    }
    assert record["metric_models"]["motion_ae"] is None
    assert record["wind"]["seeds"] == [0, 1] and len(record["wind"]["scores"]) == 2
    bad = [*argv[:-1], json.dumps({"wind_repeat": 2})]
    assert run("evaluate", bad) == 1
    assert "wind_repeat" in capsys.readouterr().err
    # A NaN in a sample: one line naming the file, the stream and the frame; no file written.
    broken = _samples(data, "cli_broken", 0.05, tasks=("face",))
    face = np.array(data["truth"]["4_lawrence_0_1_1"]["face"], dtype=np.float64)
    face[11, 2] = np.nan
    write_frames(broken / "4_lawrence_0_1_1.parquet", {"face": face}, {"clip": "4_lawrence_0_1_1"})
    out.unlink()
    nan_argv = [*argv]
    nan_argv[1] = str(broken)
    assert run("evaluate", nan_argv) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "4_lawrence_0_1_1.parquet" in lines[0]
    assert "'face'" in lines[0] and "frame 11 " in lines[0] and "Traceback" not in err
    assert not out.exists()


def test_cli_evaluates_several_seeds_in_one_run_as_one_run_each(data, capsys):
    """The pipeline evaluates a variant's seeds in one job: each file equals its own run's."""
    root = data["root"]
    folders = {
        1: _samples(data, "multi1", 0.05, tasks=("face",), seed=1),
        2: _samples(data, "multi2", 0.2, tasks=("face",), seed=2),
    }
    common = [
        "--clips-dir", str(data["clips"]), "--split", str(root / "test.txt"),
        "--corpus-root", str(data["corpus"]), "--norm", str(root / "norm.json"),
        "--face-vae", str(root / "vae.safetensors"), "--variant", "a2e",
        "--config", json.dumps({"wind_repeats": 2, "face_stride": 2}),
    ]  # fmt: skip
    together = [root / "multi" / "seed1.json", root / "multi" / "seed2.json"]
    argv = ["--samples", *map(str, folders.values()), "--seed", "1", "2"]
    assert run("evaluate", [*common, *argv, "--out", *map(str, together)]) == 0
    for (seed, folder), out in zip(folders.items(), together, strict=True):
        alone = root / "alone" / f"seed{seed}.json"
        argv = ["--samples", str(folder), "--seed", str(seed), "--out", str(alone)]
        assert run("evaluate", [*common, *argv]) == 0
        a, b = json.loads(out.read_text()), json.loads(alone.read_text())
        assert a["seed"] == seed and a["metrics"] == b["metrics"] and a["wind"] == b["wind"]
    first, second = (json.loads(p.read_text())["metrics"]["fd"] for p in together)
    assert first < second  # more noise, further from the ground truth
    capsys.readouterr()
    short = ["--samples", *map(str, folders.values()), "--seed", "1", "--out", str(root / "x.json")]
    assert run("evaluate", [*common, *short]) == 1
    err = capsys.readouterr().err
    assert "one value of each per samples folder (got --samples 2, --seed 1, --out 1)" in err
    assert "Traceback" not in err
    assert not (root / "x.json").exists()
