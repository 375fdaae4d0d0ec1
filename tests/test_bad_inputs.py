"""Bad input to the stage commands: one ``error:`` line naming the file (or key) and what is
wrong, exit status 1, no traceback, no output file, and nothing accepted silently."""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from clipfactory import make_clip

from adm.commands import run
from adm.config import from_dict
from adm.data.face import ARKIT_NAMES
from adm.data.settings import DataConfig
from adm.errors import ConfigError
from adm.io.frames import read_frames

ROOT = Path(__file__).resolve().parents[1]
STEM = "2_scott_0_9_9"


@pytest.fixture(autouse=True)
def _log_to_this_tests_stderr():
    """Each command sets up the adm log handler on the stderr of the moment; with capsys that
    stream closes after the test, so each test starts without the handler and removes its own."""
    logger = logging.getLogger("adm")
    before = logger.handlers[:]
    logger.handlers.clear()
    yield
    logger.handlers[:] = before


def one_error(capsys) -> str:
    """The single ``error:`` line the command printed."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert err.count(lines[0].split("error: ", 1)[1]) == 1, err  # printed once, not also logged
    assert "Traceback" not in err
    return lines[0]


def run_prepare(root: Path, out: Path, **cfg) -> int:
    argv = ["--clip", STEM, "--root", str(root), "--out", str(out), "--config", json.dumps(cfg)]
    return run("prepare", argv)


def _edit_json(path: Path, frame: int, name: str, value) -> None:
    data = json.loads(path.read_text())
    data["frames"][frame]["weights"][data["names"].index(name)] = value
    path.write_text(json.dumps(data))


def _drop_rotation_channel(path: Path, joint: str) -> None:
    lines = path.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip() == f"JOINT {joint}")
    channels = next(i for i in range(at, at + 4) if "CHANNELS" in lines[i])
    lines[channels] = lines[channels].replace("Xrotation", "Xposition")
    path.write_text("\n".join(lines))


# ext, damage, what the message must say (besides the file's path)
CLIP_CASES = {
    "bvh-missing-gesture-joint": (
        "bvh",
        lambda p: p.write_text(p.read_text().replace("JOINT RightHand\n", "JOINT RHand\n")),
        "1 of the 47 gesture joints missing from the HIERARCHY: RightHand",
    ),
    "bvh-joint-lacks-rotation-channel": (
        "bvh",
        lambda p: _drop_rotation_channel(p, "LeftForeArm"),
        "joint LeftForeArm has rotation channels ['Yrotation', 'Zrotation']",
    ),
    "face-weight-7": (
        "json",
        lambda p: _edit_json(p, 3, "jawOpen", 7.0),
        "frame 3: jawOpen weight 7 is outside [0, 1]",
    ),
    "face-weight-minus-3": (
        "json",
        lambda p: _edit_json(p, 0, "browInnerUp", -3.0),
        "frame 0: browInnerUp weight -3 is outside [0, 1]",
    ),
    "textgrid-without-words-tier": (
        "TextGrid",
        lambda p: p.write_text(p.read_text().replace('"words"', '"transcript"')),
        "no word tier: the interval tiers are named ['transcript', 'phones']",
    ),
    "textgrid-utf16-without-bom": (
        "TextGrid",
        lambda p: p.write_bytes(p.read_text().encode("utf-16-le")),
        "encoding: looks like UTF-16 (little-endian) text without a byte-order mark",
    ),
    "semantic-all-non-numeric": (
        "txt",
        lambda p: p.write_text("type\tstart\tend\tdur\tscore\nbeat\tsoon\tlater\tlong\thigh\n"),
        "line 2: start/end 'soon', 'later' are not numbers",
    ),
    "semantic-header-only": (
        "txt",
        lambda p: p.write_text("type\tstart\tend\tduration\tscore\n"),
        "no annotated interval: the file has only a header line",
    ),
    "emotion-all-non-numeric": (
        "csv",
        lambda p: p.write_text("name,start,end,duration,label\nx,a,b,c,d\n"),
        "line 2: start/end 'a', 'b' are not numbers",
    ),
}


@pytest.mark.parametrize("case", CLIP_CASES)
def test_a_bad_clip_file_is_one_error_naming_it_or_a_skip_with_its_reason(tmp_path, capsys, case):
    ext, damage, expected = CLIP_CASES[case]
    files = make_clip(tmp_path, STEM)
    damage(files[ext])
    out = tmp_path / "clips" / f"{STEM}.parquet"
    assert run_prepare(tmp_path, out) == 1
    line = one_error(capsys)
    assert line.startswith(f"error: {files[ext]}: ") and expected in line, line
    assert not out.exists()

    assert run_prepare(tmp_path, out, on_bad_clip="skip") == 0  # the run goes on
    marker = read_frames(out).metadata
    assert marker["skipped"] and marker["file"] == str(files[ext]) and expected in marker["reason"]


def test_small_overshoot_of_face_weights_is_kept_as_written(tmp_path):
    files = make_clip(tmp_path, STEM)
    _edit_json(files["json"], 0, "jawOpen", 1.03)
    _edit_json(files["json"], 2, "jawOpen", -0.02)
    out = tmp_path / "c.parquet"
    assert run_prepare(tmp_path, out) == 0
    face = read_frames(out)["face"]
    jaw = ARKIT_NAMES.index("jawOpen")
    np.testing.assert_allclose(face[[0, 1], jaw], [1.03, -0.02], rtol=1e-6)  # frames 0, 2


def test_the_prepare_command_shows_no_traceback(tmp_path):
    files = make_clip(tmp_path, STEM)
    files["bvh"].write_text(files["bvh"].read_text().replace("JOINT Neck1\n", "JOINT Nek1\n"))
    result = subprocess.run(
        [sys.executable, "-m", "adm", "prepare", "--clip", STEM, "--root", str(tmp_path),
         "--out", str(tmp_path / "c.parquet")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {files['bvh']}: 1 of the 47 gesture joints missing from the HIERARCHY: Neck1"
    )
    assert "Traceback" not in result.stderr and result.stderr.count("error:") == 1


# ----------------------------------------------------------------------------- frame rates
@pytest.mark.parametrize("fps", [7, 25, 240])
def test_an_fps_that_does_not_divide_the_source_rates_fails_before_any_clip_is_read(
    tmp_path, capsys, fps
):
    # The corpus root does not even exist: the settings are refused first.
    assert run_prepare(tmp_path / "no-corpus", tmp_path / "c.parquet", fps=fps) == 1
    line = one_error(capsys)
    assert f"data.prepare.fps: {fps} does not divide data.prepare.bvh_fps (120)" in line
    assert "rates that divide both 120 and 60: [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]" in line
    with pytest.raises(ConfigError, match="does not divide"):
        from_dict(DataConfig, {"prepare": {"fps": fps}}, "data")
    # Any rate works when the streams are low-pass filtered instead of decimated.
    from_dict(DataConfig, {"prepare": {"fps": fps, "resample": "filtered"}}, "data")


def test_the_pipeline_refuses_such_an_fps_at_start_up(tmp_path):
    override = tmp_path / "fps.yaml"
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["data"]["prepare"]["fps"] = 7
    override.write_text(yaml.safe_dump(cfg))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(override)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "data.prepare.fps: 7 does not divide data.prepare.bvh_fps (120)" in out, out


def test_the_bundled_corpus_rates_must_match_the_prepare_rates():
    with pytest.raises(ConfigError, match=r"data.synth.body_fps \(100\) differs"):
        from_dict(DataConfig, {"synth": {"body_fps": 100.0}}, "data")


# ----------------------------------------------------------------------------- by-hand values
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"fps": 0}, "data.prepare.fps: expected an integer >= 1, got 0"),
        ({"fps": -30}, "data.prepare.fps: expected an integer >= 1, got -30"),
        ({"bvh_fps": 0}, "data.prepare.bvh_fps: expected a number > 0, got 0.0"),
        ({"max_length_mismatch_s": -1}, "data.prepare.max_length_mismatch_s"),
    ],
)
def test_prepare_settings_the_schema_would_block(tmp_path, capsys, config, expected):
    make_clip(tmp_path, STEM)
    assert run_prepare(tmp_path, tmp_path / "c.parquet", **config) == 1
    assert expected in one_error(capsys)


@pytest.mark.parametrize(
    ("command", "argv", "expected"),
    [
        ("prepare", ["--clip", "2_wayne_0_1_1", "--root", "r", "--out", "o"],
         "argument --clip: clip name '2_wayne_0_1_1': speaker 2 is named 'scott', not 'wayne'"),
        ("prepare", ["--clip", "2_scott_0_200_200", "--root", "r", "--out", "o"],
         "take 200 is beyond BEAT's 118 speech takes"),
        ("train", ["--clips-dir", "c", "--audio-dir", "a", "--text-dir", "t",
                   "--split-dir", "s", "--norm", "n", "--speakers", "2", "99", "--outdir", "o"],
         "argument --speakers: 99 is not a BEAT speaker id (1-30)"),
        ("download", ["--root", "r", "--speakers", "0"],
         "argument --speakers: 0 is not a BEAT speaker id (1-30)"),
        ("sample", ["--checkpoint", "c", "--clips-dir", "c", "--audio-dir", "a",
                    "--text-dir", "t", "--clips", STEM, "--seed", "-1", "--outdir", "o"],
         "argument --seed: -1 is negative"),
        ("norm-stats", ["--train", "t", "--clips-dir", "c", "--out", "o", "--min-std", "0"],
         "argument --min-std: 0 is not a finite number > 0"),
    ],
    ids=["clip-speaker-name", "clip-take", "train-speaker-99", "download-speaker-0",
         "sample-seed", "min-std"],
)  # fmt: skip
def test_command_line_values_the_schema_would_block(capsys, command, argv, expected):
    with pytest.raises(SystemExit) as exit_:
        run(command, argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


# ----------------------------------------------------------------------------- Parquet files
def _prepared(tmp_path: Path) -> Path:
    make_clip(tmp_path / "corpus", STEM)
    out = tmp_path / "clips" / f"{STEM}.parquet"
    assert run_prepare(tmp_path / "corpus", out) == 0
    return out


DAMAGES = {
    "garbage": lambda raw: os.urandom(len(raw)),
    "truncated": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "bit-flip": lambda raw: raw[:1000] + bytes([raw[1000] ^ 0x08]) + raw[1001:],
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_parquet_is_named_by_every_stage_that_reads_it(tmp_path, capsys, damage):
    clip = _prepared(tmp_path)
    clip.write_bytes(DAMAGES[damage](clip.read_bytes()))
    (tmp_path / "train.txt").write_text(f"{STEM}\n")
    commands = {
        "split": (["--outdir", str(tmp_path / "s"), "--skipped", str(tmp_path / "k.tsv"),
                   str(clip)]),
        "norm-stats": (["--train", str(tmp_path / "train.txt"), "--clips-dir",
                        str(clip.parent), "--out", str(tmp_path / "n.json")]),
    }  # fmt: skip
    for name, argv in commands.items():
        if damage == "bit-flip" and name == "split":
            continue  # split reads only the metadata; the flip is in a data page
        assert run(name, argv) == 1, name
        line = one_error(capsys)
        assert line.startswith(f"error: {clip}: "), (name, line)
    if damage == "bit-flip":
        assert "CRC checksum verification failed" in line  # the page checksum caught it
    else:  # the feature stages read the metadata (T and fps) of the clip
        wav = tmp_path / "corpus" / "2" / f"{STEM}.wav"
        argv = ["--clip", str(clip), "--wav", str(wav), "--out", str(tmp_path / "a.parquet")]
        assert run("audio-features", argv) == 1
        assert one_error(capsys).startswith(f"error: {clip}: ")
    assert not (tmp_path / "s").exists() and not (tmp_path / "n.json").exists()


def test_a_table_of_another_kind_is_named_with_the_columns_it_lacks(tmp_path, capsys):
    clip = _prepared(tmp_path)
    from adm.io.frames import write_frames

    write_frames(clip, {"audio": np.zeros((4, 3), np.float32)}, {"clip": STEM})
    (tmp_path / "train.txt").write_text(f"{STEM}\n")
    argv = ["--train", str(tmp_path / "train.txt"), "--clips-dir", str(clip.parent),
            "--out", str(tmp_path / "n.json")]  # fmt: skip
    assert run("norm-stats", argv) == 1
    assert f"{clip}: lacks column(s) ['gesture', 'face'] (it has ['audio'])" in one_error(capsys)


def test_split_refuses_a_renamed_clip(tmp_path, capsys):
    clip = _prepared(tmp_path)
    renamed = clip.with_name("2_scott_0_10_10.parquet")
    clip.rename(renamed)
    argv = ["--outdir", str(tmp_path / "s"), "--skipped", str(tmp_path / "k.tsv"), str(renamed)]
    assert run("split", argv) == 1
    assert f"{renamed}: holds clip {STEM}, not 2_scott_0_10_10" in one_error(capsys)


# ----------------------------------------------------------------------------- full disk
def test_a_full_disk_names_the_output_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import pyarrow.parquet as pq

    def full(*_args, **_kwargs):  # pyarrow's own error for ENOSPC: errno 28, no file name
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space")

    make_clip(tmp_path, STEM)
    monkeypatch.setattr(pq, "write_table", full)
    out = tmp_path / "clips" / f"{STEM}.parquet"
    assert run_prepare(tmp_path, out) == 1
    assert one_error(capsys) == f"error: {out}: cannot write (No space left on device)"
    assert list(out.parent.iterdir()) == []  # no temporary, no partial file


def test_a_full_disk_while_saving_weights_or_state_names_the_file(tmp_path, monkeypatch):
    import torch
    from safetensors import SafetensorError

    import adm.io.tensors as tensors_module
    from adm.errors import WriteError
    from adm.training.checkpoint import save_state, write_checkpoint_dir, write_weights

    def full_safetensors(*_args, **_kwargs):  # safetensors' words for ENOSPC
        raise SafetensorError(
            "Error while serializing: I/O error: No space left on device (os error 28)"
        )

    class FullFile:
        def __init__(self, *_args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            return False

        def write(self, _data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    weights = {"w": torch.zeros(3)}
    monkeypatch.setattr(tensors_module, "save_file", full_safetensors)
    with pytest.raises(WriteError) as err:
        write_checkpoint_dir(
            tmp_path, 5, {"model.safetensors": lambda p: write_weights(p, weights, {})}
        )
    assert (
        str(err.value)
        == f"{tmp_path / 'step_5' / 'model.safetensors'}: cannot write (No space left on device)"
    )
    monkeypatch.undo()
    monkeypatch.setattr("builtins.open", FullFile)
    with pytest.raises(WriteError) as err:
        save_state(tmp_path / "state.pt", {"step": 1, "x": torch.zeros(1000)})
    assert err.value.path == tmp_path / "state.pt" and err.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []  # no step_5, no temporary folder


# ----------------------------------------------------------------------------- offline BEAT
def test_offline_with_a_partial_local_copy_says_which_clips_are_missing(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "beat"
    (root / "2").mkdir(parents=True)
    for ext in ("bvh", "json", "wav", "TextGrid"):
        (root / "2" / f"2_scott_0_1_1.{ext}").write_text("x")
    (root / "2" / "2_scott_0_2_2.bvh").write_text("x")
    config = json.dumps({"kinds": [0], "speech_takes": 4})
    argv = ["--root", str(root), "--speakers", "2", "--config", config]
    assert run("download", argv) == 1
    line = one_error(capsys)
    assert "HF_HUB_OFFLINE is set" in line
    assert f"The local copy in {root} is incomplete: 2 of 4 clips absent " in line
    assert "(2_scott_0_3_3, 2_scott_0_4_4)" in line
    assert "1 clips incomplete (2_scott_0_2_2 lacks json/wav/TextGrid)" in line
    assert not (root / "manifest.tsv").exists()


# ----------------------------------------------------------------------------- beyond the list
def _face_with(value) -> str:
    frame = {"weights": [0.5] * len(ARKIT_NAMES), "time": 0.0, "rotation": []}
    frame["weights"][5] = value
    return json.dumps({"names": list(ARKIT_NAMES), "frames": [frame]})


def _wav_rate(rate: int):
    def damage(p: Path) -> None:
        raw = bytearray(p.read_bytes())
        raw[24:28] = rate.to_bytes(4, "little")
        p.write_bytes(bytes(raw))

    return damage


# ext, damage of a good file, message
READER_CASES = {
    "face-weight-true": ("json", lambda p: p.write_text(_face_with(True)),
                         "frame 0: weight true is not a number"),
    "face-weight-string": ("json", lambda p: p.write_text(_face_with("0.5")),
                           'frame 0: weight "0.5" is not a number'),
    "face-name-twice": ("json", lambda p: p.write_text(
        p.read_text().replace('"browDownLeft"', '"jawOpen"', 1)),
        "blendshapes named twice in 'names': jawOpen"),
    "bvh-joint-twice": ("bvh", lambda p: p.write_text(
        p.read_text().replace("JOINT LeftHand\n", "JOINT RightHand\n")),
        "joint RightHand declared twice"),
    "bvh-utf16": ("bvh", lambda p: p.write_bytes(p.read_text().encode("utf-16-le")),
                  "encoding: looks like UTF-16 (little-endian)"),
    "bvh-not-bvh": ("bvh", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)),
                    "not a BVH file: the first line is not 'HIERARCHY'"),
    "wav-rate-1-hz": ("wav", _wav_rate(1), "bad header: 1 channels at 1 Hz"),
    "wav-rate-4-ghz": ("wav", _wav_rate(4_000_000_000), "at 4000000000 Hz"),
    "textgrid-nan-count": ("TextGrid", lambda p: p.write_text(
        p.read_text().replace("size = 2", "size = nan", 1)), "tier count 'nan' is not a number"),
    "textgrid-two-word-tiers": ("TextGrid", lambda p: p.write_text(
        p.read_text().replace('"phones"', '"Words"')), "several word tiers ['words', 'Words']"),
    "semantic-empty": ("txt", lambda p: p.write_text(""),
                       "no annotated interval: the file has no line"),
    "semantic-infinite-end": ("txt", lambda p: p.write_text("02_deictic_l\t1\tinf\tinf\t0.5\n"),
                              "line 1: need 0 <= start <= end, got 1.0 .. inf"),
    "emotion-latin-1": ("csv", lambda p: p.write_bytes("émotion,0,1,1,0\n".encode("latin-1")),
                        "encoding: not UTF-8 text (byte 0xe9 at offset 0)"),
}  # fmt: skip


@pytest.mark.parametrize("case", READER_CASES)
def test_other_malformed_clip_files(tmp_path, capsys, case):
    ext, damage, expected = READER_CASES[case]
    files = make_clip(tmp_path, STEM)
    damage(files[ext])
    assert run_prepare(tmp_path, tmp_path / "c.parquet") == 1
    line = one_error(capsys)
    assert line.startswith(f"error: {files[ext]}: ") and expected in line, line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe\x00garbage", "not a split list: not UTF-8 text"),
        ("2_scott_0_1_1\nhello\n", "line 2: clip name 'hello' does not match"),
        ("2_scott_0_1_1\n2_scott_0_1_1\n", "line 2: clip 2_scott_0_1_1 listed twice"),
        ("", "the train split lists no clip"),
    ],
    ids=["binary", "not-a-clip", "twice", "empty"],
)
def test_malformed_split_lists(tmp_path, capsys, content, expected):
    listing = tmp_path / "train.txt"
    listing.write_bytes(content if isinstance(content, bytes) else content.encode())
    argv = ["--train", str(listing), "--clips-dir", str(tmp_path), "--out", str(tmp_path / "n")]
    assert run("norm-stats", argv) == 1
    line = one_error(capsys)
    assert line.startswith(f"error: {listing}: ") and expected in line, line


NORM = {"gesture": 141, "face": 51}


def _norm(**change) -> str:
    streams = {k: {"mean": [0.0] * d, "std": [1.0] * d} for k, d in NORM.items()}
    for key, value in change.items():
        stream, field = key.split("__")
        streams[stream][field] = value
    return json.dumps({"streams": streams})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not a normalisation statistics file"),
        ('{"streams": {}}', "no 'streams' object"),
        (_norm(gesture__std=[1.0] * 140), "stream 'gesture': mean [141] and std [140] differ"),
        (_norm(face__std=[0.0] * 51), "stream 'face': non-finite mean or std, or std <= 0"),
        (_norm(face__mean=["x"] * 51), "stream 'face': needs 'mean' and 'std' lists of numbers"),
        (json.dumps({"streams": {"gesture": {"mean": [0.0] * 3, "std": [1.0] * 3}}}),
         "stream 'gesture' has 3 dims, expected 141"),
    ],
    ids=["not-json", "no-streams", "shapes", "zero-std", "strings", "width"],
)  # fmt: skip
def test_malformed_normalisation_statistics(tmp_path, content, expected):
    from adm.data.normalization import load_norm_stats
    from adm.errors import BadInputError

    path = tmp_path / "norm.json"
    path.write_text(content)
    with pytest.raises(BadInputError) as err:
        load_norm_stats(path)
    assert err.value.path == path and expected in err.value.problem, err.value.problem


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("2 3\nhello 1 2 x\n", "line 2: not a fastText .vec row (a word, then numbers)"),
        ("2 3\nhello 1 2\n", "line 2: word 'hello' has 2 values, expected 3"),
        ("\x00\x01binary\n", "line 1: not a fastText .vec row"),
        ("2 3\nbonjour 1 2 3\n", "none of the 1 corpus words has a vector here"),
    ],
    ids=["non-numeric", "width", "binary", "no-corpus-word"],
)
def test_malformed_word_vector_files(tmp_path, content, expected):
    from adm.errors import BadInputError
    from adm.features.vectors import filter_vec

    path = tmp_path / "v.vec"
    path.write_text(content)
    with pytest.raises(BadInputError) as err:
        filter_vec(path, {"hello"})
    assert err.value.path == path and expected in err.value.problem, err.value.problem
