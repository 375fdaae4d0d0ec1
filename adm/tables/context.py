"""What every table says underneath it: the conditions its numbers were measured under.

``--context`` (JSON) gives them: ``data_source`` (``synth`` = the bundled corpus, ``beat``),
``scale`` (the preset, e.g. ``bundled`` or ``paper``), ``feature_layout`` (e.g. "without
WavLM"), ``sampler`` (e.g. ``DDPM-1000`` or ``DDIM-50``), ``seeds`` (sampling seeds per
variant), free ``notes``, ``methods`` (variant -> the method it runs, e.g. ``diffsheg_uwp`` ->
"DiffSHEG + UWP": the peers' rows) and ``method_notes`` (method -> what was adapted). A key
left out is read from the metrics files where they record it (data source, feature layout,
sampler, number of seeds), else printed as "not stated".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adm.samplers import SAMPLERS, sampler_label
from adm.tables.inputs import MetricsFile

NOT_STATED = "not stated"
SOURCES = {
    "synth": "the bundled corpus (synthetic clips in BEAT's file formats, made offline)",
    "beat": "BEAT v0.2.1 (English; CaMN's test split)",
}
NOT_COMPARABLE = (
    "Measured on the bundled corpus: these numbers are NOT comparable to the paper's numbers "
    "on BEAT; only the paper columns are the paper's."
)


@dataclass(frozen=True)
class TableContext:
    """The ``--context`` object (unknown keys are an error)."""

    data_source: str | None = None
    scale: str | None = None
    feature_layout: str | None = None
    sampler: str | None = None
    seeds: int | None = None
    notes: tuple[str, ...] = ()
    methods: dict[str, str] = field(default_factory=dict)
    method_notes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _sampler_of(record: dict[str, Any]) -> str | None:
    sampler = (record.get("samples") or {}).get("sampler") or {}
    kind = sampler.get("sampler")
    if kind == "ddpm":
        steps = sampler.get("steps") or (
            ((record.get("checkpoint") or {}).get("diffusion") or {}).get("steps")
        )
        return sampler_label(kind, None, steps)
    if kind in SAMPLERS and sampler.get("steps"):
        return sampler_label(kind, sampler["steps"])
    return None


def _distinct(values: list[Any]) -> str | None:
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(found) if found else None


def resolve(ctx: TableContext, files: list[MetricsFile]) -> dict[str, str]:
    """The footnote facts: the context's values, else what the metrics files record."""
    measured = [f for f in files if f.baseline is None]
    records = [f.record for f in measured]
    source = ctx.data_source or _distinct([(r.get("data") or {}).get("source") for r in records])
    layout = ctx.feature_layout or _distinct(
        [(r.get("feature_layout") or {}).get("summary") for r in records]
    )
    sampler = ctx.sampler or _distinct([_sampler_of(r) for r in records])
    if ctx.seeds is not None:
        seeds = str(ctx.seeds)
    else:
        per_variant: dict[str, int] = {}
        for f in measured:
            per_variant[f.variant] = per_variant.get(f.variant, 0) + 1
        seeds = _distinct(list(per_variant.values()))
    return {
        "data_source": source or NOT_STATED,
        "scale": ctx.scale or NOT_STATED,
        "feature_layout": layout or NOT_STATED,
        "sampler": sampler or NOT_STATED,
        "seeds": seeds or NOT_STATED,
    }


def footnotes(ctx: TableContext, files: list[MetricsFile], extra: list[str]) -> list[str]:
    """The lines printed under a table: conditions, table-specific notes, then free notes."""
    facts = resolve(ctx, files)
    source = facts["data_source"]
    lines = [
        f"Data: {SOURCES.get(source, source)}.",
        f"Scale preset: {facts['scale']}. Audio features: {facts['feature_layout']}.",
        f"Sampler: {facts['sampler']}. Sampling seeds per variant: {facts['seeds']}.",
    ]
    if source == "synth":
        lines.append(NOT_COMPARABLE)
    return lines + list(extra) + list(ctx.notes)
