"""Reading a Snakemake dry run's job statistics in tests."""

from __future__ import annotations

import re

from adm.experiment.config import rule_family


def job_counts(out: str) -> dict[str, int]:
    """Jobs per rule from a dry run's output (``Job stats``), the batches of a per-clip stage
    (``prepare_clip_speaker2_0``, ...) summed under its rule; empty when nothing is to be done."""
    if "Job stats:" not in out:
        return {}
    stats = out[out.index("Job stats:") :]
    stats = stats[: stats.index("total")]  # the first table (a dry run prints it twice)
    counts: dict[str, int] = {}
    for rule, count in re.findall(r"^\s*([a-z_0-9]+)\s+(\d+)\s*$", stats, re.M):
        if rule not in ("job", "count"):
            counts[rule_family(rule)] = counts.get(rule_family(rule), 0) + int(count)
    return counts
