"""The slurm profile dry-runs with Snakemake's slurm executor plugin (``pip install -e
'.[cluster]'``): GPU rules ask for a GPU the plugin's way, training gets the paper-scale
runtime, and a killed job is rerun (training resumes from its checkpoint)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from adm.experiment.config import rule_family

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
HAVE_PLUGIN = importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None
needs_plugin = pytest.mark.skipif(
    not HAVE_PLUGIN,
    reason="snakemake-executor-plugin-slurm is not installed (pip install -e '.[cluster]')",
)


def _settings() -> dict:
    return yaml.safe_load((PROFILE / "config.yaml").read_text())


def _resources(settings: dict, key: str) -> dict[str, str]:
    """``rule:name=value`` (set-resources) or ``name=value`` entries as a dict."""
    return dict(entry.split("=", 1) for entry in settings.get(key) or [])


def test_the_cluster_extra_installs_the_plugin_alone():
    pyproject = (ROOT / "pyproject.toml").read_text()
    extra = re.search(r"^cluster = \[(.*)\]$", pyproject, re.M)
    assert extra, "pyproject.toml has no `cluster` extra"
    assert "snakemake-executor-plugin-slurm" in extra.group(1) and "torch" not in extra.group(1)


def test_a_killed_job_is_rerun_and_resumes():
    settings = _settings()
    assert settings["executor"] == "slurm"
    assert settings["rerun-incomplete"] is True and settings["retries"] >= 1
    assert settings["slurm-requeue"] is True
    # Training resumes only if its checkpoints survive a failed attempt: Snakemake deletes a
    # failed job's outputs, so the checkpoints folder must not be one.
    train_rule = (ROOT / "rules" / "train.smk").read_text()
    outputs = train_rule.split("output:", 1)[1].split("params:", 1)[0]
    assert "checkpoints" not in outputs


@needs_plugin
def test_no_slurm_extra_repeats_what_the_plugin_manages():
    from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

    settings = _settings()
    extras = [
        v for k, v in _resources(settings, "set-resources").items() if k.endswith("slurm_extra")
    ]
    extras += [
        v for k, v in _resources(settings, "default-resources").items() if k == "slurm_extra"
    ]
    for extra in extras:
        for pattern, name in get_forbidden_slurm_options().items():
            assert not re.search(pattern, extra), f"slurm_extra sets the {name}: {extra}"


def _jobs(dry_run: str) -> dict[str, list[dict[str, str]]]:
    """Each rule's jobs as their ``resources:`` line, parsed, from a dry run's output."""
    jobs: dict[str, list[dict[str, str]]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run):
        head = re.match(r"(?:local)?rule (\w+):", block)
        line = re.search(r"^\s+resources: (.*)$", block, re.M)
        if head and line:
            pairs = [item.split("=", 1) for item in line.group(1).split(", ") if "=" in item]
            # a per-clip stage's batches (prepare_clip_speaker2_0, ...) count as its rule
            jobs.setdefault(rule_family(head.group(1)), []).append(dict(pairs))
    return jobs


def _dry_run(*extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", str(PROFILE), *extra, "-n", "--forceall"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


@needs_plugin
def test_the_profile_dry_runs_with_gpus_and_the_training_runtime():
    jobs = _jobs(_dry_run("--workflow-profile", "none"))
    assert jobs["train"] and jobs["sample"] and jobs["prepare_clip"]
    for job in jobs["train"]:
        assert job.get("gpu") == "1" and int(job["runtime"]) >= 360, job
    for job in jobs["sample"]:
        assert job.get("gpu") == "1", job
    for job in jobs["prepare_clip"]:
        assert "gpu" not in job and "gres" not in job, job


@needs_plugin
def test_the_documented_command_does_not_serialise_gpu_jobs():
    # The default workflow profile limits the run to one GPU (a workstation); the profile's
    # documented command leaves it out, so GPU jobs are limited by `jobs` alone.
    from snakemake.cli import parse_args

    command = "snakemake --profile workflow/profiles/slurm --workflow-profile none"
    assert command in (PROFILE / "config.yaml").read_text()
    assert command in (ROOT / "README.md").read_text()
    _, args = parse_args(["--profile", str(PROFILE), "--workflow-profile", "none", "-n"])
    assert args.executor == "slurm" and "gpu" not in (args.resources or {})
    _, with_default = parse_args(["--profile", str(PROFILE), "-n"])
    assert with_default.resources["gpu"].value == 1  # what the flag avoids


@needs_plugin
def test_the_profile_alone_dry_runs():
    assert "rule train:" in _dry_run()
