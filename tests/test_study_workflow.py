"""The study in the pipeline: `snakemake study` runs the materials command on the study's
variants; a study naming an unknown variant is an error naming the key; the README's study
command is one the command line accepts."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from adm.study.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _snakemake(*args: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def test_dry_run_of_the_study_target():
    code, out = _snakemake("-n", "--forceall", "-p", "study")
    assert code == 0, out
    assert re.search(r"^\s*study\s+1\b", out, re.M), out
    # Samples of the four variants the three methods use, all from the first sampling seed.
    for variant in ("full", "diffsheg", "camn", "said"):
        assert f"--outdir results/samples/{variant}/seed0" in out
    command = next(line for line in out.splitlines() if "adm study materials" in line)
    assert "--outdir results/study/materials" in command
    # The methods keep the config's order (the analysis's column order).
    assert re.search(r'"methods":\{"full":.*"diffsheg":.*"camn":', command), command


def test_a_study_method_with_an_unknown_variant_is_an_error_naming_it(tmp_path):
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["study"]["methods"]["nope"] = {"gesture": "nope", "face": "nope"}
    override = tmp_path / "study.yaml"
    override.write_text(yaml.safe_dump(cfg, sort_keys=False))
    code, out = _snakemake("-n", "study", "--configfile", str(override))
    assert code != 0
    assert "study.methods.nope.gesture: 'nope' is not a variant" in out, out


def test_the_readme_study_command_is_accepted():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- study-command -->", 1)[1].split("```bash\n", 1)[1].split("\n")[0]
    command = shlex.split(block.split("&&", 1)[1])
    assert command[:2] == ["adm", "study"]
    args = build_parser().parse_args(command[2:])
    assert args.command == "serve" and args.address == "127.0.0.1"
    assert args.manifest == "results/study/materials/manifest.json"
