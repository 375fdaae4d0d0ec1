"""Summaries across sampling seeds and how table cells print them.

A measured metric over ``n`` sampling seeds is reported as its mean and the half-width of a
95% confidence interval of that mean, ``1.96 * s / sqrt(n)``, where ``s`` is the *sample*
standard deviation (``ddof=1``, the unbiased variance of the seeds' values; metrics.md's
"1.96 std / sqrt n"). With one seed there is no spread to estimate: no CI is shown, and the
table's "seeds" column says ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.96
#: Cell texts with a fixed meaning.
NOT_RUN = "not run"
NOT_GENERATED = "-"
UNDEFINED = "undefined"


@dataclass(frozen=True)
class Summary:
    """Mean of ``n`` values and the 95% CI half-width (``None`` when ``n < 2``)."""

    mean: float
    ci: float | None
    n: int


def summarize(values: Sequence[float]) -> Summary:
    """Mean and 95% CI half-width ``1.96 * std(ddof=1) / sqrt(n)`` of ``values``."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"summarize needs a non-empty list of numbers, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"summarize got non-finite values {x.tolist()}")
    n = len(x)
    # Equal values have no spread; np.std would report rounding noise of the mean (1e-17).
    std = 0.0 if np.ptp(x) == 0 else float(x.std(ddof=1))
    ci = Z95 * std / math.sqrt(n) if n >= 2 else None
    return Summary(float(x.mean()), ci, n)


def fmt(value: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (scientific notation when very large/small)."""
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def measured_cell(values: Sequence[float | None] | None) -> str:
    """Cell of one measured metric over seeds.

    ``None`` (the variant does not generate the metric's task) prints ``-``; values that are
    all ``None`` (undefined, e.g. a correlation of a constant) print ``undefined``; otherwise
    ``mean`` or, with ``n >= 2``, ``mean ± ci``.
    """
    if values is None:
        return NOT_GENERATED
    defined = [v for v in values if v is not None]
    if not defined:
        return UNDEFINED
    s = summarize(defined)
    return fmt(s.mean) if s.ci is None else f"{fmt(s.mean)} ± {fmt(s.ci, 2)}"


def wind_cell(means: Sequence[float | None] | None, stds: Sequence[float | None] | None) -> str:
    """WInD as the paper prints it, ``mean ± std`` over mixture seeds (both averaged over
    sampling seeds); with ``n >= 2`` sampling seeds the 95% CI follows in brackets."""
    if means is None:
        return NOT_GENERATED
    pairs = [(m, s) for m, s in zip(means, stds or [], strict=False) if m is not None]
    if not pairs:
        return UNDEFINED
    mean = summarize([m for m, _ in pairs])
    spread = [s for _, s in pairs if s is not None]
    text = fmt(mean.mean)
    if spread:
        text += f" ± {fmt(float(np.mean(spread)), 3)}"
    if mean.ci is not None:
        text += f" [CI ± {fmt(mean.ci, 2)}]"
    return text


def wind_repeats_cell(scores: Sequence[float] | None) -> str:
    """``min / median / max`` of WInD's single-repeat scores (pooled over sampling seeds)."""
    if scores is None:
        return NOT_GENERATED
    x = np.asarray(scores, dtype=np.float64)
    if len(x) == 0 or not np.isfinite(x).all():
        return UNDEFINED
    return " / ".join(fmt(float(v), 3) for v in (x.min(), np.median(x), x.max()))


def paper_cell(value: str | None, std: str | None = None) -> str:
    """A paper value as printed (``-`` for the paper's dash), with ``± std`` when given."""
    if value is None:
        return NOT_GENERATED
    return value if std is None else f"{value} ± {std}"
