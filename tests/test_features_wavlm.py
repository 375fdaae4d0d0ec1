"""WavLM block: exact frame times, chunking without seams, offline loading."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from tolerance import network_tol
from transformers import WavLMConfig, WavLMModel

from adm.commands import run
from adm.data.audio import write_wav
from adm.errors import ConfigError, MissingWeightsError
from adm.features.layout import FeatureLayout
from adm.features.wavlm import (
    WavLMFeatures,
    conv_geometry,
    frame_centres,
    load_wavlm,
    normalise,
    plan_chunks,
)
from adm.io.frames import read_frames, write_frames

SR, FPS = 16000, 30
LARGE_KERNELS, LARGE_STRIDES = (10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)


def tiny_config() -> WavLMConfig:
    # WavLM-Large's conv geometry (R = 400, S = 320) with tiny widths: fast on a CPU.
    return WavLMConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        do_stable_layer_norm=True,
        feat_extract_norm="layer",
    )


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny_wavlm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-wavlm")
    torch.manual_seed(0)
    WavLMModel(tiny_config()).save_pretrained(folder)
    return folder


def make_clip(path, num_frames: int) -> None:
    meta = {"num_frames": num_frames, "fps": FPS, "clip": "2_test_0_1_1", "speaker": 2}
    write_frames(path, {"gesture": np.zeros((num_frames, 3), np.float32)}, meta)


def click_audio(seconds: float, times: list[float]) -> np.ndarray:
    x = np.zeros(int(seconds * SR), np.float32)
    for t in times:
        i = int(t * SR)
        x[i : i + 48] += 0.5 * np.hanning(48) * np.sign(np.sin(np.arange(48) + 0.5))
    return x


def run_cli(tmp_path, name: str, x: np.ndarray, num_frames: int, config: str):
    wav, clip, out = tmp_path / f"{name}.wav", tmp_path / f"{name}.clip.parquet", tmp_path / name
    write_wav(wav, x, SR)
    make_clip(clip, num_frames)
    argv = ["--clip", str(clip), "--wav", str(wav), "--out", f"{out}.parquet", "--config", config]
    assert run("audio-features", argv) == 0
    table = read_frames(f"{out}.parquet")
    return table["audio"], FeatureLayout.from_dict(table.metadata["layout"]), table.metadata


def test_conv_geometry_and_frame_centres_of_wavlm_large():
    field, stride = conv_geometry(LARGE_KERNELS, LARGE_STRIDES)
    assert (field, stride) == (400, 320)
    # Frame k sees samples [320 k, 320 k + 400): centre (320 k + 199.5) / 16000 s.
    np.testing.assert_allclose(
        frame_centres(3, field, stride, SR), [0.01246875, 0.03246875, 0.05246875]
    )


@pytest.mark.parametrize("num_samples", [400, 719, 720, 32000, 47999, 160000, 321777])
def test_chunk_plan_covers_every_frame_once(num_samples):
    field, stride = 400, 320
    plan = plan_chunks(num_samples, chunk=32000, overlap=8000, field=field, stride=stride)
    assert plan[0].keep[0] == 0 and plan[-1].keep[1] == (num_samples - field) // stride + 1
    for a, b in itertools.pairwise(plan):
        assert a.keep[1] == b.keep[0]
    for c in plan:
        assert c.start % stride == 0 and c.stop <= num_samples
        first, count = c.start // stride, (c.stop - c.start - field) // stride + 1
        assert first <= c.keep[0] <= c.keep[1] <= first + count


def test_one_chunk_equals_a_direct_forward_pass(tiny_wavlm):
    model = load_wavlm(str(tiny_wavlm))
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    runner = WavLMFeatures(
        model, chunk_seconds=5.0, device=torch.device("cpu"), dtype=torch.float32
    )
    feats, times = runner(x)
    with torch.inference_mode():
        direct = model(torch.from_numpy(normalise(x))[None]).last_hidden_state[0].numpy()
    assert feats.shape == direct.shape == ((SR - 400) // 320 + 1, 32)
    # The same float32 network on the same chunk: each run within its first-order bound
    # (attention sums over the frames included).
    tol = 2 * network_tol(model, torch.from_numpy(direct), [len(direct)] * 2)
    np.testing.assert_allclose(feats, direct, atol=tol, rtol=0)
    np.testing.assert_allclose(times, (np.arange(len(times)) * 320 + 199.5) / SR)


def test_layer_selection(tiny_wavlm):
    model = load_wavlm(str(tiny_wavlm))
    x = np.random.default_rng(1).standard_normal(8000).astype(np.float32)
    cpu = {"device": torch.device("cpu"), "dtype": torch.float32}
    first, _ = WavLMFeatures(model, layer=0, **cpu)(x)
    last, _ = WavLMFeatures(model, layer=-1, **cpu)(x)
    with torch.inference_mode():
        hidden = model(torch.from_numpy(normalise(x))[None], output_hidden_states=True)
    for ours, theirs in ((first, hidden.hidden_states[0][0]), (last, hidden.last_hidden_state[0])):
        tol = 2 * network_tol(model, theirs, [len(theirs)] * 2)
        np.testing.assert_allclose(ours, theirs.numpy(), atol=tol, rtol=0)
    with pytest.raises(ConfigError, match="wavlm_layer"):
        WavLMFeatures(model, layer=3, **cpu)


@pytest.mark.parametrize(
    ("seconds", "clicks"),
    [(1.5, [0.7]), (4.3, [1.75, 3.1]), (7.1, [0.5, 1.8, 3.4, 6.0])],
)
def test_a_click_lands_on_its_frame_in_wavlm_and_onset_blocks(
    tmp_path, tiny_wavlm, seconds, clicks
):
    # 2 s chunks with 0.5 s overlap: the 4.3 s and 7.1 s clips span several chunks, and the
    # clicks at 1.75 s and 1.8 s fall inside the first seam's overlap. The background is quiet
    # noise (-60 dB) rather than digital zeros, which the per-chunk normalisation maps to an
    # all-zero input unlike anything a microphone records.
    config = (
        f'{{"wavlm": "{tiny_wavlm}", "wavlm_chunk_seconds": 2.0, '
        '"wavlm_overlap_seconds": 0.5, "wavlm_batch": 2}'
    )
    num_frames = int(seconds * FPS)
    quiet = 0.001 * np.random.default_rng(0).standard_normal(int(seconds * SR))
    base, layout, meta = run_cli(tmp_path, "quiet", quiet.astype(np.float32), num_frames, config)
    assert layout.dim == 40 + 64 + 4 + 32 + 1 and meta["wavlm"]["width"] == 32
    wavlm, onset = layout.slice("wavlm"), layout.slice("onset")
    for t in clicks:
        x = (quiet + click_audio(seconds, [t])).astype(np.float32)
        feats, _, _ = run_cli(tmp_path, "click", x, num_frames, config)
        assert feats.shape == (num_frames, layout.dim)
        diff = np.linalg.norm(feats[:, wavlm] - base[:, wavlm], axis=1)
        assert abs(int(np.argmax(diff)) - round(t * FPS)) <= 1
        onsets = np.nonzero(feats[:, onset][:, 0])[0]
        assert np.min(np.abs(onsets - round(t * FPS))) <= 1


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(MissingWeightsError) as err:
        load_wavlm("adm-test/no-such-wavlm")
    message = str(err.value)
    assert "hf download adm-test/no-such-wavlm" in message
    assert "save_pretrained" in message and "features.audio.wavlm: none" in message
    with pytest.raises(MissingWeightsError, match="no such WavLM folder"):
        load_wavlm(str(tmp_path / "not" / "here"))


def test_cli_reports_missing_weights_as_one_line(tmp_path, capsys):
    wav, clip = tmp_path / "a.wav", tmp_path / "clip.parquet"
    write_wav(wav, np.zeros(SR, np.float32), SR)
    make_clip(clip, 30)
    argv = [
        "--clip",
        str(clip),
        "--wav",
        str(wav),
        "--out",
        str(tmp_path / "o.parquet"),
        "--config",
        '{"wavlm": "adm-test/no-such-wavlm"}',
    ]
    assert run("audio-features", argv) == 1
    assert "hf download" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize("allow", [False, True])
def test_loading_is_offline_unless_downloads_are_allowed(monkeypatch, tiny_wavlm, allow):
    calls = []
    original = WavLMModel.from_pretrained

    def spy(source, **kwargs):
        calls.append(kwargs)
        return original(str(tiny_wavlm), **kwargs)

    monkeypatch.setattr(WavLMModel, "from_pretrained", spy)
    load_wavlm("microsoft/wavlm-large", allow_download=allow)
    assert calls == [{"local_files_only": not allow}]
