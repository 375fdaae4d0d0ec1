"""Every adm command, by name: ``adm <command> [options]`` or ``python -m adm <command>``.

Each command lives beside the library code it drives, in its area's ``cli.py``, built the same
way: ``<name>_parser()`` returns its :class:`argparse.ArgumentParser` and ``<name>(args)`` runs
it; :func:`run` parses the arguments and turns expected errors into one ``error:`` line
(:func:`adm.commandline.run_stage`). The table below names only modules, so that listing the
commands (``adm --help``) imports nothing heavy: a command's module is imported when it runs.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """Where a command lives and what it does, in one line."""

    module: str  # the area's cli module
    summary: str

    def function(self, name: str) -> str:
        """The Python name of the command's run function (``norm-stats`` -> ``norm_stats``)."""
        return name.replace("-", "_")


COMMANDS: dict[str, Command] = {
    # data
    "synthesize": Command("adm.data.cli", "write the bundled corpus in BEAT's file formats"),
    "download": Command("adm.data.cli", "fetch BEAT v0.2.1 for the configured speakers"),
    "prepare": Command("adm.data.cli", "one raw clip -> one prepared Parquet file"),
    "split": Command("adm.data.cli", "CaMN's train/val/test lists and skipped.tsv"),
    "norm-stats": Command("adm.data.cli", "per-dim mean and std of the train split"),
    "preview": Command("adm.data.cli", "a picture of one raw clip (skeleton, speed, jawOpen)"),
    # features
    "fasttext-train": Command("adm.features.cli", "train word vectors on the transcripts"),
    "filter-vectors": Command("adm.features.cli", "keep the corpus words of a fastText .vec"),
    "audio-features": Command("adm.features.cli", "audio condition of one prepared clip"),
    "text-features": Command("adm.features.cli", "text condition of one prepared clip"),
    # model
    "train": Command("adm.training.cli", "train the denoiser of one variant (resumable)"),
    "train-vq": Command("adm.training.cli", "stage 1 of MambaTalk: a VQ-VAE per body part"),
    "sample": Command("adm.sampling.cli", "generate whole test clips with a checkpoint"),
    # evaluation
    "fit-metric-model": Command("adm.evaluation.cli", "train the FGD autoencoder or face VAE"),
    "reference": Command("adm.evaluation.cli", "the test set's ground-truth metric half"),
    "evaluate": Command("adm.evaluation.cli", "every metric of one generated test set"),
    # results
    "tables": Command("adm.tables.cli", "one of the paper's Tables 1-4 (CSV, Markdown, LaTeX)"),
    "figures": Command("adm.tables.cli", "the JawOpen figure or the training curves"),
    # the experiment and tools
    "generate": Command("adm.generation.cli", "motion for your own recording: BVH, face, MP4"),
    "study": Command("adm.study.cli", "the user study: materials, serve, analyse, simulate"),
    "settings": Command("adm.experiment.cli", "the exact command a pipeline rule runs"),
    "jit": Command("adm.jit", "librosa's numba cache: where, check, clear"),
    "bench": Command("adm.bench.__main__", "speed benchmarks (python -m adm.bench)"),
}

# Commands that parse their own arguments (a dispatcher of sub-commands).
RAW_ARGV = {"bench", "generate", "study"}


def usage() -> str:
    """The command list shown by ``adm`` and ``adm --help``."""
    width = max(map(len, COMMANDS))
    lines = ["usage: adm <command> [options]   (or: python -m adm <command> ...)", "", "commands:"]
    lines += [f"  {name:<{width}}  {cmd.summary}" for name, cmd in COMMANDS.items()]
    lines += ["", "adm <command> --help lists a command's options."]
    return "\n".join(lines)


def run(name: str, argv: list[str] | None = None) -> int:
    """Run the command ``name`` with ``argv`` (its options); its exit status."""
    from adm.commandline import run_stage

    command = COMMANDS[name]
    module = importlib.import_module(command.module)
    if name in RAW_ARGV:
        return int(module.main(list(argv or [])) or 0)
    function = command.function(name)
    parser = getattr(module, f"{function}_parser")()
    parser.prog = f"adm {name}"
    return run_stage(getattr(module, function), parser, argv)


def main(argv: list[str] | None = None) -> int:
    """``adm <command> [options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return run(name, rest)
