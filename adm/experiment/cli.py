"""The experiment's commands: ``adm settings`` (what a rule runs) and ``adm schema``.

    adm settings train --variant no_uwp      # the exact command of the rule train, no_uwp
    adm settings sample --variant full
    adm settings train --variant full --json # only the --config settings it passes

Each command is a pair: ``<name>_parser()`` builds its options, ``<name>(args)`` runs it
(through :func:`adm.commandline.run_stage`, see :mod:`adm.commands`).
"""

from __future__ import annotations

import argparse

from adm.commandline import clip_name

STAGES_WITH_RULES = (
    "synthesize download prepare split norm-stats preview fasttext-train filter-vectors "
    "audio-features text-features train train-vq sample fit-metric-model reference evaluate "
    "tables"
).split()


# --- adm settings ---------------------------------------------------------------------------
def settings_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Print the exact command line a pipeline rule runs for a stage (its log "
        "redirection aside), built from config.yaml as the rule builds it: a run typed by "
        "hand then equals the pipeline's job."
    )
    p.add_argument("stage", choices=STAGES_WITH_RULES, help="the command of the rule")
    p.add_argument("--config", default="config.yaml", help="the config file (config.yaml)")
    p.add_argument("--variant", help="variant of train, sample, evaluate (default: the first)")
    p.add_argument("--clip", type=clip_name, help="clip of the per-clip stages (the first)")
    p.add_argument("--kind", choices=("motion", "face"), help="metric model (motion)")
    p.add_argument("--table", type=int, choices=(1, 2, 3, 4), help="table (1)")
    p.add_argument("--json", action="store_true", help="print only the settings passed as --config")
    return p


def settings(args: argparse.Namespace) -> int:
    from adm.experiment.commands import command_line
    from adm.experiment.load import load_experiment
    from adm.experiment.stages import params

    experiment = load_experiment(args.config)
    if args.json:
        key = args.variant if args.stage == "train" else args.kind
        if args.stage == "train" and key is None:
            key = next(iter(experiment.variants))
        if args.stage == "fit-metric-model" and key is None:
            key = "motion"
        print(params(experiment, args.stage, key))
        return 0
    print(
        command_line(
            experiment,
            args.stage,
            variant=args.variant,
            clip=args.clip,
            kind=args.kind,
            table=args.table,
        )
    )
    return 0
