"""Study design: per-participant random orders are permutations that vary; blind labels map to
positions; the manifest loader refuses what the page could not show."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from studyfactory import METHODS, make_study

from adm.errors import BadInputError
from adm.study.design import Plan, blind_labels, load_manifest, random_plan

GROUPS = [f"g{i:02d}" for i in range(1, 10)]


def test_plans_are_permutations_and_every_method_reaches_every_position():
    rng = np.random.default_rng(0)
    plans = [random_plan(GROUPS, METHODS, rng) for _ in range(200)]
    first_positions = Counter()
    group_orders = set()
    for plan in plans:
        assert sorted(plan.groups) == GROUPS
        assert set(plan.orders) == set(GROUPS)
        for order in plan.orders.values():
            assert sorted(order) == sorted(METHODS)
        first_positions.update(order[0] for order in plan.orders.values())
        group_orders.add(tuple(plan.groups))
    # 1800 draws: each method is shown first about a third of the time (binomial sd ~ 20).
    assert all(abs(first_positions[m] - 600) < 120 for m in METHODS), first_positions
    assert len(group_orders) > 190  # 9! orders: repeats are rare


def test_labels_are_positions():
    plan = Plan(["g01"], {"g01": ["a2g_a2e", "full", "no_uwp"]})
    assert blind_labels(3) == ["A", "B", "C"]
    assert [plan.method_of("g01", x) for x in "ABC"] == ["a2g_a2e", "full", "no_uwp"]
    assert plan.label_of("g01", "no_uwp") == "C"
    assert Plan.from_json(plan.to_json()) == plan


def _edit(path, change):
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(version=7), "not a study manifest of version 1"),
        (lambda m: m.update(methods=["full"]), "at least two distinct names"),
        (lambda m: m.update(groups=[]), "lists no groups"),
        (lambda m: m["groups"][1].update(id="g01"), "group ids repeat"),
        (lambda m: m["groups"][0]["videos"].pop("full"), "group g01 has videos of"),
        (lambda m: m["groups"][0].pop("clip"), "group 1 is malformed"),
    ],
)
def test_bad_manifests_are_one_line_naming_the_file(tmp_path, change, message):
    path = make_study(tmp_path, groups=2)
    _edit(path, change)
    with pytest.raises(BadInputError, match=message) as info:
        load_manifest(path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_empty_video_and_missing_manifest(tmp_path):
    path = make_study(tmp_path, groups=1)
    (tmp_path / "g01/v2.mp4").write_bytes(b"")
    with pytest.raises(BadInputError, match=r"the video of a2g_a2e, .*v2.mp4, is empty"):
        load_manifest(path)
    assert load_manifest(path, check_videos=False).methods == METHODS  # what analyse reads
    with pytest.raises(BadInputError, match="no such manifest"):
        load_manifest(tmp_path / "absent.json")
    path.write_text("{not json")
    with pytest.raises(BadInputError, match="not a JSON manifest"):
        load_manifest(path)
