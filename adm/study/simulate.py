"""Simulated participants: a votes database filled as real participants would fill it.

Each simulated participant gets a random plan (group order, method order per group) exactly as
the page gives one, and answers every question of every group. The chance of choosing a method
is proportional to ``preference[question][method] * position_weight[position shown]``: with
equal preferences the votes follow the null hypothesis of the analysis; with equal position
weights the order shown has no effect. Used to try the analysis before a study and to test it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from adm.errors import ConfigError
from adm.study.design import QUESTIONS, random_plan
from adm.study.votes import VoteStore


def parse_preferences(specs: Sequence[str], methods: Sequence[str]) -> dict[str, dict[str, float]]:
    """``["full=3", "face:full=6"]`` -> question -> method -> weight (1 where not given).

    A spec without a question applies to every question; a spec with one overrides it there.

    Raises:
        ConfigError: malformed spec, unknown question or method, weight not > 0.
    """
    weights = {q: dict.fromkeys(methods, 1.0) for q in QUESTIONS}
    general = [s for s in specs if ":" not in s.split("=", 1)[0]]
    specific = [s for s in specs if s not in general]
    for spec in [*general, *specific]:
        name, sep, value = spec.partition("=")
        question, _, method = name.rpartition(":")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not sep or not weight > 0 or not np.isfinite(weight):
            raise ConfigError(
                f"--preference {spec!r}: expected [QUESTION:]METHOD=WEIGHT, WEIGHT > 0"
            )
        if method not in methods:
            raise ConfigError(
                f"--preference {spec!r}: unknown method {method!r} (known: {list(methods)})"
            )
        if question and question not in QUESTIONS:
            raise ConfigError(
                f"--preference {spec!r}: unknown question {question!r} (known: {list(QUESTIONS)})"
            )
        for q in [question] if question else QUESTIONS:
            weights[q][method] = weight
    return weights


def simulate(
    store: VoteStore,
    methods: Sequence[str],
    group_ids: Sequence[str],
    participants: int,
    preferences: dict[str, dict[str, float]],
    position_weights: Sequence[float] | None = None,
    seed: int = 0,
) -> list[str]:
    """Register ``participants`` simulated participants and record all their answers.

    Returns:
        the participant ids.
    """
    methods = list(methods)
    position_weights = (
        np.ones(len(methods))
        if position_weights is None
        else np.asarray(position_weights, dtype=np.float64)
    )
    if position_weights.shape != (len(methods),) or not np.all(position_weights > 0):
        raise ConfigError(
            f"--position-weights: expected {len(methods)} weights > 0, got {list(position_weights)}"
        )
    rng = np.random.default_rng(seed)
    store.create(methods)
    ids = []
    for index in range(participants):
        participant = f"sim{index + 1:03d}-{rng.integers(16**6):06x}"
        plan = random_plan(list(group_ids), methods, rng)
        store.register(participant, plan)
        for group_id in plan.groups:
            order = plan.orders[group_id]
            for question in QUESTIONS:
                odds = np.array([preferences[question][m] for m in order]) * position_weights
                chosen = order[rng.choice(len(order), p=odds / odds.sum())]
                store.record(participant, group_id, question, chosen)
        ids.append(participant)
    return ids
