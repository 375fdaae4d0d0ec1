"""Tables 1-3 of the paper rebuilt from metrics files, paper values in columns beside ours.

- Table 1 (gestures): Diversity, SRGR, FGD, BeatAlign for CaMN, DSG, DiffSHEG, MambaTalk
  (paper only: "not run") and ours (variant ``full``), plus BeatAlign in its corrected form and
  L1Div in two forms (ours on axis-angle whole clips; BEAT's test form, the field's scale).
- Table 2 (face): FD and WInD (mean ± std over mixture seeds) for SAiD, DiffSHEG, MambaTalk
  (paper only) and ours, our raw values beside the paper's scaled columns (FD x1e-5, WInD
  x1e-4), the spread of WInD's repeats (min / median / max), and our jawOpen Pearson r.
- Table 3 (ablation): all six metrics and both L1Div forms for full, no_uwp, a2e, a2g (ours
  and paper) and the paper's DiffSHEG/MambaTalk rows with and without UWP ("not run").

Our cells are the mean over sampling seeds, ``± 95% CI`` when there are two or more
(:mod:`adm.tables.summary`). A metrics file of the mean-pose baseline adds a "mean pose
(floor)" row. Every table ends with a "ground truth (test set)" row: the test set's own motion
scored as a sample (every metrics file records it, from the test set's reference); FGD, FD and
WInD of the ground truth against itself are 0 and jawOpen r is 1 by definition, and the cells
say so. A variant the tables expect but no file was given for prints "no metrics file".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adm.errors import BadInputError
from adm.tables import paper
from adm.tables.context import TableContext, footnotes
from adm.tables.inputs import MetricsFile, group_by_variant, metric_values
from adm.tables.summary import (
    NOT_GENERATED,
    NOT_RUN,
    UNDEFINED,
    measured_cell,
    paper_cell,
    wind_cell,
    wind_repeats_cell,
)

OURS = "full"
#: The peers' row labels in the paper's tables (a variant's ``method``): every row the paper
#: prints that is not ADM's own.
PEERS = frozenset(paper.TABLE1) | frozenset(paper.TABLE2) | frozenset(paper.TABLE3)
PEERS -= {"ours", *paper.VARIANT_LABELS}
NO_FILE = "no metrics file"
BASELINE_LABEL = "mean pose (floor)"
TRUTH_LABEL = "ground truth (test set)"
ZERO = "0 (by definition)"
ONE = "1 (by definition)"
NO_TRUTH = "not recorded"
#: Metrics whose ground-truth value every gesture metrics file records as ``<name>_ground_truth``.
TRUTH_KEYS = (
    "diversity",
    "srgr",
    "beat_align",
    "beat_align_corrected",
    "l1div",
    "l1div_beat",
)
GESTURE = (
    ("diversity", "Diversity"),
    ("srgr", "SRGR"),
    ("fgd", "FGD"),
    ("beat_align", "BeatAlign"),
)
CI_NOTE = (
    "Ours: mean over sampling seeds; ± is the 95% CI 1.96 s / sqrt(n) with s the sample std "
    "(ddof=1); with n = 1 no CI is shown. 'seeds' is n."
)
PAPER_NOTE = (
    "(paper) columns are the paper's reported values, copied as printed; 'not run' marks "
    "methods this project does not reimplement."
)
TRUTH_NOTE = (
    "ground truth (test set): the test set's own motion scored as if it were a sample "
    "(computed once with the metric models, from the test set's reference). FGD, FD and "
    "WInD of the ground truth against itself are 0 and jawOpen r is 1 by definition; its "
    "SRGR against itself is the ceiling the semantic weights allow."
)
L1DIV_NOTE = (
    "L1Div (ours): BEAT's L1 diversity on our representation, axis-angle radians of whole test "
    "clips. L1Div BEAT form: as BEAT's test code computes it, Euler degrees of the 47 joints "
    "at 15 fps (every 2nd frame), windows of 34 frames every 10 frames, absolute deviations "
    "from the mean of each clip's stacked windows, accumulated over clips; the scale the field "
    "reports. The paper reports no L1Div."
)


@dataclass
class Table:
    """A rendered-agnostic table: header, rows of cell strings, and lines printed under it."""

    number: int
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.number}: row {row} has {len(row)} cells")


def check_sources(files: list[MetricsFile]) -> None:
    """All files must come from one data source; a mixed table would compare unlike numbers."""
    first: tuple[str, MetricsFile] | None = None
    for f in files:
        source = (f.record.get("data") or {}).get("source")
        if source is None:
            continue
        if first is None:
            first = (source, f)
        elif source != first[0]:
            raise BadInputError(
                f.path, f"data source {source!r} differs from {first[0]!r} of {first[1].path}"
            )


def _split(files: list[MetricsFile]) -> tuple[dict[str, list[MetricsFile]], list[MetricsFile]]:
    check_sources(files)
    measured = [f for f in files if f.baseline is None]
    baseline = [f for f in files if f.baseline is not None]
    return group_by_variant(measured), baseline


def _seeds(files: list[MetricsFile] | None) -> str:
    return str(len(files)) if files else "-"


def ground_truth(files: list[MetricsFile]) -> dict[str, float | None] | None:
    """The ground truth's own values (:data:`TRUTH_KEYS`) recorded in the metrics files, or
    None when no file records them.

    Raises:
        BadInputError: two files record different values (they were evaluated against
            different test-set references, so their rows do not compare).
    """
    found: dict[str, tuple[float | None, MetricsFile]] = {}
    for f in files:
        for key in TRUTH_KEYS:
            name = f"{key}_ground_truth"
            if name not in f.metrics:
                continue
            value = f.metrics[name]
            if key in found and found[key][0] != value:
                other = found[key][1]
                raise BadInputError(
                    f.path,
                    f"{name} = {value!r} differs from {found[key][0]!r} in {other.path}: the "
                    "files were evaluated against different test-set references",
                )
            found.setdefault(key, (value, f))
    if not found:
        return None
    return {key: found[key][0] if key in found else None for key in TRUTH_KEYS}


def _truth_cell(truth: dict[str, float | None] | None, key: str) -> str:
    if truth is None:
        return NO_TRUTH
    return measured_cell([truth[key]]) if truth.get(key) is not None else UNDEFINED


def _gesture_cells(files: list[MetricsFile] | None) -> list[str]:
    """Cells of :data:`GESTURE`, then BeatAlign corrected, L1Div and L1Div BEAT form."""
    keys = [key for key, _ in GESTURE] + list(EXTRA_GESTURE)
    if not files:
        return [NO_FILE] * len(keys)
    return [measured_cell(metric_values(files, key)) for key in keys]


#: Table 1's columns of ours only (the paper does not report them).
EXTRA_GESTURE = {
    "beat_align_corrected": "BeatAlign corrected (ours)",
    "l1div": "L1Div (ours)",
    "l1div_beat": "L1Div BEAT form (ours)",
}


def _truth_gesture_cells(truth: dict[str, float | None] | None) -> list[str]:
    keys = [key for key, _ in GESTURE] + list(EXTRA_GESTURE)
    return [ZERO if key == "fgd" else _truth_cell(truth, key) for key in keys]


def peer_files(
    groups: dict[str, list[MetricsFile]], ctx: TableContext, method: str
) -> list[MetricsFile] | None:
    """The metrics files of the variant that runs ``method`` (``ctx.methods``), if any."""
    for variant, label in ctx.methods.items():
        if label == method and groups.get(variant):
            return groups[variant]
    return None


def peer_notes(ctx: TableContext, methods: tuple[str, ...]) -> list[str]:
    """One footnote per peer row of a table that was run: how it was run and what was adapted."""
    lines = []
    for method in methods:
        notes = ctx.method_notes.get(method)
        if method in ctx.methods.values() and notes:
            lines.append(f"{method}: " + " ".join(notes))
    return lines


def table1(files: list[MetricsFile], ctx: TableContext) -> Table:
    groups, baseline = _split(files)
    columns = ["method"]
    for _, label in GESTURE:
        columns += [f"{label} (ours)", f"{label} (paper)"]
    columns += [*EXTRA_GESTURE.values(), "seeds"]
    rows = []

    def row(label: str, ours: list[str], ref: dict[str, str] | None, seeds: str) -> list[str]:
        cells = [label]
        for i, (key, _) in enumerate(GESTURE):
            cells += [ours[i], paper_cell(ref[key]) if ref else NOT_GENERATED]
        return cells + ours[len(GESTURE) :] + [seeds]

    width = len(GESTURE) + len(EXTRA_GESTURE)
    for method in ("CaMN", "DSG", "DiffSHEG", "MambaTalk"):
        found = peer_files(groups, ctx, method)
        cells = _gesture_cells(found) if found else [NOT_RUN] * width
        rows.append(row(method, cells, paper.TABLE1[method], _seeds(found)))
    ours = groups.get(OURS)
    rows.append(row("ours (ADM)", _gesture_cells(ours), paper.TABLE1["ours"], _seeds(ours)))
    if baseline:
        rows.append(row(BASELINE_LABEL, _gesture_cells(baseline), None, "-"))
    rows.append(row(TRUTH_LABEL, _truth_gesture_cells(ground_truth(files)), None, "-"))
    notes = [
        CI_NOTE,
        PAPER_NOTE,
        "Higher is better for Diversity, SRGR and BeatAlign; lower for FGD.",
        "BeatAlign (ours) follows BEAT's evaluation code (onset times at 22050 Hz on 16 kHz "
        "audio, a ring-finger joint); the corrected column uses the real rate and the wrists "
        "(metrics.md).",
        L1DIV_NOTE,
        TRUTH_NOTE,
        *peer_notes(ctx, ("CaMN", "DSG", "DiffSHEG", "MambaTalk")),
    ]
    return Table(1, "Gesture generation", columns, rows, footnotes(ctx, files, notes))


def _face_cells(files: list[MetricsFile] | None) -> list[str]:
    """FD, WInD (mean ± std over mixture seeds), WInD's repeats, jawOpen r."""
    if not files:
        return [NO_FILE] * 4
    wind = wind_cell(metric_values(files, "wind"), metric_values(files, "wind_std"))
    return [
        measured_cell(metric_values(files, "fd")),
        wind,
        wind_repeats_cell(wind_scores(files)),
        measured_cell(metric_values(files, "jaw_open_r")),
    ]


def wind_scores(files: list[MetricsFile]) -> list[float] | None:
    """Every repeat's WInD score of ``files`` (the metrics files' ``wind`` sections), pooled
    over sampling seeds; None when no file records them."""
    scores: list[float] = []
    for f in files:
        section = f.record.get("wind")
        if isinstance(section, dict) and isinstance(section.get("scores"), list):
            scores += [float(v) for v in section["scores"]]
    return scores or None


def table2(files: list[MetricsFile], ctx: TableContext) -> Table:
    groups, baseline = _split(files)
    columns = [
        "method",
        "FD (ours, raw)",
        "FD (paper, x1e-5)",
        "WInD (ours, raw)",
        "WInD (paper, x1e-4)",
        "WInD repeats min / median / max (ours)",
        "jawOpen r (ours)",
        "seeds",
    ]

    def row(label: str, ours: list[str], ref: dict[str, str] | None, seeds: str) -> list[str]:
        fd = paper_cell(ref["fd"]) if ref else NOT_GENERATED
        wind = paper_cell(ref["wind"], ref["wind_std"]) if ref else NOT_GENERATED
        return [label, ours[0], fd, ours[1], wind, ours[2], ours[3], seeds]

    rows = []
    for method in ("SAiD", "DiffSHEG", "MambaTalk"):
        found = peer_files(groups, ctx, method)
        cells = _face_cells(found) if found else [NOT_RUN] * 4
        rows.append(row(method, cells, paper.TABLE2[method], _seeds(found)))
    ours = groups.get(OURS)
    rows.append(row("ours (ADM)", _face_cells(ours), paper.TABLE2["ours"], _seeds(ours)))
    if baseline:
        rows.append(row(BASELINE_LABEL, _face_cells(baseline), None, "-"))
    rows.append(row(TRUTH_LABEL, [ZERO, ZERO, NOT_GENERATED, ONE], None, "-"))
    repeats = sorted({len(f.record.get("wind", {}).get("scores", [])) for f in files} - {0})
    notes = [
        CI_NOTE,
        PAPER_NOTE,
        "FD and WInD (lower is better) in the face VAE's latent space (SAiD's BCVAE retrained "
        "on the train split). Ours are raw values; the paper prints FD x1e-5 and WInD x1e-4, "
        "shown as printed. WInD is mean ± std (ddof=1) over mixture seeds as SAiD computes it "
        "(scikit-learn's GaussianMixture, 5 components, seeds 0..9); [CI ± c] is the 95% CI of "
        "the mean over sampling seeds.",
        "WInD repeats: the smallest, median and largest single-seed score over all mixture seeds "
        f"({', '.join(map(str, repeats)) or 'none'} per metrics file) and sampling seeds; the "
        "score is heavy tailed, every repeat's seed and score is in the metrics files.",
        "jawOpen r: Pearson correlation of generated and ground-truth jawOpen, frames of all "
        "test clips pooled ('undefined' for a constant jawOpen).",
        TRUTH_NOTE,
        *peer_notes(ctx, ("SAiD", "DiffSHEG", "MambaTalk")),
    ]
    return Table(2, "Facial expression generation", columns, rows, footnotes(ctx, files, notes))


T3_METRICS = (
    ("fd", "FD"),
    ("wind", "WInD"),
    ("diversity", "Diversity"),
    ("srgr", "SRGR"),
    ("fgd", "FGD"),
    ("beat_align", "BeatAlign"),
)
#: Table 3's columns of ours only.
T3_EXTRA = {"l1div": "L1Div (ours)", "l1div_beat": "L1Div BEAT form (ours)"}


def _ablation_cells(files: list[MetricsFile] | None) -> list[str]:
    if not files:
        return [NO_FILE] * (len(T3_METRICS) + len(T3_EXTRA))
    cells = []
    for key, _ in T3_METRICS:
        if key == "wind":
            cells.append(wind_cell(metric_values(files, "wind"), metric_values(files, "wind_std")))
        else:
            cells.append(measured_cell(metric_values(files, key)))
    return cells + [measured_cell(metric_values(files, key)) for key in T3_EXTRA]


def _truth_ablation_cells(truth: dict[str, float | None] | None) -> list[str]:
    keys = [key for key, _ in T3_METRICS] + list(T3_EXTRA)
    return [ZERO if key in ("fd", "wind", "fgd") else _truth_cell(truth, key) for key in keys]


def table3(files: list[MetricsFile], ctx: TableContext) -> Table:
    groups, baseline = _split(files)
    columns = ["configuration"]
    for key, label in T3_METRICS:
        scale = {"fd": ", x1e-5", "wind": ", x1e-4"}.get(key, "")
        columns += [f"{label} (ours)", f"{label} (paper{scale})"]
    columns += [*T3_EXTRA.values(), "seeds"]

    def row(label: str, ours: list[str], ref: dict[str, str | None] | None, seeds: str):
        cells = [label]
        for i, (key, _) in enumerate(T3_METRICS):
            if ref is None:
                theirs = NOT_GENERATED
            elif key == "wind":
                theirs = paper_cell(ref["wind"], ref["wind_std"])
            else:
                theirs = paper_cell(ref[key])
            cells += [ours[i], theirs]
        return cells + ours[len(T3_METRICS) :] + [seeds]

    width = len(T3_METRICS) + len(T3_EXTRA)
    rows = []
    for name, label in paper.VARIANT_LABELS.items():
        found = groups.get(name)
        rows.append(row(label, _ablation_cells(found), paper.TABLE3[name], _seeds(found)))
    for name, ref in paper.TABLE3.items():
        if name not in paper.VARIANT_LABELS:
            found = peer_files(groups, ctx, name)
            cells = _ablation_cells(found) if found else [NOT_RUN] * width
            rows.append(row(name, cells, ref, _seeds(found)))
    for name, found in groups.items():
        if name not in paper.VARIANT_LABELS and ctx.methods.get(name) not in PEERS:
            rows.append(row(name, _ablation_cells(found), None, _seeds(found)))
    if baseline:
        rows.append(row(BASELINE_LABEL, _ablation_cells(baseline), None, "-"))
    rows.append(row(TRUTH_LABEL, _truth_ablation_cells(ground_truth(files)), None, "-"))
    notes = [
        CI_NOTE,
        PAPER_NOTE,
        "'-': the configuration does not generate that task (A2E: face only; A2G: gestures "
        "only). FD and WInD ours are raw; the paper's are scaled as printed.",
        L1DIV_NOTE,
        TRUTH_NOTE,
        *peer_notes(ctx, ("DiffSHEG", "DiffSHEG + UWP", "MambaTalk", "MambaTalk + UWP")),
    ]
    return Table(3, "Ablation", columns, rows, footnotes(ctx, files, notes))
