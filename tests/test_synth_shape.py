"""The ``beat`` shape of the bundled corpus: BEAT's takes, lengths and split, written offline."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from adm.config import from_dict
from adm.data.annotations import read_emotion
from adm.data.audio import read_wav_info
from adm.data.clips import CONVERSATION, SPEECH, camn_split, parse_clip_name
from adm.data.download import expected_beat_stems
from adm.data.settings import BeatSourceConfig
from adm.data.synth import SynthConfig
from adm.data.synth.config import takes
from adm.data.synth.corpus import manifest_text, render_take, write_take
from adm.errors import ConfigError

pytestmark = pytest.mark.usefixtures("one_thread")


def test_beat_shape_has_every_beat_take_with_its_split_and_length():
    cfg = SynthConfig(shape="beat")
    specs = takes(cfg)
    # The same clips as real BEAT of the same speakers, in BEAT's order.
    assert [t.stem for t in specs] == expected_beat_stems(BeatSourceConfig(), [2, 4, 6, 8])
    assert Counter(t.split for t in specs) == {"train": 392, "val": 64, "test": 64}
    for t in specs:
        clip = parse_clip_name(t.stem)
        assert (t.kind, t.take, t.split) == (clip.kind, clip.take, camn_split(clip))
        assert t.seconds == {SPEECH: 60.0, CONVERSATION: 600.0}[t.kind]
    hours = sum(t.seconds for t in specs) / 3600
    assert hours == pytest.approx(4 * (118 * 60 + 12 * 600) / 3600)  # about 16 hours
    manifest = manifest_text(cfg).splitlines()
    assert manifest[1:3] == ["2_scott_0_1_1\t2\ttest\t60", "2_scott_0_2_2\t2\ttest\t60"]
    assert "2_scott_1_12_12\t2\tval\t600" in manifest


def test_bundled_shape_is_unchanged_by_the_beat_lengths():
    # speech_seconds / conversation_seconds belong to the beat shape only.
    plain = takes(SynthConfig())
    assert takes(SynthConfig(speech_seconds=30.0, conversation_seconds=90.0)) == plain
    assert {t.seconds for t in plain} == {20.0} and {t.kind for t in plain} == {SPEECH}
    assert len(plain) == 48


def test_shape_and_lengths_are_checked_by_name():
    with pytest.raises(ConfigError, match="shape"):
        from_dict(SynthConfig, {"shape": "huge"}, where="data.synth")
    with pytest.raises(ConfigError, match="conversation_seconds"):
        from_dict(SynthConfig, {"shape": "beat", "conversation_seconds": 1.0})


def test_a_conversation_take_is_not_a_replay_of_the_speech_take_of_its_number():
    cfg = SynthConfig(speakers=(4,), shape="beat", speech_seconds=6.0, conversation_seconds=6.0)
    by_stem = {t.stem: t for t in takes(cfg)}
    speech = render_take(cfg, by_stem["4_lawrence_0_1_1"])
    conversation = render_take(cfg, by_stem["4_lawrence_1_1_1"])
    assert [w.label for w in speech.speech.words] != [w.label for w in conversation.speech.words]
    assert not np.array_equal(speech.motion, conversation.motion)


def test_beat_shape_writes_takes_of_their_own_length(tmp_path):
    # Two speakers' worth would be minutes; one speaker with short takes shows the lengths.
    cfg = SynthConfig(speakers=(6,), shape="beat", speech_seconds=4.0, conversation_seconds=9.0)
    specs = [t for t in takes(cfg) if t.take == 1]  # speech 1 and conversation 1: both test
    root = tmp_path / "corpus"
    for spec in specs:
        write_take(cfg, spec, root)
    for spec in specs:
        base = root / "6" / spec.stem
        info = read_wav_info(base.with_suffix(".wav"))
        assert info.num_frames / info.sample_rate == pytest.approx(spec.seconds, abs=1e-3)
        (emotion,) = read_emotion(base.with_suffix(".csv"))
        assert emotion.end == pytest.approx(spec.seconds) and emotion.label == 0
