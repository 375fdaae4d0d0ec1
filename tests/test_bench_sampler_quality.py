"""``python -m adm.bench sampler-quality``: its sampler list, its table and verdict, and one
clear line when the pipeline's outputs are missing."""

from __future__ import annotations

import pytest
from cli_output import non_log_lines

from adm.bench import sampler_quality as bench
from adm.errors import ConfigError


def test_sampler_specs_parse_with_their_steps():
    assert bench.Spec.parse("ddpm") == bench.Spec("ddpm", None)
    assert bench.Spec.parse("dpmpp_2m_sde:25") == bench.Spec("dpmpp_2m_sde", 25)
    assert bench.Spec.parse("ddim:50").sample_config({"batch": 16}) == {
        "batch": 16, "sampler": "ddim", "steps": 50,
    }  # fmt: skip
    stochastic = bench.Spec.parse("ddim:50:1")
    assert stochastic.sample_config({})["eta"] == 1.0
    assert stochastic.label() == "DDIM-50 (eta 1)"
    assert bench.Spec.parse("ddpm").label(1000) == "DDPM-1000"
    for bad in ("heun:10", "ddim", "ddim:0", "ddpm:100", "dpmpp_2m:20:1", "ddim:50:x"):
        with pytest.raises(ConfigError, match="--samplers"):
            bench.Spec.parse(bad)


def _row(spec: str, calls: int, fgd: float, fd: float) -> bench.Row:
    row = bench.Row(bench.Spec.parse(spec), calls)
    for shift in (-0.5, 0.5):  # two seeds around the given means
        row.seconds.append(1.0)
        row.metrics.append({"fgd": fgd + shift, "fd": fd + shift * 1e-4, "jaw_open_r": 0.9})
    return row


def test_the_table_gives_ratios_to_ddpm_and_the_fewest_calls_that_meet_the_bar():
    rows = [
        _row("ddpm", 1000, 10.0, 0.01),
        _row("ddim:50", 50, 20.0, 0.0101),
        _row("dpmpp_2m:25", 25, 10.4, 0.0102),
        _row("dpmpp_2m:10", 10, 10.2, 0.0106),  # FD 6% off: misses
        _row("dpmpp_2m_sde:50", 50, 10.1, 0.0100),
    ]
    text = bench.render(rows, [0, 1], 1000)
    assert "| DDIM-50 | 50 | 1.0 | 20 | 0.0101 | 0.9 | 2 | 1.01 |" in text
    assert "| DPM++2M-10 | 10 |" in text and "| 1.02 | 1.06 |" in text
    assert text.splitlines()[-1] == (
        "Meets the bar (<= 50 calls, FGD and FD within 5% of DDPM-1000): "
        "DPM++2M-25, DPM++2M-SDE-50; fewest calls: DPM++2M-25."
    )


def test_without_a_winner_the_closest_is_named():
    rows = [_row("ddpm", 1000, 10.0, 0.01), _row("ddim:50", 50, 13.0, 0.0101)]
    assert bench.render(rows, [0], 1000).splitlines()[-1] == (
        "No sampler with <= 50 calls meets the bar; closest: DDIM-50 (FGD x1.300, FD x1.010)."
    )


def test_missing_pipeline_outputs_are_one_clear_line(tmp_path, capsys):
    assert bench.main(["--results", str(tmp_path / "results"), "--samplers", "ddim:50"]) == 1
    err = non_log_lines(capsys.readouterr().err)
    assert err[-1].startswith("error: ") and "not found (checkpoint); run the pipeline" in err[-1]
