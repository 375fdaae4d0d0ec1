"""ARKit face JSON: read by name, round trip, and precise errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adm.data.face import ARKIT_NAMES, read_face_json, write_face_json
from adm.errors import BadClipError


def _weights(frames: int = 5) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, size=(frames, 51)).astype(np.float32)


def _write(path, names, rows):
    frames = [{"weights": list(r), "time": k / 60, "rotation": []} for k, r in enumerate(rows)]
    path.write_text(json.dumps({"names": names, "frames": frames}))
    return path


def test_names():
    assert len(ARKIT_NAMES) == 51 and len(set(ARKIT_NAMES)) == 51
    assert list(ARKIT_NAMES) == sorted(ARKIT_NAMES)
    assert ARKIT_NAMES[24] == "jawOpen" and "tongueOut" not in ARKIT_NAMES


def test_round_trip(tmp_path):
    w = _weights()
    write_face_json(tmp_path / "f.json", w, fps=60.0)
    face = read_face_json(tmp_path / "f.json")
    assert face.names == ARKIT_NAMES and face.fps == 60.0 and face.weights.dtype == np.float32
    np.testing.assert_array_equal(face.weights, w)
    raw = json.loads((tmp_path / "f.json").read_text())
    assert raw["frames"][3]["time"] == pytest.approx(3 / 60) and raw["frames"][0]["rotation"] == []


def test_columns_are_matched_by_name_and_extras_ignored(tmp_path):
    w = _weights()
    order = np.random.default_rng(1).permutation(51)
    names = [ARKIT_NAMES[i] for i in order] + ["tongueOut"]
    rows = np.concatenate([w[:, order], np.full((len(w), 1), 0.5)], axis=1)
    face = read_face_json(_write(tmp_path / "f.json", names, rows.tolist()), fps=30.0)
    np.testing.assert_array_equal(face.weights, w)
    assert face.fps == 30.0


def test_missing_names_are_listed(tmp_path):
    names = [n for n in ARKIT_NAMES if n not in ("jawOpen", "cheekPuff")]
    path = _write(tmp_path / "f.json", names, _weights()[:, :49].tolist())
    with pytest.raises(BadClipError, match="cheekPuff, jawOpen") as err:
        read_face_json(path)
    assert str(err.value).startswith(str(path))


def test_nan_names_frame_and_blendshape(tmp_path):
    rows = _weights().tolist()
    rows[3][24] = float("nan")
    with pytest.raises(BadClipError, match="frame 3: non-finite weight nan for jawOpen"):
        read_face_json(_write(tmp_path / "f.json", list(ARKIT_NAMES), rows))


def test_wrong_length_names_the_frame(tmp_path):
    rows = _weights().tolist()
    rows[2] = rows[2][:50]
    with pytest.raises(BadClipError, match="frame 2: 50 weights, expected 51"):
        read_face_json(_write(tmp_path / "f.json", list(ARKIT_NAMES), rows))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not a JSON file"),
        ('{"frames": []}', "'names'"),
        (json.dumps({"names": list(ARKIT_NAMES)}), "'frames'"),
        (json.dumps({"names": list(ARKIT_NAMES), "frames": []}), "no frames"),
        (json.dumps({"names": list(ARKIT_NAMES), "frames": [{"weights": ["a"] * 51}]}), "frame 0"),
    ],
)
def test_malformed_files(tmp_path, content, problem):
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(BadClipError, match=problem):
        read_face_json(path)
