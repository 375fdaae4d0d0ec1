"""The JSON schema of config.yaml and the stages' dataclasses agree key by key.

Snakemake checks config.yaml against ``workflow/schemas/config.schema.yaml`` when it starts; each
stage then builds its frozen dataclass from its settings. The two must describe the same keys,
the same choices and the same types, and every bound the schema states must also be refused by
the dataclass (a command typed by hand gets the schema's checks), or a setting would mean one
thing to the schema and another to the stage.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path

import pytest
import yaml

from adm.config import from_dict
from adm.data.settings import BeatSourceConfig, PrepareConfig
from adm.data.synth.config import SynthConfig
from adm.errors import ConfigError
from adm.evaluation.config import EvalConfig, FitConfig
from adm.experiment.variants import KNOWN, LABEL_KEYS, SECTION_KEYS
from adm.features.config import AudioFeatureConfig, FastTextTrainConfig, TextFeatureConfig
from adm.models.config import ADMConfig
from adm.sampling.generate import SampleConfig
from adm.training.config import DiffusionConfig, TrainConfig, VariantConfig, WeightingConfig
from adm.training.vq_stage import VQStageConfig

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())


def node(path: str) -> dict:
    """The schema object at ``path`` (dots; ``$defs.x`` and ``*`` for additionalProperties)."""
    current = SCHEMA
    for part in path.split("."):
        current = current["additionalProperties"] if part == "*" else (
            current[part] if part == "$defs" or "properties" not in current
            else current["properties"][part]
        )  # fmt: skip
        if "$ref" in current:
            current = SCHEMA["$defs"][current["$ref"].rsplit("/", 1)[-1]]
    return current


# (schema path, dataclass, keys only the dataclass has, keys only the schema has)
SECTIONS = [
    ("data.prepare", PrepareConfig, set(), set()),
    ("data.beat", BeatSourceConfig, set(), set()),
    ("data.synth", SynthConfig, {"speakers"}, set()),  # speakers: data.speakers
    ("features.audio", AudioFeatureConfig, set(), set()),
    ("features.text", TextFeatureConfig, set(), set()),
    ("features.fasttext", FastTextTrainConfig, set(), set()),
    ("$defs.model", ADMConfig, set(), {"name"}),  # name: the registry's key
    ("diffusion", DiffusionConfig, set(), set()),
    # weighting_lr: the top-level weighting.lr, passed by adm.experiment.stages.train_settings;
    # gpus: how the train command starts (adm.experiment.launch), not a setting of the trainer
    ("$defs.train", TrainConfig, {"weighting_lr"}, {"gpus"}),
    # name: the variant's key; the others: sections and labels a variant overrides
    # (adm.experiment.variants), each checked by its own dataclass.
    ("variants.*", VariantConfig, {"name"}, set(SECTION_KEYS + LABEL_KEYS)),
    ("variants.*.weighting", WeightingConfig, set(), set()),
    ("variants.*.vq", VQStageConfig, {"tasks"}, set()),  # tasks: the variant's
    ("$defs.sample", SampleConfig, set(), {"seeds"}),  # seeds: one job per seed
    ("$defs.metric_model", FitConfig, set(), set()),
    ("evaluate", EvalConfig, {"data_source"}, set()),  # data_source: from data.source
]
IDS = [s[0] for s in SECTIONS]


JSON_TYPE = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def schema_types(prop: dict) -> set[str]:
    if "enum" in prop:
        return {JSON_TYPE[type(v)] for v in prop["enum"]}
    kinds = prop.get("type", [])
    return set([kinds] if isinstance(kinds, str) else kinds)


def python_types(tp) -> set[str]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(python_types(a) for a in args))
    if origin is typing.Literal:
        return {JSON_TYPE[type(a)] for a in args}
    if tp in JSON_TYPE:
        return {JSON_TYPE[tp]}
    if origin in (tuple, list):
        return {"array"}
    if origin is dict or dataclasses.is_dataclass(tp):
        return {"object"}
    raise AssertionError(f"no schema type for {tp}")


def test_a_variant_takes_the_keys_the_experiment_reads():
    assert set(node("variants.*")["properties"]) == set(KNOWN)
    assert set(node("scales.*.variants.*")["properties"]) == set(KNOWN)


@pytest.mark.parametrize(("path", "cls", "only_cls", "only_schema"), SECTIONS, ids=IDS)
def test_the_same_keys(path, cls, only_cls, only_schema):
    fields = {f.name for f in dataclasses.fields(cls)}
    props = set(node(path)["properties"])
    assert node(path)["additionalProperties"] is False
    assert fields - props == only_cls, f"{path}: keys the schema lacks"
    assert props - fields == only_schema, f"{path}: keys the dataclass lacks"


@pytest.mark.parametrize(("path", "cls", "only_cls", "only_schema"), SECTIONS, ids=IDS)
def test_the_same_types_and_choices(path, cls, only_cls, only_schema):
    hints = typing.get_type_hints(cls)
    for key, prop in node(path)["properties"].items():
        if key in only_schema or "$ref" in prop:
            continue
        expected = python_types(hints[key])
        found = schema_types(prop)
        if "number" in expected:
            expected |= {"integer"}  # an integer is a number to both
            found |= {"integer"} if "number" in found else set()
        if "integer" in expected and "number" in found:
            found.discard("number")  # JSON Schema's number admits what from_dict converts
        assert found <= expected, f"{path}.{key}: schema {found}, dataclass {expected}"
        literal = [a for a in typing.get_args(hints[key]) if typing.get_origin(a) is typing.Literal]
        if typing.get_origin(hints[key]) is typing.Literal:
            literal = [hints[key]]
        if literal and "enum" in prop:
            choices = {v for lit in literal for v in typing.get_args(lit)}
            choices |= {None} if "null" in expected else set()
            assert set(prop["enum"]) == choices, f"{path}.{key}: choices differ"


def _outside(prop: dict) -> list[tuple[float, str]]:
    """Values just outside the schema's bounds of one numeric key, with the bound's name."""
    integer = "integer" in schema_types(prop)
    step = 1 if integer else 1e-9
    out = []
    if "minimum" in prop:
        out.append((prop["minimum"] - step, "minimum"))
    if "exclusiveMinimum" in prop:
        out.append((prop["exclusiveMinimum"], "exclusiveMinimum"))
    if "maximum" in prop:
        out.append((prop["maximum"] + step, "maximum"))
    if "exclusiveMaximum" in prop:
        out.append((prop["exclusiveMaximum"], "exclusiveMaximum"))
    return [(int(v) if integer else v, name) for v, name in out]


BOUNDED = [
    (path, cls, key, value, bound)
    for path, cls, _, only_schema in SECTIONS
    for key, prop in node(path)["properties"].items()
    if key not in only_schema and "$ref" not in prop
    for value, bound in _outside(prop)
]


@pytest.mark.parametrize(
    ("path", "cls", "key", "value", "bound"),
    BOUNDED,
    ids=[f"{p}.{k}:{b}" for p, _, k, _, b in BOUNDED],
)
def test_every_bound_of_the_schema_is_refused_by_the_dataclass(path, cls, key, value, bound):
    with pytest.raises(ConfigError):
        from_dict(cls, {key: value}, path)
    assert math.isfinite(value)
