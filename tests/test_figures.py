"""``adm figures``: the JawOpen and training-curve PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.commands import run
from adm.io.frames import write_frames
from adm.tables.figures import labels_for
from adm.training.scalars import COLUMNS, ScalarLog

STEM = "2_scott_0_1_1"
FRAMES = 150


def _face(phase: float) -> np.ndarray:
    t = np.arange(FRAMES) / 30.0
    face = np.full((FRAMES, 51), 0.1, np.float32)
    face[:, 24] = 0.3 + 0.25 * np.sin(2 * np.pi * 1.5 * t + phase)  # jawOpen
    return face


@pytest.fixture()
def corpus(tmp_path) -> Path:
    write_frames(tmp_path / "clips" / f"{STEM}.parquet", {"face": _face(0.0)}, {"fps": 30})
    write_frames(tmp_path / "full" / "seed0" / f"{STEM}.parquet", {"face": _face(0.4)},
                 {"fps": 30})  # fmt: skip
    write_frames(tmp_path / "no_uwp" / "seed0" / f"{STEM}.parquet", {"face": _face(0.9)},
                 {"fps": 30})  # fmt: skip
    gesture_only = {"gesture": np.zeros((FRAMES, 141), np.float32)}
    write_frames(tmp_path / "a2g" / "seed0" / f"{STEM}.parquet", gesture_only, {"fps": 30})
    return tmp_path


def _jaw(root: Path, out: Path, clip: str = STEM, labels=("full", "no_uwp", "a2g")) -> int:
    samples = [str(root / v / "seed0") for v in ("full", "no_uwp", "a2g")]
    argv = ["jawopen", "--clip", clip, "--clips-dir", str(root / "clips"), "--samples", *samples]
    argv += ["--labels", *labels] if labels else []
    return run("figures", [*argv, "--out", str(out)])


def test_jawopen_png(corpus, caplog):
    out = corpus / "figs" / "jawopen.png"
    with caplog.at_level("INFO", logger="adm.tables"):
        assert _jaw(corpus, out) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000
    assert "a2g has no face task" in caplog.text
    assert sorted(p.name for p in out.parent.iterdir()) == ["jawopen.png"]


def test_jawopen_labels_default_to_variant_names(corpus):
    assert labels_for(None, [corpus / "full" / "seed0"], "folder") == ["full"]
    assert _jaw(corpus, corpus / "j.png", labels=None) == 0


def test_jawopen_unknown_clip_is_named(corpus, capsys):
    assert _jaw(corpus, corpus / "x.png", clip="9_nobody_0_1_1") == 1
    assert "9_nobody_0_1_1" in capsys.readouterr().err
    assert not (corpus / "x.png").exists()


def test_jawopen_clip_missing_from_samples_is_named(corpus, capsys):
    (corpus / "no_uwp" / "seed0" / f"{STEM}.parquet").unlink()
    assert _jaw(corpus, corpus / "x.png") == 1
    err = capsys.readouterr().err
    assert STEM in err and "no_uwp" in err


def test_jawopen_label_count_must_match(corpus, capsys):
    assert _jaw(corpus, corpus / "x.png", labels=("full",)) == 1
    assert "1 labels for 3" in capsys.readouterr().err


def _scalars(path: Path, tasks: tuple[str, ...], final_weight: float, scale: float) -> Path:
    log = ScalarLog(COLUMNS)
    for n, step in enumerate(range(1, 2001, 50)):
        row = {"step": step, "lr": 3e-5, "it_per_s": 10.0, "loss_total": 0.0}
        for task in ("gesture", "face"):
            active = task in tasks
            decay = scale * (0.25 * np.exp(-n / 8) + 0.007)
            row[f"loss_{task}"] = decay * (1.1 if task == "face" else 1.0) if active else None
            row[f"sigma_{task}"] = 1.0 if active else None
            share = final_weight if task == "gesture" else 1 - final_weight
            row[f"weight_{task}"] = (
                (0.5 + (share - 0.5) * n / 40) if len(tasks) == 2 else (1.0 if active else 0.0)
            )
        log.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    log.write(path)
    return path


def test_curves_png(tmp_path):
    files = [
        _scalars(tmp_path / "full" / "scalars.csv", ("gesture", "face"), 0.506, 1.0),
        _scalars(tmp_path / "no_uwp" / "scalars.csv", ("gesture", "face"), 0.5, 1.3),
        _scalars(tmp_path / "a2e" / "scalars.csv", ("face",), 0.0, 0.8),
    ]
    out = tmp_path / "curves.png"
    argv = ["curves", "--scalars", *map(str, files), "--out", str(out)]
    assert run("figures", argv) == 0
    assert out.stat().st_size > 30_000


def test_curves_missing_column_is_named(tmp_path, capsys):
    bad = tmp_path / "scalars.csv"
    bad.write_text("step,loss_total\n1,0.5\n")
    argv = ["curves", "--scalars", str(bad), "--out", str(tmp_path / "c.png")]
    assert run("figures", argv) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "loss_gesture" in err
