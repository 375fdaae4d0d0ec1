"""The paper's reported numbers (Xuan et al., JIG 2025, Tables 1-4), as data.

Copied from the paper's tables (method.md restates them). Values are kept as the strings the
paper prints ("0.850", "2.67"), so a table shows them exactly as published; :func:`number`
turns one into a float. ``None`` is the paper's "-" (a task the configuration does not have).
These values are only ever printed in the "(paper)" columns, never mixed into measured ones.

Units as printed: FD x1e-5 and WInD x1e-4 (:data:`FD_SCALE`, :data:`WIND_SCALE`), Table 4's
losses x1e-3 (:data:`LOSS_SCALE`).
"""

from __future__ import annotations

FD_SCALE = 1e-5
WIND_SCALE = 1e-4
LOSS_SCALE = 1e-3

#: Table 1 (gestures on BEAT): Diversity, SRGR, FGD, BeatAlign. "ours" is the paper's ADM.
TABLE1: dict[str, dict[str, str]] = {
    "CaMN": {"diversity": "43.2", "srgr": "0.318", "fgd": "4.45", "beat_align": "0.850"},
    "DSG": {"diversity": "48.5", "srgr": "0.314", "fgd": "4.32", "beat_align": "0.932"},
    "DiffSHEG": {"diversity": "47.4", "srgr": "0.319", "fgd": "3.75", "beat_align": "0.953"},
    "MambaTalk": {"diversity": "51.6", "srgr": "0.320", "fgd": "3.43", "beat_align": "0.961"},
    "ours": {"diversity": "52.5", "srgr": "0.324", "fgd": "5.32", "beat_align": "0.920"},
}

#: Table 2 (face): FD (x1e-5) and WInD mean +- std (x1e-4).
TABLE2: dict[str, dict[str, str]] = {
    "SAiD": {"fd": "69.3", "wind": "8.47", "wind_std": "0.119"},
    "DiffSHEG": {"fd": "12.4", "wind": "2.19", "wind_std": "0.142"},
    "MambaTalk": {"fd": "9.32", "wind": "2.56", "wind_std": "0.132"},
    "ours": {"fd": "9.18", "wind": "2.67", "wind_std": "0.327"},
}

_T3_KEYS = ("fd", "wind", "wind_std", "diversity", "srgr", "fgd", "beat_align")


def _row(*values: str | None) -> dict[str, str | None]:
    return dict(zip(_T3_KEYS, values, strict=True))


#: Table 3 (ablation), in the paper's row order. Keys of our variants are their names
#: (full, no_uwp, a2e, a2g); the other rows are methods this project does not run.
TABLE3: dict[str, dict[str, str | None]] = {
    "full": _row("9.18", "2.67", "0.327", "52.5", "0.324", "5.32", "0.920"),
    "no_uwp": _row("10.5", "2.49", "0.211", "47.2", "0.314", "3.98", "0.923"),
    "a2e": _row("10.0", "2.35", "0.207", None, None, None, None),
    "a2g": _row(None, None, None, "48.4", "0.316", "4.31", "0.930"),
    "DiffSHEG + UWP": _row("10.6", "2.17", "0.182", "51.5", "0.322", "5.62", "0.950"),
    "DiffSHEG": _row("12.4", "2.19", "0.142", "47.4", "0.319", "3.75", "0.953"),
    "MambaTalk + UWP": _row("8.87", "2.43", "0.237", "54.3", "0.334", "5.02", "0.958"),
    "MambaTalk": _row("9.32", "2.56", "0.132", "51.6", "0.320", "3.43", "0.961"),
}

#: Our variant names and the paper's labels for them.
VARIANT_LABELS: dict[str, str] = {
    "full": "full model (ADM)",
    "no_uwp": "without UWP (1:1)",
    "a2e": "A2E only",
    "a2g": "A2G only",
}

#: Table 4 (training dynamics): (gesture, face) pairs as printed; losses x1e-3. The paper's
#: "drop" is given as printed, although it does not always equal start - end.
TABLE4: dict[str, dict[str, tuple[str, str]]] = {
    "a2e": {
        "weights": ("0", "1"),
        "start": ("0", "251"),
        "end": ("0", "6.62"),
        "drop": ("0", "244"),
    },
    "a2g": {
        "weights": ("1", "0"),
        "start": ("254", "0"),
        "end": ("6.28", "0"),
        "drop": ("248", "0"),
    },
    "no_uwp": {
        "weights": ("0.5", "0.5"),
        "start": ("251", "260"),
        "end": ("7.82", "8.16"),
        "drop": ("244", "252"),
    },
    "full": {
        "weights": ("0.5063", "0.4937"),
        "start": ("246", "292"),
        "end": ("7.67", "8.22"),
        "drop": ("239", "284"),
    },
}


def number(value: str | None) -> float | None:
    """The float of a printed paper value (``None`` stays ``None``)."""
    return None if value is None else float(value)
