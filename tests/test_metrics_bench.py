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
    lines = out.splitlines()
    assert "2 clips x 4 s at 30 fps" in lines[0] and "WInD 2 mixture seeds" in lines[0]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:11]}
    assert set(rows) == {"fgd", "diversity", "l1div", "beat_align", "srgr", "fd", "wind", "total"}
    assert all(float(v[0]) >= 0 for v in rows.values())
    # Every metric printed a finite value (Beat Align none: 4 s clips are inside its 10 s
    # trim). WInD's fits run while the gesture metrics run, so the rows overlap: the total is
    # at least the longest row and at most their sum (to the printed rounding).
    assert rows["beat_align"][1] == "none"
    metrics = [float(v[1]) for name, v in rows.items() if name not in ("total", "beat_align")]
    assert all(abs(m) < float("inf") for m in metrics)
    parts = [float(v[0]) for k, v in rows.items() if k != "total"]
    total = float(rows["total"][0])
    assert max(parts) - 0.01 <= total <= sum(parts) + 1.0
    assert "test-set reference" in out and "cold evaluation" in out
    # WInD's fits timed against scikit-learn's own, with the same scores.
    assert "ratio scikit-learn / adm" in out
    diff = float(out.split("largest relative difference of a repeat's score:")[1].split()[0])
    assert diff < 1e-6
