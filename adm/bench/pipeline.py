"""``python -m adm.bench pipeline [--log FILE] [--cores N]``: where a pipeline run's time went.

Reads a finished Snakemake run's log (by default the newest ``.snakemake/log/*.snakemake.log``,
which Snakemake writes for every run) and prints, per rule, the number of jobs and their summed
and mean wall time, then the run's wall time (first job start to last job end) and how busy the
cores were: the jobs' summed wall time over ``wall x cores`` (1.0 = every core ran a job the
whole time). Snakemake stamps the log to the second, so a job's time is good to +-1 s.

Run it after ``snakemake --cores all --resources gpu=1`` from a clean ``results/``; wrap that
command in ``/usr/bin/time -v`` for its CPU time (user + system over wall x cores).
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from adm.errors import BadInputError
from adm.experiment.config import rule_family

_STAMP = re.compile(r"^\[(\w{3} \w{3}\s+\d+ \d\d:\d\d:\d\d \d{4})\]")
_RULE = re.compile(r"^(?:local)?rule (\w+):")
_JOBID = re.compile(r"^\s+jobid: (\d+)")
_FINISHED = re.compile(r"^Finished jobid: (\d+)")


@dataclass
class RuleTime:
    """The jobs of one rule: how many and their wall times in seconds."""

    seconds: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.seconds)


@dataclass
class RunTimes:
    """A whole run: per-rule job times, and its wall time from first start to last end."""

    rules: dict[str, RuleTime]
    wall: float

    def occupancy(self, cores: int) -> float:
        """Summed job time over ``wall x cores``."""
        busy = sum(r.total for r in self.rules.values())
        return busy / (self.wall * cores) if self.wall > 0 else 0.0


def parse_log(path: Path) -> RunTimes:
    """Job start and end times per rule from a Snakemake log.

    Raises:
        BadInputError: the file is missing or holds no finished job.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        raise BadInputError(path, f"cannot read the Snakemake log ({err.strerror})") from None
    now: datetime | None = None
    rule: str | None = None
    started: dict[str, tuple[str, datetime]] = {}
    ended: dict[str, datetime] = {}
    for line in lines:
        if m := _STAMP.match(line):
            now = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif m := _RULE.match(line):
            rule = rule_family(m.group(1))  # a rule's batches count as one rule
        elif (m := _JOBID.match(line)) and rule is not None and now is not None:
            started[m.group(1)] = (rule, now)
            rule = None
        elif (m := _FINISHED.match(line)) and now is not None:
            ended[m.group(1)] = now
    done = [j for j in started if j in ended]
    if not done:
        raise BadInputError(path, "no finished job in this Snakemake log")
    rules: dict[str, RuleTime] = defaultdict(RuleTime)
    for job in done:
        name, start = started[job]
        rules[name].seconds.append((ended[job] - start).total_seconds())
    wall = (max(ended[j] for j in done) - min(started[j][1] for j in done)).total_seconds()
    return RunTimes(dict(rules), wall)


def render(times: RunTimes, cores: int) -> str:
    """The per-rule table (largest summed time first) and the run's totals, in Markdown."""
    busy = sum(r.total for r in times.rules.values())
    lines = [
        "| rule | jobs | summed job wall s | mean s | share |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, rule in sorted(times.rules.items(), key=lambda kv: -kv[1].total):
        share = rule.total / busy if busy else 0.0
        mean = rule.total / len(rule.seconds)
        lines.append(
            f"| {name} | {len(rule.seconds)} | {rule.total:.0f} | {mean:.1f} | {share:.0%} |"
        )
    lines += [
        "",
        f"run wall time: {times.wall:.0f} s ({times.wall / 60:.1f} min); summed job time "
        f"{busy:.0f} s; cores busy {times.occupancy(cores):.0%} of {cores}",
    ]
    return "\n".join(lines)


def newest_log(root: Path) -> Path:
    logs = sorted((root / ".snakemake" / "log").glob("*.snakemake.log"))
    if not logs:
        raise BadInputError(root / ".snakemake" / "log", "no Snakemake log: run the pipeline first")
    return logs[-1]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m adm.bench pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--log", type=Path, help="a Snakemake log (default: the newest of this run)")
    p.add_argument("--root", type=Path, default=Path("."), help="where the run ran")
    p.add_argument("--cores", type=int, default=2, help="the run's --cores (default 2)")
    return p


def run(args: argparse.Namespace) -> int:
    path = args.log or newest_log(args.root)
    print(f"{path}")
    print(render(parse_log(path), args.cores))
    return 0


def main(argv: list[str] | None = None) -> int:
    from adm.commandline import run_stage

    return run_stage(run, parser(), argv)
