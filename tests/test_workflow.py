"""The pipeline's shape: lint, format, config validation, dry runs, README and CI agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from dryrun import job_counts

from adm.experiment.config import rule_family

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def snakemake(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "snakemake", "--cores", "1", *args], cwd=cwd)


def test_ruff_lint_is_clean():
    result = run([sys.executable, "-m", "ruff", "check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run([sys.executable, "-m", "ruff", "format", "--check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_files_are_formatted_by_snakefmt():
    rule_files = ["workflow/Snakefile", *sorted(str(p) for p in (ROOT / "rules").glob("*.smk"))]
    result = run([sys.executable, "-m", "snakefmt", "--check", *rule_files])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would be left unchanged" in result.stdout + result.stderr


def test_the_dry_run_imports_neither_torch_nor_the_corpus_generator():
    """Building the graph reads the config and names files: the heavy stages stay unloaded."""
    result = run(
        [sys.executable, "-X", "importtime", "-m", "snakemake", "-n", "--cores", "1", "-q"]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "adm.experiment.config" in imported  # the check sees the graph's imports
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}
    synth = {m for m in imported if m.startswith("adm.data.synth.")}
    assert synth == {"adm.data.synth.config"}, synth  # the corpus plan, not its generator


def test_snakemake_lint_is_clean():
    result = snakemake("--lint")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Congratulations" in out, out


def test_dry_run_shows_the_whole_data_stage():
    result = snakemake("-n", "--forceall", "--quiet", "rules")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    jobs = job_counts(out)
    for rule in ("synthesize_corpus", "prepare_clip", "split", "norm_stats"):
        assert jobs.get(rule), f"{rule} missing from:\n{out}"
    # 48 bundled clips, 12 per speaker: one prepare and one feature job of each kind a speaker
    assert jobs["prepare_clip"] == jobs["audio_features"] == jobs["text_features"] == 4, jobs
    assert "download_beat" not in out


def test_dry_run_with_real_beat_downloads_the_configured_speakers(tmp_path):
    override = tmp_path / "beat.yaml"
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["data"]["source"] = "beat"
    cfg["data"]["speakers"] = [2, 4]
    override.write_text(yaml.safe_dump(cfg))
    result = snakemake("-n", "--forceall", "--quiet", "rules", "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"^\s*download_beat\s+1\b", out, re.M), out
    # 118 speech + 12 conversation takes for each of the two speakers, 16 clips a job at most
    # (data.clips_per_job): 9 jobs a speaker
    assert job_counts(out)["prepare_clip"] == 18, out
    one_each = tmp_path / "one_each.yaml"
    cfg["data"]["clips_per_job"] = 1
    one_each.write_text(yaml.safe_dump(cfg))
    result = snakemake("-n", "--forceall", "--quiet", "rules", "--configfile", str(one_each))
    assert job_counts(result.stdout + result.stderr)["prepare_clip"] == 260
    assert "synthesize_corpus" not in out


def test_a_misspelt_config_key_is_an_error_naming_it(tmp_path):
    override = tmp_path / "typo.yaml"
    override.write_text("data:\n  prepare:\n    fsp: 30\n")
    result = snakemake("-n", "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "fsp" in out, out


def test_a_wrong_config_value_is_an_error_naming_it(tmp_path):
    override = tmp_path / "bad.yaml"
    override.write_text("data:\n  source: beet\n")
    result = snakemake("-n", "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "beet" in out, out


def test_ci_runs_the_readme_test_command_exactly():
    readme = (ROOT / "README.md").read_text()
    marker = readme.index("<!-- test-command -->")
    block = re.search(r"```bash\n(.+?)\n```", readme[marker:], re.S)
    assert block, "README has no test command block"
    command = block.group(1).strip()
    extracted = run(
        ["awk", "/<!-- test-command -->/{getline; getline; print; exit}", "README.md"]
    ).stdout.strip()
    assert extracted == command
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and "HF_HUB_OFFLINE=1" in ci


def test_torch_is_pinned_exactly():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch==2.13.0"' in pyproject


def test_jobs_read_the_raw_corpus_through_its_manifest(tmp_path):
    """Snakemake finds the producer of an input by matching it against each output of a rule in
    turn, and the corpus rule names every raw file: per-file inputs would cost clips x files
    matches (quadratic in the corpus). Every reader of raw files depends on the manifest alone,
    so the graph grows linearly; the corpus rule still names every file it writes."""
    override = tmp_path / "rehearsal.yaml"
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["data"]["speakers"] = [2]
    cfg["data"]["synth"]["shape"] = "beat"  # BEAT's 130 takes of speaker 2
    override.write_text(yaml.safe_dump(cfg))
    result = snakemake("-n", "--forceall", "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    jobs = re.findall(r"^rule (\w+):\n((?:    .*\n)+)", result.stdout, re.M)
    fields = [(rule, dict(re.findall(r"^    (\w+): (.*)$", body, re.M))) for rule, body in jobs]
    corpus = "results/data/corpus/synth/"
    readers = {}
    for rule, job in fields:
        inputs = [f for f in job.get("input", "").split(", ") if f]
        raw = [f for f in inputs if f.startswith(corpus)]
        if raw:
            assert raw == [corpus + "manifest.tsv"], (rule, raw)
            readers[rule_family(rule)] = readers.get(rule_family(rule), 0) + 1
    assert readers["prepare_clip"] == 9, readers
    # the per-clip stages take 16 clips a job (data.clips_per_job): ceil(130 / 16) = 9
    assert readers["audio_features"] == readers["text_features"] == 9, readers
    assert readers["fasttext_train"] == 1, readers
    (synth,) = [job for rule, job in fields if rule == "synthesize_corpus"]
    assert len(synth["output"].split(", ")) == 130 * 4 + 1  # bvh, json, wav, TextGrid + manifest
