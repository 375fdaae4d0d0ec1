"""Training objectives: what a method's network is asked to minimise, as loss terms per task.

Every method of Tables 1-3 (ADM, its ablations and the peers) declares one objective by name
(``objective: {name: ..., settings}`` of its run config). An objective maps one batch's
:class:`LossInputs` to ``{task: {term: 0-dim loss}}``; the trainer sums each task's terms and the
loss weighting (:mod:`adm.weighting`, fixed or uncertainty) combines the tasks. Grouping the
terms by task is what lets any method take the uncertainty weighting (DiffSHEG + UWP,
MambaTalk + UWP).

Objectives are registered by name (:func:`register_objective`) and built strictly from their
settings dict (:func:`build_objective`): an unknown key is a ConfigError naming it.
"""

from __future__ import annotations

import importlib

from adm.training.objectives.base import (
    LossInputs,
    Objective,
    available_objectives,
    build_objective,
    register_objective,
    task_totals,
)

#: Modules that register objectives when imported (loaded by :func:`load_objectives`).
OBJECTIVE_MODULES = (
    "adm.training.objectives.target",
    "adm.training.objectives.said",
    "adm.training.objectives.diffsheg",
    "adm.training.objectives.camn",
    "adm.training.objectives.mambatalk",
)


def load_objectives() -> None:
    """Import every module that registers an objective (idempotent)."""
    for name in OBJECTIVE_MODULES:
        importlib.import_module(name)


__all__ = [
    "LossInputs",
    "Objective",
    "available_objectives",
    "build_objective",
    "load_objectives",
    "register_objective",
    "task_totals",
]
