"""Praat TextGrids: both layouts, encodings, gap filling, errors and words per frame."""

from __future__ import annotations

import pytest

from adm.data.textgrid import Interval, read_textgrid, word_per_frame, write_textgrid
from adm.errors import BadClipError

SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
2.5
<exists>
3
"IntervalTier"
"phonemes"
0
2.5
1
0
2.5
"AH"
"TextTier"
"events"
0
2.5
1
1.0
"click"
"IntervalTier"
"words"
0
2.5
2
0
1.25
"say ""hi"""
1.25
2.5
""
'''


def test_round_trip_fills_gaps(tmp_path):
    words = [Interval(0.5, 1.0, "hello"), Interval(1.0, 1.5, "world")]
    write_textgrid(tmp_path / "a.TextGrid", {"words": words, "phones": []}, xmax=2.0)
    tg = read_textgrid(tmp_path / "a.TextGrid")
    assert (tg.xmin, tg.xmax) == (0.0, 2.0)
    assert tg.words == (Interval(0.0, 0.5, ""), *words, Interval(1.5, 2.0, ""))
    assert tg.phones == (Interval(0.0, 2.0, ""),)  # an empty tier still covers [xmin, xmax]
    text = (tmp_path / "a.TextGrid").read_text()
    assert text.startswith('File type = "ooTextFile"\nObject class = "TextGrid"\n')
    assert "intervals: size = 4" in text


def test_write_rejects_overlaps(tmp_path):
    with pytest.raises(ValueError, match="overlaps"):
        tiers = {"words": [Interval(0, 1, "a"), Interval(0.5, 2, "b")]}
        write_textgrid(tmp_path / "a.TextGrid", tiers, xmax=2)


def test_short_layout_utf16_quotes_and_tier_choice(tmp_path):
    path = tmp_path / "s.TextGrid"
    path.write_text(SHORT, encoding="utf-16")  # with a BOM
    tg = read_textgrid(path)
    assert list(tg.tiers) == ["phonemes", "words"]  # the point tier is left out
    assert tg.words == (Interval(0, 1.25, 'say "hi"'), Interval(1.25, 2.5, ""))  # by name
    assert tg.phones == (Interval(0, 2.5, "AH"),)


def test_long_layout_with_utf8_bom_and_tiers_found_by_name(tmp_path):
    tiers = {"Words": [Interval(0, 1, "café")], "Phonemes": [Interval(0, 2, "K")]}
    write_textgrid(tmp_path / "a.TextGrid", tiers, 2.0)
    raw = (tmp_path / "a.TextGrid").read_bytes()
    (tmp_path / "a.TextGrid").write_bytes(b"\xef\xbb\xbf" + raw)
    tg = read_textgrid(tmp_path / "a.TextGrid")
    assert tg.words[0].label == "café"  # names compare without case
    assert tg.phones[0].label == "K"
    # The Montreal Forced Aligner prefixes a speaker's tiers with its name.
    write_textgrid(tmp_path / "m.TextGrid", {"scott - words": [Interval(0, 1, "a")]}, 2.0)
    assert read_textgrid(tmp_path / "m.TextGrid").words[0].label == "a"
    assert read_textgrid(tmp_path / "m.TextGrid").phones == ()


def test_a_textgrid_without_a_word_tier_is_refused_not_read_by_position(tmp_path):
    # Before, the first tier (here the phonemes) silently stood in for the words.
    tiers = {"phones": [Interval(0, 1, "AH")], "tier B": [Interval(0, 2, "K")]}
    write_textgrid(tmp_path / "a.TextGrid", tiers, 2.0)
    with pytest.raises(BadClipError, match=r"no word tier.*\['phones', 'tier B'\].*'words'"):
        read_textgrid(tmp_path / "a.TextGrid")
    two = {"words": [Interval(0, 1, "a")], "Word": [Interval(0, 1, "b")]}
    write_textgrid(tmp_path / "b.TextGrid", two, 2.0)
    with pytest.raises(BadClipError, match="several word tiers"):
        read_textgrid(tmp_path / "b.TextGrid")


def test_utf16_without_bom_names_the_encoding(tmp_path):
    write_textgrid(tmp_path / "a.TextGrid", {"words": [Interval(0, 1, "a")]}, 2.0)
    text = (tmp_path / "a.TextGrid").read_text()
    for codec, endian in (("utf-16-le", "little-endian"), ("utf-16-be", "big-endian")):
        path = tmp_path / f"{codec}.TextGrid"
        path.write_bytes(text.encode(codec))  # no byte-order mark
        with pytest.raises(BadClipError, match=f"UTF-16 \\({endian}\\).*byte-order mark") as err:
            read_textgrid(path)
        assert err.value.path == path
    latin = tmp_path / "latin.TextGrid"
    latin.write_bytes(text.replace('"a"', '"café"').encode("latin-1"))
    with pytest.raises(BadClipError, match="encoding: not UTF-8 text"):
        read_textgrid(latin)


def _grid(tmp_path, text: str):
    path = tmp_path / "bad.TextGrid"
    path.write_text(text)
    return path


def test_errors(tmp_path):
    with pytest.raises(BadClipError, match="not a TextGrid"):
        read_textgrid(_grid(tmp_path, "hello world\n"))
    no_tiers = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1\n<absent>\n'
    with pytest.raises(BadClipError, match="no tiers"):
        read_textgrid(_grid(tmp_path, no_tiers))
    points_only = SHORT.replace("\n3\n", "\n1\n", 1).split('"IntervalTier"')[0]
    points_only = points_only + '"TextTier"\n"events"\n0\n2.5\n0\n'
    with pytest.raises(BadClipError, match="no word tier"):
        read_textgrid(_grid(tmp_path, points_only))
    unordered = SHORT.replace("0\n1.25\n", "1.3\n1.4\n", 1)
    with pytest.raises(BadClipError, match="out of order") as err:
        read_textgrid(_grid(tmp_path, unordered))
    assert str(err.value).startswith(str(tmp_path / "bad.TextGrid"))
    write_textgrid(tmp_path / "a.TextGrid", {"words": [Interval(0, 1, "a")]}, 2.0)
    lines = (tmp_path / "a.TextGrid").read_text().split("\n")
    assert lines[15].strip() == "xmin = 0.0"  # the first interval's start
    lines[15] = "            xmin = 0,0 "
    with pytest.raises(BadClipError, match=r"line 16: interval xmin '0,0' is not a number"):
        read_textgrid(_grid(tmp_path, "\n".join(lines)))


def test_word_per_frame_boundaries():
    words = (Interval(0.0, 0.5, ""), Interval(0.5, 1.0, "hello"), Interval(1.0, 1.2, "world"))
    # Frames at 0, .25, .5, .75, 1.0, 1.25: 0.5 and 1.0 are shared boundaries (later wins);
    # 1.25 is past every interval.
    assert word_per_frame(words, 6, fps=4) == ["", "", "hello", "hello", "world", ""]
    assert word_per_frame((), 3, fps=30) == ["", "", ""]
    assert word_per_frame(words[1:2], 2, fps=1) == ["", "hello"]  # 0 s is before the word
