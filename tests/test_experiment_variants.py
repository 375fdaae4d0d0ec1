"""Variants as methods of their own: how a peer's sections are assembled from config.yaml."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.experiment.stages import params, stage_settings
from adm.experiment.variants import variant_sections

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
SECTIONS = {
    "model": {"name": "adm", "latent": 64, "layers": 2},
    "diffusion": {"schedule": "cosine", "steps": 1000},
    "train": {"batch": 16, "lr": 1e-3, "window": 150},
    "sample": {"sampler": "ddim", "steps": 50, "seeds": [0, 1]},
}


def test_an_ablation_variant_keeps_the_base_sections():
    out = variant_sections("a2e", {"tasks": ["face"]}, SECTIONS, None)
    assert out["model"] == SECTIONS["model"] and out["train"] == SECTIONS["train"]
    assert out["variant"] == {"name": "a2e", "tasks": ["face"]}
    assert out["objective"] is None


def test_the_same_network_merges_over_the_base_model_another_replaces_it():
    same = variant_sections("dsg", {"model": {"decoder_hidden": 0}}, SECTIONS, None)
    assert same["model"] == {**SECTIONS["model"], "decoder_hidden": 0}
    other = variant_sections("p", {"model": {"name": "said"}}, SECTIONS, {"model": {"channels": 8}})
    assert other["model"] == {"name": "said", "channels": 8}  # ADM's sizes do not apply


def test_the_variants_own_keys_win_over_the_presets_which_win_over_the_base():
    preset = {"train": {"lr": 5e-4, "batch": 8}, "sample": {"steps": 20}}
    variant = {"train": {"lr": 2e-4}, "sample": {"seam": "linear"}, "objective": {"name": "mse"}}
    out = variant_sections("p", variant, SECTIONS, preset)
    assert out["train"] == {"batch": 8, "lr": 2e-4, "window": 150}
    assert out["sample"] == {"sampler": "ddim", "steps": 20, "seeds": [0, 1], "seam": "linear"}
    assert out["objective"] == {"name": "mse"}


def test_an_unknown_key_of_a_variant_is_named():
    config = copy.deepcopy(CONFIG)
    config["variants"]["full"] = {"modle": {}}
    with pytest.raises(ConfigError, match="variants.full: unknown key 'modle'"):
        Experiment.from_config(config)


def test_a_peer_left_out_of_variants_needs_no_edit_of_the_presets():
    config = copy.deepcopy(CONFIG)
    config["variants"] = {"full": CONFIG["variants"]["full"]}
    experiment = Experiment.from_config(config)
    assert list(experiment.variants) == ["full"] and experiment.variant_presets == {}


def test_adm_variants_receive_exactly_the_settings_they_had_before_peers_existed():
    """Adding peers to config.yaml changes no ADM job's settings (no rerun, same rows)."""
    config = copy.deepcopy(CONFIG)
    experiment = Experiment.from_config(config)
    only_adm = copy.deepcopy(CONFIG)
    only_adm["variants"] = {k: v for k, v in CONFIG["variants"].items() if "method" not in v}
    only_adm["scales"] = {
        name: {k: v for k, v in preset.items() if k != "variants"}
        for name, preset in CONFIG["scales"].items()
    }
    before = Experiment.from_config(only_adm)
    for variant in ("full", "no_uwp", "a2e", "a2g"):
        for stage in ("train", "sample"):
            assert params(experiment, stage, variant) == params(before, stage, variant)
        assert "objective" not in stage_settings(experiment)["train"][variant]


def test_every_peer_of_the_default_config_names_its_method_and_a_registered_network():
    from adm.models import available_denoisers
    from adm.training.objectives import available_objectives

    experiment = Experiment.from_config(copy.deepcopy(CONFIG))
    peers = {k: v for k, v in experiment.variants.items() if "method" in v}
    assert {v["method"] for v in peers.values()} >= {"DSG", "DiffSHEG", "DiffSHEG + UWP", "SAiD"}
    for name in peers:
        sections = experiment.variant(name)
        assert sections["model"].get("name", "adm") in available_denoisers()
        assert sections["objective"]["name"] in available_objectives()


def test_the_regression_objectives_listed_by_name_train_the_regression_networks():
    """The rules label a regression peer's sampler from a name list of objectives (importing
    the registries would import torch into every graph build): in the default config, a
    variant's objective is on the list exactly when its network is a regression network."""
    from adm.experiment.stages import REGRESSION_OBJECTIVES
    from adm.models import available_denoisers
    from adm.models.registry import denoiser_class

    assert available_denoisers()  # registers every network

    experiment = Experiment.from_config(copy.deepcopy(CONFIG))
    kinds = set()
    for name in experiment.variants:
        sections = experiment.variant(name)
        network = denoiser_class(sections["model"].get("name", "adm"))
        listed = (sections["objective"] or {}).get("name") in REGRESSION_OBJECTIVES
        assert listed == bool(getattr(network, "regression", False)), name
        kinds.add(listed)
    assert kinds == {True, False}


def test_the_peers_train_first_and_adms_denoiser_last():
    """Longest first: the peers' training jobs get the higher scheduling priority."""
    from adm.experiment.launch import train_priority

    experiment = Experiment.from_config(copy.deepcopy(CONFIG))
    priority = {name: train_priority(experiment, name) for name in experiment.variants}
    assert {k for k, v in priority.items() if v == 0} == {"full", "no_uwp", "a2e", "a2g", "dsg"}
    assert set(priority.values()) == {0, 1}


def test_a_regression_peers_footnote_says_its_seeds_agree():
    """CaMN and MambaTalk give the same motion for every sampling seed: their footnote says
    that their ± of 0 is not a training spread; a diffusion peer's footnote does not."""
    from adm.experiment.stages import DETERMINISTIC_NOTE, table_context

    notes = table_context(Experiment.from_config(copy.deepcopy(CONFIG)))["method_notes"]
    regression = {m for m, lines in notes.items() if DETERMINISTIC_NOTE in lines}
    assert regression == {"CaMN", "MambaTalk", "MambaTalk + UWP"}
    assert "Sampled with one prediction per window (regression)." in notes["CaMN"]
