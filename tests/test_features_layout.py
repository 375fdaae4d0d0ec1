"""Feature settings and layouts: block widths, offsets, strict config parsing."""

from __future__ import annotations

import pytest

from adm.config import config_hash, from_dict
from adm.errors import ConfigError
from adm.features.config import AudioFeatureConfig, FastTextTrainConfig, TextFeatureConfig
from adm.features.layout import FeatureLayout, audio_layout, extractor_versions, text_layout

WAVLM_LARGE_WIDTH = 1024


def test_full_layout_is_the_papers_1133_dims_in_dsg_order():
    layout = audio_layout(AudioFeatureConfig(), WAVLM_LARGE_WIDTH)
    assert layout.dim == 1133
    assert [(b.name, b.offset, b.width) for b in layout.blocks] == [
        ("mfcc", 0, 40),
        ("logmel", 40, 64),
        ("prosody", 104, 4),
        ("wavlm", 108, 1024),
        ("onset", 1132, 1),
    ]
    assert layout.slice("onset") == slice(1132, 1133)


def test_without_wavlm_the_block_is_dropped_and_offsets_follow():
    layout = audio_layout(AudioFeatureConfig(wavlm="none"), None)
    assert layout.dim == 109
    assert layout.names == ("mfcc", "logmel", "prosody", "onset")
    assert layout.block("onset").offset == 108


@pytest.mark.parametrize(
    ("blocks", "dim"),
    [(["logmel"], 64), (["onset", "mfcc"], 41), (["prosody", "wavlm"], 4 + WAVLM_LARGE_WIDTH)],
)
def test_any_subset_and_order_of_blocks(blocks, dim):
    config = from_dict(AudioFeatureConfig, {"blocks": blocks, "wavlm": "some/model"})
    layout = audio_layout(config, WAVLM_LARGE_WIDTH)
    assert layout.names == tuple(blocks)
    assert layout.dim == dim


def test_block_sizes_follow_the_settings():
    config = from_dict(AudioFeatureConfig, {"n_mfcc": 13, "n_mels": 80})
    assert audio_layout(config, 768).dim == 13 + 80 + 4 + 768 + 1


def test_layout_round_trips_through_its_dict():
    layout = audio_layout(AudioFeatureConfig(), WAVLM_LARGE_WIDTH)
    assert FeatureLayout.from_dict(layout.to_dict()) == layout
    broken = layout.to_dict()
    broken["blocks"][1]["offset"] = 41
    with pytest.raises(ValueError, match="contiguous"):
        FeatureLayout.from_dict(broken)


def test_text_layout_is_word_vector_then_silence_flag():
    layout = text_layout(300)
    assert layout.dim == 301
    assert layout.slice("silence") == slice(300, 301)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n_mfc": 40}, "unknown key 'n_mfc'"),
        ({"blocks": ["mfcc", "pitch"]}, "features.audio.blocks"),
        ({"blocks": ["mfcc", "mfcc"]}, "listed twice"),
        ({"blocks": []}, "at least one block"),
        ({"wavlm_overlap_seconds": 30.0}, "smaller than wavlm_chunk_seconds"),
        ({"n_mfcc": 80}, "exceeds n_mels"),
        ({"wavlm": "microsoft/wavlm-large", "sample_rate": 22050}, "16 kHz"),
    ],
)
def test_bad_audio_settings_are_rejected_by_name(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(AudioFeatureConfig, data, "features.audio")


def test_bad_text_and_fasttext_settings_are_rejected():
    with pytest.raises(ConfigError, match="features.text.source"):
        from_dict(TextFeatureConfig, {"source": "glove"}, "features.text")
    with pytest.raises(ConfigError, match="unknown key 'dims'"):
        from_dict(FastTextTrainConfig, {"dims": 300}, "fasttext")


def test_config_hash_changes_with_any_setting():
    base = config_hash(AudioFeatureConfig())
    assert config_hash(AudioFeatureConfig()) == base
    assert config_hash(AudioFeatureConfig(hop_length=320)) != base
    assert config_hash(AudioFeatureConfig(wavlm="microsoft/wavlm-large")) != base


def test_uses_wavlm_needs_both_the_block_and_a_model():
    assert not AudioFeatureConfig().uses_wavlm  # wavlm = "none" by default
    assert AudioFeatureConfig(wavlm="x/y").uses_wavlm
    assert not AudioFeatureConfig(wavlm="x/y", blocks=("mfcc",)).uses_wavlm


def test_extractor_versions_name_adm_and_the_libraries():
    versions = extractor_versions("librosa", "torch", "not-a-package-xyz")
    assert versions["adm"]
    assert versions["librosa"] and versions["torch"]
    assert versions["not-a-package-xyz"] is None
