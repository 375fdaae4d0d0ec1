"""safetensors files with a tensor digest: a flipped bit anywhere in the data is detected."""

from __future__ import annotations

import logging

import pytest
import torch
from safetensors.torch import save_file

from adm.errors import BadInputError
from adm.io.tensors import DIGEST_KEY, load_tensors, save_tensors, tensors_digest


def _tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "a.weight": torch.randn(64, 32, generator=g),
        "b.bias": torch.randn(7, generator=g).double(),
        "c.steps": torch.arange(5),
        "d.mask": torch.tensor([True, False, True]),
        "e.half": torch.randn(3, 3, generator=g).bfloat16(),
        "f.scalar": torch.tensor(1.5),
        "g.empty": torch.zeros(0, 4),
    }


def test_round_trip_keeps_tensors_metadata_and_adds_the_digest(tmp_path):
    path = tmp_path / "w.safetensors"
    save_tensors(path, _tensors(), {"format": "x/1"})
    tensors, meta = load_tensors(path)
    assert meta["format"] == "x/1" and meta[DIGEST_KEY] == tensors_digest(_tensors())
    assert tensors.keys() == _tensors().keys()
    assert all(torch.equal(tensors[k], v) for k, v in _tensors().items())


def test_every_flipped_bit_in_the_data_is_detected(tmp_path):
    path = tmp_path / "w.safetensors"
    save_tensors(path, _tensors(), {})
    raw = path.read_bytes()
    start = 8 + int.from_bytes(raw[:8], "little")
    step = max(1, (len(raw) - start) // 40)
    for offset in range(start, len(raw), step):
        for bit in (0x01, 0x80):
            damaged = bytearray(raw)
            damaged[offset] ^= bit
            path.write_bytes(bytes(damaged))
            with pytest.raises(BadInputError, match="damaged") as err:
                load_tensors(path)
            assert err.value.path == path


def test_a_damaged_header_or_a_cut_file_is_unreadable_not_a_traceback(tmp_path):
    path = tmp_path / "w.safetensors"
    save_tensors(path, _tensors(), {})
    raw = path.read_bytes()
    for damaged in (raw[: len(raw) // 2], b"\xff" * 16 + raw[16:], b"", b"not safetensors"):
        path.write_bytes(damaged)
        with pytest.raises(BadInputError, match="not a readable safetensors file"):
            load_tensors(path)
    with pytest.raises(BadInputError, match="not found"):
        load_tensors(tmp_path / "missing.safetensors")


def test_a_file_without_a_digest_loads_with_a_warning(tmp_path, caplog):
    path = tmp_path / "other.safetensors"
    save_file(_tensors(), str(path))  # written by another tool
    with caplog.at_level(logging.WARNING, logger="adm"):
        tensors, _ = load_tensors(path)
    assert "integrity cannot be checked" in caplog.text
    assert torch.equal(tensors["a.weight"], _tensors()["a.weight"])


def test_the_digest_covers_names_shapes_and_dtypes():
    base = tensors_digest({"a": torch.zeros(4)})
    assert tensors_digest({"b": torch.zeros(4)}) != base
    assert tensors_digest({"a": torch.zeros(2, 2)}) != base
    assert tensors_digest({"a": torch.zeros(2, dtype=torch.float64)}) != base  # same 16 bytes
