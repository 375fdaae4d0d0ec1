"""``python -m adm.bench pipeline``: per-rule job times and core occupancy from a Snakemake log
(in the format Snakemake 9 writes), and one clear line without a log."""

from __future__ import annotations

import pytest

from adm.bench.pipeline import main, parse_log
from adm.errors import BadInputError

LOG = """Building DAG of jobs...
[Mon Dec  7 14:03:05 2026]
rule prepare_clip:
    input: a.bvh
    output: a.parquet
    jobid: 3
    reason: Missing output files: a.parquet
    resources: tmpdir=/tmp
[Mon Dec  7 14:03:07 2026]
localrule train:
    output: m.safetensors
    jobid: 4
    resources: tmpdir=/tmp, gpu=0
[Mon Dec  7 14:03:09 2026]
Finished jobid: 3 (Rule: prepare_clip)
1 of 3 steps (33%) done
[Mon Dec  7 14:03:09 2026]
rule prepare_clip:
    jobid: 5
[Mon Dec  7 14:03:10 2026]
Finished jobid: 5 (Rule: prepare_clip)
[Mon Dec  7 14:03:15 2026]
Finished jobid: 4 (Rule: train)
3 of 3 steps (100%) done
"""


def test_job_times_per_rule_and_core_occupancy(tmp_path):
    log = tmp_path / "run.snakemake.log"
    log.write_text(LOG)
    times = parse_log(log)
    assert sorted(times.rules["prepare_clip"].seconds) == [1.0, 4.0]
    assert times.rules["train"].seconds == [8.0]
    assert times.wall == 10.0  # 14:03:05 -> 14:03:15
    assert times.occupancy(cores=2) == pytest.approx(13.0 / 20.0)


def test_the_command_prints_the_table_of_the_newest_log(tmp_path, capsys):
    folder = tmp_path / ".snakemake" / "log"
    folder.mkdir(parents=True)
    (folder / "2026-12-07T100000.000000.snakemake.log").write_text("Building DAG of jobs...\n")
    (folder / "2026-12-07T140300.000000.snakemake.log").write_text(LOG)
    assert main(["--root", str(tmp_path), "--cores", "2"]) == 0
    out = capsys.readouterr().out
    assert "| train | 1 | 8 | 8.0 |" in out and "| prepare_clip | 2 | 5 | 2.5 |" in out
    assert "run wall time: 10 s" in out and "cores busy 65% of 2" in out


def test_no_log_or_an_unfinished_run_is_one_clear_line(tmp_path, capsys):
    assert main(["--root", str(tmp_path)]) == 1
    assert "no Snakemake log: run the pipeline first" in capsys.readouterr().err
    empty = tmp_path / "empty.log"
    empty.write_text("Building DAG of jobs...\n")
    with pytest.raises(BadInputError, match="no finished job"):
        parse_log(empty)
