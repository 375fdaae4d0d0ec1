"""The JawOpen figure and the training-curve figure.

JawOpen over time on one test clip, ground truth against each variant's sample (the paper's
figure; variants without a face task are left out and say so in the log)::

    adm figures jawopen --clip 2_scott_0_1_1 --clips-dir results/data/clips \\
        --samples results/samples/full/seed0 results/samples/no_uwp/seed0 \\
        --labels full no_uwp --out results/figures/jawopen.png

Training curves, two panels: both task losses per variant (log scale) and both normalised task
weights per variant (the paper's Table 4 dynamics), with, for learned weights, the gesture
weight that the logged losses predict (UWP's optimum ``w_g = (1/L_g) / (1/L_g + 1/L_f)``)::

    adm figures curves --scalars results/train/full/scalars.csv \\
        results/train/no_uwp/scalars.csv --labels full no_uwp \\
        --out results/figures/training_curves.png
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from adm.data.face import ARKIT_NAMES
from adm.errors import BadInputError
from adm.io.atomic import atomic_path
from adm.io.frames import read_frames

log = logging.getLogger("adm.figures")

TASKS = ("gesture", "face")
TASK_STYLE = {"gesture": "-", "face": "--"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: Path) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120, format="png", bbox_inches="tight")


def labels_for(labels: Sequence[str] | None, paths: Sequence[Path], what: str) -> list[str]:
    """``--labels`` as given, else each path's variant name (``<variant>/seed0`` -> variant)."""
    if labels:
        if len(labels) != len(paths):
            raise BadInputError(
                "--labels", f"{len(labels)} labels for {len(paths)} {what}; give one per {what}"
            )
        return list(labels)
    names = []
    for path in paths:
        part = path.parent if path.name.startswith("seed") or path.suffix else path
        names.append(part.name)
    return names


def jaw_open(path: Path, clip: str) -> tuple[np.ndarray, float]:
    """``jawOpen`` ``[T]`` of a clip table and its fps; raises if the table has no face."""
    table = read_frames(path)
    if "face" not in table.columns:
        raise KeyError(f"{path}: no face column")
    fps = float(table.metadata.get("fps", 30.0))
    return table["face"][:, ARKIT_NAMES.index("jawOpen")].astype(np.float64), fps


def plot_jawopen(
    clip: str,
    clips_dir: Path,
    samples: Sequence[Path],
    labels: Sequence[str],
    out: Path,
    start: float = 0.0,
    duration: float | None = None,
) -> list[str]:
    """Draw the JawOpen figure; returns the labels of the variants plotted.

    Raises:
        BadInputError: the clip is not in ``clips_dir`` or in one of the ``samples`` folders.
    """
    gt_path = Path(clips_dir) / f"{clip}.parquet"
    if not gt_path.is_file():
        raise BadInputError(gt_path, f"clip {clip!r} not found among the prepared clips")
    gt, fps = jaw_open(gt_path, clip)
    curves = [("ground truth", gt, fps)]
    for folder, label in zip(samples, labels, strict=True):
        path = Path(folder) / f"{clip}.parquet"
        if not path.is_file():
            raise BadInputError(path, f"clip {clip!r} was not generated in {folder}")
        try:
            values, rate = jaw_open(path, clip)
        except KeyError:
            log.info("%s: variant %s has no face task; left out", path, label)
            continue
        curves.append((label, values, rate))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 3.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, (label, values, rate) in enumerate(curves):
        t = np.arange(len(values)) / rate
        keep = (t >= start) & (t <= (start + duration if duration else np.inf))
        style = {"color": "black", "lw": 2.0} if n == 0 else {"color": colors[(n - 1) % 10]}
        ax.plot(t[keep], values[keep], label=label, alpha=0.9, **style)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("jawOpen weight")
    ax.set_ylim(0.0, max(0.05, max(float(v.max()) for _, v, _ in curves) * 1.08))
    ax.set_title(f"JawOpen on test clip {clip}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", ncol=min(4, len(curves)), fontsize=9)
    _save(fig, Path(out))
    plt.close(fig)
    return [label for label, _, _ in curves[1:]]


def read_scalars(path: Path) -> pd.DataFrame:
    """A training ``scalars.csv``; errors name the file and the missing columns."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "training scalars not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise BadInputError(path, f"not a readable CSV ({err})") from None
    needed = ["step", *(f"loss_{t}" for t in TASKS), *(f"weight_{t}" for t in TASKS)]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise BadInputError(path, f"missing column(s) {missing} (has {list(frame.columns)})")
    if frame.empty:
        raise BadInputError(path, "no rows")
    return frame


def _task_columns(frame: pd.DataFrame, prefix: str) -> dict[str, pd.Series]:
    """Numeric ``<prefix>_<task>`` columns of the tasks a run trained (non-empty cells)."""
    out = {}
    for task in TASKS:
        values = pd.to_numeric(frame[f"{prefix}_{task}"], errors="coerce")
        if values.notna().any():
            out[task] = values
    return out


def plot_curves(scalars: Sequence[Path], labels: Sequence[str], out: Path) -> None:
    """Draw the two-panel training-curve figure.

    Left: each run's task losses (log scale; a single-task run has one curve). Right: the
    normalised task weights of the two-task runs (a single-task run's weight is 1 throughout),
    on a y range fitted to them so that a 0.506 / 0.494 split is visible; the legend gives the
    final values. For weights that move (learned), a dotted line gives the gesture weight the
    logged losses predict, ``(1/L_g) / (1/L_g + 1/L_f)``, so one sees whether they settled.
    """
    frames = [read_scalars(p) for p in scalars]
    plt = _pyplot()
    fig, (ax_loss, ax_w) = plt.subplots(1, 2, figsize=(12, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    shown: list[float] = []
    for n, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        color = colors[n % 10]
        steps = frame["step"]
        for task, loss in _task_columns(frame, "loss").items():
            ok = loss.notna() & (loss > 0)
            style = {"color": color, "ls": TASK_STYLE[task], "label": f"{label}: {task}"}
            ax_loss.plot(steps[ok], loss[ok], **style)
        losses = _task_columns(frame, "loss")
        if len(losses) < 2:
            continue
        weights = _task_columns(frame, "weight")
        for task, weight in weights.items():
            ok = weight.notna()
            final = float(weight[ok].iloc[-1])
            style = {"color": color, "ls": TASK_STYLE[task]}
            ax_w.plot(steps[ok], weight[ok], label=f"{label}: {task} ({final:.4f})", **style)
            shown += [float(weight[ok].min()), float(weight[ok].max())]
        gesture = weights.get("gesture")
        if gesture is not None and gesture.dropna().nunique() > 1:
            inverse_g, inverse_f = 1.0 / losses["gesture"], 1.0 / losses["face"]
            predicted = inverse_g / (inverse_g + inverse_f)
            ok = predicted.notna() & (losses["gesture"] > 0) & (losses["face"] > 0)
            final = float(predicted[ok].iloc[-1])
            ax_w.plot(
                steps[ok],
                predicted[ok],
                color=color,
                ls=":",
                lw=1.0,
                label=f"{label}: gesture, 1/L prediction ({final:.4f})",
            )
            shown += [float(predicted[ok].min()), float(predicted[ok].max())]
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title("task losses")
    ax_w.axhline(0.5, color="grey", lw=0.8, ls=":")
    lo, hi = (min(shown), max(shown)) if shown else (0.5, 0.5)
    pad = max(0.01, 0.1 * (hi - lo))
    ax_w.set_ylim(max(0.0, min(lo - pad, 0.48)), min(1.0, max(hi + pad, 0.52)))
    ax_w.set_ylabel("normalised weight")
    ax_w.set_title("task weights of two-task runs (final value in legend)")
    for ax in (ax_loss, ax_w):
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, Path(out))
    plt.close(fig)
