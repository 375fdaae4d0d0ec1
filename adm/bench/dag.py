"""How long Snakemake takes to build the pipeline's graph: ``python -m adm.bench dag``.

Times ``snakemake -n --cores 1 --quiet`` (a dry run: config check, every rule's inputs and
outputs, the whole job graph) from the repository root, ``--repeats`` times each, on the
default config, on real BEAT's 520 clips (``data.source: beat``, speakers 2, 4, 6, 8:
118 speech and 12 conversation takes each; nothing needs to be downloaded, the clips are known
from their names) and on the bundled corpus in BEAT's shape (``data.synth.shape: beat``, the
same 520 clips made offline), and prints the median and the best against the targets (< 2 s,
< 4 s and < 4 s).
It also says whether torch or the corpus generator was imported while the graph was built.

    python -m adm.bench dag [--repeats 5] [--root .]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TARGETS = {
    "default config": 2.0,
    "real BEAT, 520 clips": 4.0,
    "BEAT-shaped synth": 4.0,
}
# Imported while the graph is built only if something pulls in the heavy stages.
HEAVY = ("torch", "adm.data.synth.corpus")


def dry_run(
    root: Path, configfile: Path | None, importtime: bool = False
) -> tuple[float, float, str]:
    """Wall-clock and CPU (user + system) seconds of one dry run, and its stderr. On a shared
    machine the wall clock includes waiting for a core; the CPU time does not."""
    python = [sys.executable, "-X", "importtime"] if importtime else [sys.executable]
    cmd = [*python, "-m", "snakemake", "-n", "--cores", "1", "-q"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"error: snakemake -n failed:\n{result.stdout}{result.stderr}")
    return elapsed, cpu, result.stderr


def heavy_imports(root: Path, configfile: Path | None) -> list[str]:
    """The heavy modules a dry run imports (one extra run under ``python -X importtime``)."""
    *_, stderr = dry_run(root, configfile, importtime=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines()}
    return sorted(m for m in imported if m.split(".")[0] == "torch" or m in HEAVY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adm.bench dag", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="dry runs per config")
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    root = args.root.resolve()
    config = yaml.safe_load((root / "config.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        beat = Path(tmp) / "beat.yaml"
        beat.write_text(
            yaml.safe_dump({"data": {**config["data"], "source": "beat", "speakers": [2, 4, 6, 8]}})
        )
        rehearsal = Path(tmp) / "rehearsal.yaml"
        synth = {**config["data"]["synth"], "shape": "beat"}
        data = {**config["data"], "source": "synth", "speakers": [2, 4, 6, 8], "synth": synth}
        rehearsal.write_text(yaml.safe_dump({"data": data}))
        print(f"snakemake -n --cores 1 -q, {args.repeats} runs each")
        print(
            f"{'config':<22} {'wall median':>11} {'wall best':>9} {'CPU median':>10} "
            f"{'target':>7}  heavy imports"
        )
        configs = (
            ("default config", None),
            ("real BEAT, 520 clips", beat),
            ("BEAT-shaped synth", rehearsal),
        )
        for name, configfile in configs:
            runs = [dry_run(root, configfile) for _ in range(args.repeats)]
            wall = [r[0] for r in runs]
            cpu = statistics.median(r[1] for r in runs)
            heavy = heavy_imports(root, configfile)
            verdict = "PASS" if statistics.median(wall) < TARGETS[name] else "FAIL"
            print(
                f"{name:<22} {statistics.median(wall):>10.2f}s {min(wall):>8.2f}s {cpu:>9.2f}s "
                f"{'< ' + str(TARGETS[name]):>7}  {', '.join(heavy) or 'none'}  {verdict}"
            )
    return 0
