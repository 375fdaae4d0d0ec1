"""The noise-predicting peers are configured wide enough to carry the noise they predict.

An eps-predicting network outputs full-rank Gaussian noise over every channel of its stream;
a layer narrower than the stream projects it onto fewer dimensions, and the rest of the noise
can never be predicted (DiffSHEG's gesture branch at latent 64 left 0.56 of the unit-variance
gesture noise, the share a 64-dimensional projection of 141 channels must miss, and its
gestures diverged). x0-predicting networks denoise onto the data's low-dimensional manifold
and are not bound by this.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from adm.experiment.config import Experiment
from adm.experiment.stages import train_settings
from adm.models import denoiser_class

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
#: The layer every channel of a stream passes through, per noise-predicting network.
NARROWEST_LAYER = {"diffsheg": "latent", "said": "channels"}


def eps_variants(scale: str):
    experiment = Experiment.from_config({**CONFIG, "scale": scale})
    for variant in experiment.variants:
        settings = train_settings(experiment, variant)
        if settings["diffusion"].get("prediction") == "eps":
            yield variant, settings


@pytest.mark.parametrize("scale", ["bundled", "paper"])
def test_every_eps_variant_is_wider_than_its_widest_stream(scale):
    found = list(eps_variants(scale))
    assert {s["model"]["name"] for _, s in found} == set(NARROWEST_LAYER)
    for variant, settings in found:
        model = dict(settings["model"])
        name = model.pop("name")
        defaults = {f.name: f for f in dataclasses.fields(denoiser_class(name).config_class)}
        width_field = NARROWEST_LAYER[name]
        width = model.get(width_field, defaults[width_field].default)
        dims = defaults["task_dims"].default_factory()
        widest = max(dims[task] for task in settings["variant"]["tasks"])
        assert width >= widest, f"{scale} {variant}: model.{width_field} {width} < {widest}"
