"""``python -m adm.bench metrics`` runs every metric and reports the time of each."""

import warnings

from adm.bench.__main__ import main as bench_main


def test_metrics_bench_runs_on_a_tiny_test_set(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # few windows for 300-d FGD features
        code = bench_main(
            ["metrics", "--clips", "2", "--seconds", "4", "--fgd-length", "34",
             "--face-length", "30", "--wind-repeats", "2", "--threads", "1"]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert set(rows) == {"fgd", "diversity", "l1div", "beat_align", "srgr", "fd", "wind", "total"}
    assert all(float(v[0]) >= 0 for v in rows.values())
    assert "(2 seeds)" in out and "2 clips x 4 s at 30 fps" in out
