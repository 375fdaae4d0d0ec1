"""What one entry of ``variants:`` means: the sections its training and sampling receive.

A variant is either an ADM ablation (``tasks``, ``weighting``: a small override of the base
model) or a method of its own, a peer (DSG, DiffSHEG, SAiD, CaMN, MambaTalk), which also names
its network and may override any section it trains and samples with:

- ``model``: merged over the base ``model:`` section when it names the same network (or none),
  else it replaces it (another network's sizes do not apply);
- ``diffusion``, ``train``, ``sample``: merged over the base sections;
- ``objective``: the method's loss terms (absent: ADM's per-task Huber);
- ``vq``: the settings of a two-stage network's first stage (MambaTalk's part VQ-VAEs,
  ``adm train-vq``), trained by its own rule before the network;
- ``method``: the row label in the tables (absent: the variant's own name);
- ``notes``: what was adapted for this data, printed under the tables.

The scale preset may carry the same keys per variant (``scales.<scale>.variants.<name>``), e.g.
the bundled sizes of a peer; the variant's own keys win over them, as everywhere else.
"""

from __future__ import annotations

from typing import Any

from adm.errors import ConfigError

#: Keys of a variant that the trainer reads as its ``variant`` section.
VARIANT_KEYS = ("tasks", "weighting")
#: Sections a variant (or the preset's entry for it) may override.
SECTION_KEYS = ("model", "diffusion", "train", "sample", "objective", "vq")
#: Keys that describe the method in the tables.
LABEL_KEYS = ("method", "notes")
KNOWN = VARIANT_KEYS + SECTION_KEYS + LABEL_KEYS


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def check_variant(name: str, variant: dict[str, Any], where: str = "variants") -> None:
    """Unknown keys of a variant entry are a ConfigError naming them."""
    if not isinstance(variant, dict):
        raise ConfigError(f"{where}.{name}: expected a mapping, got {variant!r}")
    unknown = sorted(set(variant) - set(KNOWN))
    if unknown:
        raise ConfigError(f"{where}.{name}: unknown key {unknown[0]!r} (known: {', '.join(KNOWN)})")


def variant_sections(
    name: str,
    variant: dict[str, Any],
    sections: dict[str, dict[str, Any]],
    preset: dict[str, Any] | None,
) -> dict[str, Any]:
    """The sections variant ``name`` trains and samples with.

    Args:
        variant: its entry in ``variants:``.
        sections: the base sections (scale preset already merged under the user's keys).
        preset: the scale preset's entry for this variant (``scales.<scale>.variants.<name>``).

    Returns:
        ``{"model", "diffusion", "train", "sample", "objective", "vq", "variant"}``;
        ``objective`` is None when the method uses ADM's default, ``vq`` when it has no first
        stage.
    """
    preset = preset or {}
    check_variant(name, variant)
    check_variant(name, preset, "scales.<scale>.variants")
    base_model = sections.get("model") or {}
    own_model = _merge(preset.get("model") or {}, variant.get("model") or {})
    network = own_model.get("name", base_model.get("name", "adm"))
    if network == base_model.get("name", "adm"):
        model = _merge(base_model, own_model)
    else:
        model = own_model
    out: dict[str, Any] = {"model": model}
    for key in ("diffusion", "train", "sample"):
        merged = _merge(sections.get(key) or {}, preset.get(key) or {})
        out[key] = _merge(merged, variant.get(key) or {})
    objective = _merge(preset.get("objective") or {}, variant.get("objective") or {})
    out["objective"] = objective or None
    vq = _merge(preset.get("vq") or {}, variant.get("vq") or {})
    out["vq"] = vq if "vq" in variant else None
    out["variant"] = {"name": name, **{k: variant[k] for k in VARIANT_KEYS if k in variant}}
    return out


def method_label(name: str, variant: dict[str, Any]) -> str:
    """The variant's row label: its ``method`` key, else its name."""
    return str(variant.get("method") or name)
