"""The test set's reference: built once by ``adm reference``, it gives every
evaluation the same numbers as computing the ground truth in place, and a reference built from
other files or settings is refused."""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings

import numpy as np
import pytest
from test_evaluation_run import CFG, RATE, TEST, _inputs, _samples, _write_clip, data  # noqa: F401

from adm.commands import run
from adm.data.audio import write_wav
from adm.errors import BadInputError
from adm.evaluation import evaluate
from adm.evaluation.reference import MetricReference, build_reference
from adm.metrics.checkpoint import save_metric_model
from adm.metrics.face_vae import FaceVAE


def _reference_cli(data, out, config=CFG, **paths):  # noqa: F811

    given = dataclasses.asdict(_inputs(data, **paths))
    keys = ("clips_dir", "split", "corpus_root", "norm", "motion_ae", "face_vae")
    files = {key: given[key] for key in keys}
    argv = [
        arg
        for key, value in files.items()
        if value is not None
        for arg in (f"--{key.replace('_', '-')}", str(value))
    ]
    argv += ["--out", str(out), "--config", json.dumps(dataclasses.asdict(config))]
    return run("reference", argv)


def _evaluate(data, cfg=CFG, **kw):  # noqa: F811
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # few windows for 300-d features
        return evaluate(_inputs(data, **kw), cfg)


@pytest.fixture(scope="module")
def reference_file(data):  # noqa: F811
    out = data["root"] / "reference" / "reference.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert _reference_cli(data, out) == 0
    return out


def test_evaluation_with_the_reference_equals_computing_it_in_place(data, reference_file):  # noqa: F811
    samples = _samples(data, "ref_small", 0.05)
    cold = _evaluate(data, samples=samples)
    warm = _evaluate(data, samples=samples, reference=reference_file)
    assert warm["metrics"] == cold["metrics"]  # the same numbers, bit for bit
    assert warm["counts"] == cold["counts"]
    assert cold["reference"]["path"] is None
    assert warm["reference"]["path"] == str(reference_file)
    assert len(warm["reference"]["sha256"]) == 64
    base = _evaluate(data, baseline="mean-pose", reference=reference_file)
    assert base["metrics"] == _evaluate(data, baseline="mean-pose")["metrics"]
    # Face-only samples (A2E) use the face half of the same reference (and read no audio).
    faces = _samples(data, "ref_faces", 0.05, tasks=("face",))
    warm = _evaluate(data, samples=faces, reference=reference_file, motion_ae=None)
    assert warm["metrics"] == _evaluate(data, samples=faces, motion_ae=None)["metrics"]
    assert set(warm["metrics"]) == {"fd", "wind", "wind_std", "jaw_open_r", "jaw_open_r_clip_mean"}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # few windows for 300-d features
def test_the_reference_file_round_trips(data, reference_file):  # noqa: F811
    built = build_reference(
        data["clips"],
        list(TEST),
        data["corpus"],
        data["root"] / "norm.json",
        CFG,
        data["root"] / "ae.safetensors",
        data["root"] / "vae.safetensors",
        record=False,
    )
    loaded = MetricReference.load(reference_file)
    assert loaded.clips == built.clips
    for name in ("mean", "cov", "std"):
        np.testing.assert_array_equal(getattr(loaded.gesture, name), getattr(built.gesture, name))
    assert loaded.gesture.diversity == built.gesture.diversity
    assert loaded.gesture.motion == built.gesture.motion
    assert set(built.gesture.motion) == {
        "l1div", "l1div_beat", "beat_align_beat", "beat_align_corrected", "srgr"
    }  # fmt: skip
    for form in ("beat", "corrected"):
        for stem in built.clips:
            np.testing.assert_array_equal(
                loaded.gesture.beats[form][stem], built.gesture.beats[form][stem]
            )
            assert len(built.gesture.beats[form][stem]) > 0
    assert len(loaded.face.mixtures) == CFG.wind_repeats
    for a, b in zip(loaded.face.mixtures, built.face.mixtures, strict=True):
        np.testing.assert_array_equal(a.covariances, b.covariances)
        assert a.iterations == b.iterations and a.seed == b.seed
        assert a.lower_bound == b.lower_bound and a.converged == b.converged
    assert [m.seed for m in loaded.face.mixtures] == list(range(CFG.wind_repeats))
    # provenance: a digest per clip and wav, the files and the settings
    clips = loaded.provenance["clips"]
    assert [c["stem"] for c in clips] == list(built.clips)
    assert all(len(c["clip_sha256"]) == 64 and len(c["wav_sha256"]) == 64 for c in clips)
    assert loaded.provenance["settings"]["wind_repeats"] == CFG.wind_repeats


def test_a_reference_of_other_settings_or_files_is_refused(data, reference_file, tmp_path):  # noqa: F811
    samples = _samples(data, "ref_refused", 0.05)
    other = dataclasses.replace(CFG, wind_repeats=3)
    with pytest.raises(BadInputError, match="wind_repeats = 2.*uses 3"):
        _evaluate(data, samples=samples, reference=reference_file, cfg=other)
    # A changed test clip: copy the clips, rewrite one, and evaluate against the old reference.
    clips = tmp_path / "clips"
    shutil.copytree(data["clips"], clips)
    _write_clip(clips, tmp_path / "corpus", "2_scott_0_2_2", TEST["2_scott_0_2_2"], seed=99)
    with pytest.raises(BadInputError, match="2_scott_0_2_2 changed"):
        _evaluate(data, samples=samples, reference=reference_file, clips_dir=clips)
    # Changed audio (Beat Align's audio beats come from it).
    corpus = tmp_path / "corpus_copy"
    shutil.copytree(data["corpus"], corpus)
    wav = corpus / "4" / "4_lawrence_0_1_1.wav"
    write_wav(wav, np.zeros(RATE, np.float32), RATE)
    with pytest.raises(BadInputError, match="audio of test clip 4_lawrence_0_1_1 changed"):
        _evaluate(data, samples=samples, reference=reference_file, corpus_root=corpus)
    # Another test split.
    split = tmp_path / "test.txt"
    split.write_text("2_scott_0_1_1\n2_scott_0_2_2\n")
    with pytest.raises(BadInputError, match="was built for test clips"):
        _evaluate(data, samples=samples, reference=reference_file, split=split)
    # Another face VAE file.
    vae = tmp_path / "vae.safetensors"
    save_metric_model(vae, FaceVAE(51, 16).eval())  # freshly initialised: other weights
    with pytest.raises(BadInputError, match="another face_vae file"):
        _evaluate(data, samples=samples, reference=reference_file, face_vae=vae)
    # The same norm file elsewhere (a copied or moved results folder) is the same input.
    moved = tmp_path / "norm_copy.json"
    shutil.copy(data["root"] / "norm.json", moved)
    assert _evaluate(data, samples=samples, reference=reference_file, norm=moved)["metrics"]


def test_reference_cli_errors_leave_no_file(data, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "ref.npz"
    missing = data["root"] / "missing.safetensors"
    assert _reference_cli(data, out, motion_ae=missing) == 1
    assert not out.exists()
    assert "missing.safetensors" in capsys.readouterr().err
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match="broken.npz"):
        MetricReference.load(broken)
