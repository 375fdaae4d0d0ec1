"""``python -m adm.bench metrics`` runs every metric and reports the time of each."""

import math
import re
import warnings

from adm.bench.__main__ import main as bench_main

METRICS = ("fgd", "diversity", "l1div", "beat_align", "srgr", "fd", "wind")


def test_metrics_bench_runs_every_metric_on_a_tiny_test_set(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # few windows for 300-d FGD features
        code = bench_main(
            ["metrics", "--clips", "2", "--seconds", "4", "--fgd-length", "34",
             "--face-length", "30", "--wind-repeats", "2", "--threads", "1"]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    for metric in METRICS:  # each metric is timed on a line of its own
        assert re.search(rf"^\s*{metric}\s", out, re.M), f"no timing for {metric}"
    # WInD's fits by adm's EM and by scikit-learn give the same scores.
    diff = re.search(r"largest relative difference of a repeat's score: (\S+)", out)
    assert diff is not None and math.isfinite(float(diff[1])) and float(diff[1]) < 1e-6
