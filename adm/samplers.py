"""The sampler names ``sample.sampler`` accepts and how tables label them (no torch import, so
the workflow and the tables can use it).

``ddpm`` is the full training chain (the paper), ``ddim`` strided DDIM steps, and the solvers
DPM-Solver++(2M) in its deterministic (``dpmpp_2m``) and stochastic (``dpmpp_2m_sde``) forms
(:mod:`adm.diffusion.solvers`), whose ``steps`` is their number of network calls.
"""

from __future__ import annotations

SOLVER_LABELS: dict[str, str] = {"dpmpp_2m": "DPM++2M", "dpmpp_2m_sde": "DPM++2M-SDE"}
SAMPLERS: tuple[str, ...] = ("ddpm", "ddim", *SOLVER_LABELS)


def sampler_label(sampler: str, steps: int | None, chain_steps: int | None = None) -> str:
    """e.g. ``DDPM-1000``, ``DDIM-50`` or ``DPM++2M-SDE-25`` (``DDPM`` when no count is known).

    ``steps`` is the sampler's own count (unused by ``ddpm``, which runs ``chain_steps``).
    """
    if sampler == "ddpm":
        return f"DDPM-{chain_steps}" if chain_steps else "DDPM"
    name = "DDIM" if sampler == "ddim" else SOLVER_LABELS.get(sampler, sampler)
    return f"{name}-{steps}" if steps else name
