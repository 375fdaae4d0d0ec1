"""Text condition: .vec filtering, per-frame word vectors, fastText training, CLIs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adm.commands import run
from adm.data.textgrid import Interval, write_textgrid
from adm.errors import MissingWeightsError
from adm.features.fasttext_train import utterances
from adm.features.vectors import filter_vec, load_fasttext, read_vector_table
from adm.io.frames import read_frames, write_frames

FPS = 30
VEC_ROWS = {
    "The": [9, 9, 9, 9],
    "the": [1, 0, 0, 0],
    "Hello": [0, 1, 0, 0],
    "world": [0, 0, 1, 0],
    "dog": [0, 0, 0, 1],
    "unused": [5, 5, 5, 5],
}


@pytest.fixture
def vec_file(tmp_path):
    path = tmp_path / "crawl.vec"
    lines = [f"{len(VEC_ROWS)} 4"] + [
        " ".join([w] + [f"{v:.1f}" for v in row]) + " " for w, row in VEC_ROWS.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def grid(path, words: list[tuple[float, float, str]], xmax: float = 2.0):
    write_textgrid(path, {"words": [Interval(*w) for w in words], "phones": []}, xmax=xmax)
    return path


def clip(path, num_frames: int):
    meta = {"num_frames": num_frames, "fps": FPS, "clip": "2_test_0_1_1", "speaker": 2}
    write_frames(path, {"gesture": np.zeros((num_frames, 3), np.float32)}, meta)
    return path


def filter_cli(vec, textgrids, out) -> int:
    argv = ["--vec", str(vec), "--textgrids", *map(str, textgrids), "--out", str(out)]
    return run("filter-vectors", [*argv, "--config", '{"dim": 4}'])


def run_text(tmp_path, textgrid, vectors_path, num_frames=60, config=None):
    out = tmp_path / "text.parquet"
    argv = [
        "--clip",
        str(clip(tmp_path / "clip.parquet", num_frames)),
        "--textgrid",
        str(textgrid),
        "--vectors",
        str(vectors_path),
        "--out",
        str(out),
        "--config",
        json.dumps(config or {"source": "vec", "dim": 4}),
    ]
    code = run("text-features", argv)
    return code, (read_frames(out) if code == 0 else None)


# hello 0.2-0.5 s, a pause, "World" 0.9-1.4 s, an unknown word 1.5-1.7 s.
WORDS = [(0.2, 0.5, "hello"), (0.9, 1.4, "World"), (1.5, 1.7, "zyzzyva")]


def test_vec_filtering_keeps_exactly_the_corpus_vocabulary(tmp_path, vec_file):
    grids = [grid(tmp_path / "a.TextGrid", WORDS), grid(tmp_path / "b.TextGrid", [(0, 1, "the")])]
    out = tmp_path / "filtered.parquet"
    assert filter_cli(vec_file, grids, out) == 0
    table = read_vector_table(out)
    # zyzzyva is not in the file; dog and unused are not in the corpus.
    assert sorted(table.table) == ["hello", "the", "world"]
    np.testing.assert_array_equal(table.table["the"], [1, 0, 0, 0])  # exact case preferred
    np.testing.assert_array_equal(table.table["hello"], [0, 1, 0, 0])  # from "Hello"
    assert read_frames(out).metadata["missing"] == ["zyzzyva"]


def test_cased_lookup_keeps_case(vec_file):
    words, rows = filter_vec(vec_file, {"The", "hello"}, lowercase=False)
    assert words == ["The"]
    np.testing.assert_array_equal(rows, [[9, 9, 9, 9]])


def test_per_frame_vectors_silence_and_unknown_words(tmp_path, vec_file):
    filtered = tmp_path / "filtered.parquet"
    textgrid = grid(tmp_path / "a.TextGrid", WORDS)
    assert filter_cli(vec_file, [textgrid], filtered) == 0
    code, table = run_text(tmp_path, textgrid, filtered)
    assert code == 0
    feats = table["text"]
    assert feats.shape == (60, 5)
    # Frame i is at i / 30 s; a shared boundary belongs to the later interval.
    hello, world, unknown = range(6, 15), range(27, 42), range(45, 51)
    speech = set(hello) | set(world) | set(unknown)
    silence = [i for i in range(60) if i not in speech]
    np.testing.assert_array_equal(feats[list(hello)], [[0, 1, 0, 0, 0]] * 9)
    np.testing.assert_array_equal(feats[list(world)], [[0, 0, 1, 0, 0]] * 15)
    np.testing.assert_array_equal(feats[list(unknown)], np.zeros((6, 5)))  # flag 0 too
    np.testing.assert_array_equal(feats[silence], [[0, 0, 0, 0, 1]] * len(silence))
    assert table.metadata["unknown_words"] == ["zyzzyva"]
    assert table.metadata["layout"]["dim"] == 5 and table.metadata["config_hash"]


def test_a_raw_vec_gives_the_same_features_as_its_filtered_table(tmp_path, vec_file):
    textgrid = grid(tmp_path / "a.TextGrid", WORDS)
    filtered = tmp_path / "filtered.parquet"
    assert filter_cli(vec_file, [textgrid], filtered) == 0
    _, from_table = run_text(tmp_path, textgrid, filtered)
    _, from_vec = run_text(tmp_path, textgrid, vec_file)
    np.testing.assert_array_equal(from_table["text"], from_vec["text"])


def test_empty_word_tier_and_a_short_textgrid_are_all_silence(tmp_path, vec_file):
    empty = grid(tmp_path / "empty.TextGrid", [])
    code, table = run_text(tmp_path, empty, vec_file)
    assert code == 0
    np.testing.assert_array_equal(table["text"], [[0, 0, 0, 0, 1]] * 60)
    short = grid(tmp_path / "short.TextGrid", [(0.0, 0.5, "dog")], xmax=0.5)
    _, table = run_text(tmp_path, short, vec_file, num_frames=90)
    flags = table["text"][:, 4]
    # 0.5 s = frame 15 is the word's inclusive end; past the TextGrid's end comes silence.
    assert flags[:16].sum() == 0 and flags[16:].all()


def test_missing_vectors_name_the_file_and_the_download(tmp_path, capsys):
    textgrid = grid(tmp_path / "a.TextGrid", WORDS)
    code, _ = run_text(tmp_path, textgrid, tmp_path / "crawl-300d-2M.vec")
    assert code == 1
    err = capsys.readouterr().err
    assert "crawl-300d-2M.vec: word vectors not found" in err and "dl.fbaipublicfiles.com" in err
    with pytest.raises(MissingWeightsError, match="cc.en.300.bin"):
        load_fasttext(tmp_path / "cc.en.300.bin", "bin")


def test_vectors_of_the_wrong_width_are_refused(tmp_path, vec_file, capsys):
    textgrid = grid(tmp_path / "a.TextGrid", WORDS)
    code, _ = run_text(tmp_path, textgrid, vec_file, config={"source": "vec", "dim": 300})
    assert code == 1 and "4 dims" in capsys.readouterr().err


def test_utterances_break_at_silences():
    assert utterances(["", "Hello", "world", "", "", "again", ""]) == ["hello world", "again"]
    assert utterances(["new\u00a0York ", "city"]) == ["new_york city"]  # one key per label
    assert utterances(["", ""]) == []


CORPUS = [
    [(0.1, 0.4, "the"), (0.4, 0.8, "quick"), (0.8, 1.2, "fox"), (1.5, 1.9, "jumps")],
    [(0.0, 0.3, "over"), (0.3, 0.6, "the"), (0.6, 1.0, "lazy"), (1.0, 1.4, "dog")],
]


def train(tmp_path, name: str, config: dict):
    grids = [grid(tmp_path / f"c{i}.TextGrid", words) for i, words in enumerate(CORPUS)]
    out = tmp_path / name
    argv = ["--textgrids", *map(str, grids), "--out", str(out), "--config", json.dumps(config)]
    assert run("fasttext-train", argv) == 0
    return out, grids


def test_trained_skipgram_has_the_configured_dim_and_is_deterministic(tmp_path):
    import fasttext

    config = {"dim": 16, "epoch": 2}
    first, _ = train(tmp_path, "a.bin", config)
    second, _ = train(tmp_path, "b.bin", config)
    other, _ = train(tmp_path, "c.bin", {**config, "seed": 7})
    a, b, c = (fasttext.load_model(str(p)) for p in (first, second, other))
    assert a.get_dimension() == 16
    assert set(a.words) - {"</s>"} == {"the", "quick", "fox", "jumps", "over", "lazy", "dog"}
    np.testing.assert_array_equal(a.get_input_matrix(), b.get_input_matrix())
    assert not np.array_equal(a.get_word_vector("fox"), c.get_word_vector("fox"))
    # Every row was initialised: small, finite values only (no stray memory).
    assert np.abs(a.get_input_matrix()).max() < 1.0


@pytest.mark.parametrize("dim", [16, 300])
def test_text_cli_end_to_end_with_a_trained_model(tmp_path, dim):
    model, grids = train(tmp_path, "corpus.bin", {"dim": dim, "epoch": 2})
    unseen = grid(tmp_path / "new.TextGrid", [(0.2, 0.6, "Fox"), (1.0, 1.3, "foxes")])
    code, table = run_text(tmp_path, unseen, model, config={"source": "trained", "dim": dim})
    assert code == 0
    feats = table["text"]
    assert feats.shape == (60, dim + 1)
    # Frames 6..17 say "fox" (known), 30..38 "foxes" (outside the corpus: zero vector, flag 0);
    # shared boundaries go to the pause after each word.
    fox, foxes = np.arange(6, 18), np.arange(30, 39)
    assert np.all(np.linalg.norm(feats[fox, :dim], axis=1) > 0)
    np.testing.assert_array_equal(feats[fox, :dim], np.repeat(feats[fox[:1], :dim], 12, axis=0))
    assert not feats[foxes].any()
    silence = np.setdiff1d(np.arange(60), np.concatenate([fox, foxes]))
    assert feats[silence, dim].all() and not feats[silence, :dim].any()
    assert table.metadata["unknown_words"] == ["foxes"]


def test_training_keeps_to_the_split(tmp_path, capsys):
    import fasttext

    names = ("2_scott_0_9_9", "2_scott_0_10_10")
    grids = [
        grid(tmp_path / f"{n}.TextGrid", words) for n, words in zip(names, CORPUS, strict=True)
    ]
    split = tmp_path / "train.txt"
    split.write_text("2_scott_0_10_10\n2_scott_0_11_11\n")
    out = tmp_path / "m.bin"
    argv = ["--textgrids", *map(str, grids), "--split", str(split), "--out", str(out)]
    assert run("fasttext-train", [*argv, "--config", '{"dim": 8, "epoch": 1}']) == 0
    assert set(fasttext.load_model(str(out)).words) == {"over", "the", "lazy", "dog", "</s>"}
    split.write_text("2_scott_0_12_12\n")
    assert run("fasttext-train", argv) == 1
    assert "lists none of the 2 TextGrid(s)" in capsys.readouterr().err


def test_too_high_a_min_count_is_a_config_error(tmp_path, capsys):
    grids = [grid(tmp_path / f"c{i}.TextGrid", words) for i, words in enumerate(CORPUS)]
    argv = ["--textgrids", *map(str, grids), "--out", str(tmp_path / "m.bin")]
    assert run("fasttext-train", [*argv, "--config", '{"min_count": 3}']) == 1
    assert "fasttext.min_count" in capsys.readouterr().err


def test_training_on_an_empty_corpus_is_an_error(tmp_path, capsys):
    empty = grid(tmp_path / "e.TextGrid", [])
    argv = ["--textgrids", str(empty), "--out", str(tmp_path / "m.bin")]
    assert run("fasttext-train", argv) == 1
    assert "no words" in capsys.readouterr().err
    assert not (tmp_path / "m.bin").exists()


@pytest.mark.parametrize("source", ["vec", "trained"])
def test_a_batch_writes_each_clip_exactly_as_its_own_job_would(tmp_path, vec_file, source):
    """One job opens the vectors once for a batch of clips (the union of their words): each
    clip's table (values, unknown words, metadata) equals the one its own job writes."""
    if source == "vec":
        vectors, config = vec_file, {"source": "vec", "dim": 4}
    else:
        vectors, _ = train(tmp_path, "corpus.bin", {"dim": 16, "epoch": 2})
        config = {"source": "trained", "dim": 16}
    words = [WORDS, [(0.1, 0.4, "dog"), (0.5, 0.9, "the"), (1.0, 1.2, "qwxz")], []]
    clips = [clip(tmp_path / f"c{i}.parquet", 45 + 15 * i) for i in range(3)]
    grids = [grid(tmp_path / f"g{i}.TextGrid", w) for i, w in enumerate(words)]
    outs = [tmp_path / "batch" / f"{i}.parquet" for i in range(3)]
    argv = ["--clip", *map(str, clips), "--textgrid", *map(str, grids), "--out", *map(str, outs)]
    argv += ["--vectors", str(vectors), "--config", json.dumps(config)]
    assert run("text-features", argv) == 0
    for c, g, out in zip(clips, grids, outs, strict=True):
        alone = tmp_path / "alone" / out.name
        argv = ["--clip", str(c), "--textgrid", str(g), "--out", str(alone)]
        argv += ["--vectors", str(vectors), "--config", json.dumps(config)]
        assert run("text-features", argv) == 0
        a, b = read_frames(out), read_frames(alone)
        np.testing.assert_array_equal(a["text"], b["text"])
        assert a.metadata == b.metadata and a["text"].shape[0] == b.metadata["num_frames"]
    assert read_frames(outs[1]).metadata["unknown_words"] == ["qwxz"]
