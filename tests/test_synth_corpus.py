"""The synthetic corpus on disk: BEAT formats, numbering, manifest, determinism, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adm.commands import run
from adm.config import from_dict
from adm.data.annotations import read_emotion, read_semantic
from adm.data.audio import load_wav, read_wav_info
from adm.data.bvh import read_bvh
from adm.data.clips import camn_split, emotion_of_take, parse_clip_name
from adm.data.face import ARKIT_NAMES, read_face_json
from adm.data.synth import SynthConfig, expected_files, expected_stems, generate_corpus
from adm.data.synth import corpus as corpus_module
from adm.data.textgrid import read_textgrid
from adm.errors import ConfigError

SMALL = {"speakers": [2, 6], "train_takes": 1, "val_takes": 0, "test_takes": 1,
         "clip_seconds": 7.0}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[SynthConfig, Path]:
    root = tmp_path_factory.mktemp("synth") / "corpus"
    rc = run("synthesize", ["--root", str(root), "--config", json.dumps(SMALL), "--workers", "1"])
    assert rc == 0
    return from_dict(SynthConfig, SMALL), root


def test_take_numbering_follows_camn_split():
    cfg = SynthConfig()
    stems = expected_stems(cfg)
    assert len(stems) == 4 * 12 and len(set(stems)) == len(stems)
    takes_2 = [parse_clip_name(s).take for s in stems if s.startswith("2_scott_")]
    assert takes_2 == [1, 2, 57, 58, *range(9, 17)]
    splits = [camn_split(parse_clip_name(s)) for s in stems]
    assert splits.count("test") == 8 and splits.count("val") == 8 and splits.count("train") == 32
    assert stems[0] == "2_scott_0_1_1" and "8_catherine_0_16_16" in stems


def test_expected_stems_accept_the_config_as_a_plain_dict(tmp_path):
    assert expected_stems(SMALL) == expected_stems(from_dict(SynthConfig, SMALL))
    assert len(expected_files(SMALL, tmp_path)) == 4 * 6 + 1
    with pytest.raises(ConfigError, match="speeker"):
        expected_stems({"speeker": [2]})


def test_config_is_strict():
    with pytest.raises(ConfigError, match="clip_sec"):
        from_dict(SynthConfig, {"clip_sec": 5}, where="synth")
    with pytest.raises(ConfigError, match="test_takes"):
        from_dict(SynthConfig, {"test_takes": 40})
    with pytest.raises(ConfigError, match="speakers"):
        from_dict(SynthConfig, {"speakers": [31]})


def test_every_file_is_written_and_parses_with_the_beat_readers(corpus):
    cfg, root = corpus
    files = expected_files(cfg, root)
    assert files[-1] == root / "manifest.tsv"
    assert all(f.is_file() for f in files), [f for f in files if not f.is_file()]
    for stem in expected_stems(cfg):
        base = root / stem.split("_")[0] / stem
        bvh = read_bvh(base.with_suffix(".bvh"))
        assert len(bvh.header.joints) == 75 and bvh.header.num_channels == 228
        assert bvh.fps == pytest.approx(120.0, rel=1e-3)
        assert bvh.motion.shape == (int(7.0 * 120), 228)
        assert np.all(bvh.motion[0, bvh.header.channel_columns("Hips")[:3]] == 0.0)
        face = read_face_json(base.with_suffix(".json"))
        assert face.names == ARKIT_NAMES and face.weights.shape == (7 * 60, 51)
        assert face.weights.min() >= 0.0 and face.weights.max() <= 1.0
        info = read_wav_info(base.with_suffix(".wav"))
        assert info.sample_rate == 16000 and info.bits == 32 and info.format_code == 3  # float32
        audio = load_wav(base.with_suffix(".wav"))
        assert audio.shape == (7 * 16000,) and 0.1 < np.abs(audio).max() <= 1.0
        grid = read_textgrid(base.with_suffix(".TextGrid"))
        labels = [w.label for w in grid.words if w.label]
        assert len(labels) >= 8 and all(lab.isalnum() or "'" in lab for lab in labels)
        assert grid.xmax == pytest.approx(7.0) and list(grid.tiers) == ["words", "phones"]
        phones = [p.label for p in grid.phones if p.label]
        assert len(phones) > 2 * len(labels) and any(p[-1] == "1" for p in phones)
        sem = read_semantic(base.with_suffix(".txt"))
        assert len(sem) >= 2
        emo = read_emotion(base.with_suffix(".csv"))
        take = parse_clip_name(stem).take
        assert [e.label for e in emo] == [emotion_of_take(0, take)]


def test_manifest_lists_every_take_and_is_written_last(corpus):
    cfg, root = corpus
    rows = (root / "manifest.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["stem", "speaker", "split", "seconds"]
    table = [r.split("\t") for r in rows[1:]]
    assert [r[0] for r in table] == expected_stems(cfg)
    for stem, speaker, split, seconds in table:
        clip = parse_clip_name(stem)
        assert int(speaker) == clip.speaker and split == camn_split(clip)
        assert float(seconds) == 7.0
    manifest_time = (root / "manifest.tsv").stat().st_mtime_ns
    assert all(f.stat().st_mtime_ns <= manifest_time for f in expected_files(cfg, root))


def test_same_config_gives_identical_bytes_serial_and_in_a_pool(tmp_path):
    cfg = from_dict(SynthConfig, {"speakers": [6], "train_takes": 1, "val_takes": 1,
                                  "test_takes": 0, "clip_seconds": 5.0})  # fmt: skip
    generate_corpus(cfg, tmp_path / "a", workers=1)
    generate_corpus(cfg, tmp_path / "b", workers=2)
    for fa in expected_files(cfg, tmp_path / "a"):
        fb = tmp_path / "b" / fa.relative_to(tmp_path / "a")
        assert fa.read_bytes() == fb.read_bytes(), fa.name


def test_a_failed_run_leaves_no_manifest(tmp_path, monkeypatch):
    cfg = from_dict(SynthConfig, {"speakers": [2], "train_takes": 2, "val_takes": 0,
                                  "test_takes": 0, "clip_seconds": 5.0})  # fmt: skip
    root = tmp_path / "c"
    root.mkdir()
    (root / "manifest.tsv").write_text("stale\n")
    real = corpus_module.write_take
    calls = []

    def failing(cfg, spec, out):
        calls.append(spec.stem)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(cfg, spec, out)

    monkeypatch.setattr(corpus_module, "write_take", failing)
    with pytest.raises(OSError, match="disk full"):
        generate_corpus(cfg, root, workers=1)
    assert not (root / "manifest.tsv").exists()
    assert (root / "2" / f"{calls[0]}.bvh").is_file()  # the finished take stays, complete


def test_cli_rejects_an_unknown_key_by_name(tmp_path, capsys):
    rc = run("synthesize", ["--root", str(tmp_path / "x"), "--config", '{"speaker": [2]}'])
    assert rc == 1
    assert "speaker" in capsys.readouterr().err
    assert not (tmp_path / "x" / "manifest.tsv").exists()
