"""How a training job starts: ``adm train`` alone, or K processes of it under ``torchrun``.

``train.gpus`` (K, default 1) is how many GPUs of one node train one variant together. With K
> 1 the train rule runs ``torchrun --standalone --nproc_per_node K -m adm train ...``: each
process takes one GPU and 1/K of every batch (:mod:`adm.training.distributed`), so the
weights equal those of one process with the same global ``train.batch`` up to float rounding;
``--standalone`` gives each job its own rendezvous on a free local port. The job declares
``resources: gpu=K``, so ``--resources gpu=K`` (or more) lets it run. With K = 1 the command is
``adm train ...`` and the job declares a GPU as every GPU job does
(:func:`adm.experiment.devices.job_gpus`).
"""

from __future__ import annotations

from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.experiment.devices import job_gpus

#: What starts K > 1 processes of a module on one node (torch's launcher).
TORCHRUN = "torchrun --standalone --nproc_per_node {gpus} -m"


def train_gpus(experiment: Experiment, variant: str) -> int:
    """``train.gpus`` of ``variant`` (1 when unset); its global batch must split evenly.

    Raises:
        ConfigError: the batch does not split over the processes (checked when the config is,
            before any job runs, rather than when the training corpus has loaded).
    """
    train = experiment.variant(variant)["train"]
    gpus = train.get("gpus", 1)
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
        raise ConfigError(
            f"train.gpus (variant {variant}): expected a whole number >= 1, got {gpus!r}"
        )
    batch = train.get("batch")
    if batch is not None and batch % gpus:
        raise ConfigError(
            f"train.gpus (variant {variant}): train.batch {batch} does not split over {gpus} "
            "processes; make the batch a multiple of the GPU count"
        )
    return gpus


def train_launcher(gpus: int) -> str:
    """The words that start the train command: ``adm train`` for one process, torchrun's
    ``torchrun --standalone --nproc_per_node K -m adm train`` for K > 1."""
    if gpus < 1:
        raise ConfigError(f"train.gpus: must be >= 1, got {gpus}")
    return "adm train" if gpus == 1 else f"{TORCHRUN.format(gpus=gpus)} adm train"


def train_job_gpus(experiment: Experiment, variant: str) -> int:
    """``resources: gpu`` of the train job of ``variant``: K for K > 1 processes (one GPU each,
    whatever this machine shows: the config asks for them), else :func:`job_gpus`."""
    gpus = train_gpus(experiment, variant)
    return gpus if gpus > 1 else job_gpus()


def train_priority(experiment: Experiment, variant: str) -> int:
    """The scheduling priority of ``variant``'s training job: 1 for a peer's own network, 0
    for ADM's denoiser (its variants and DSG).

    On a machine with fewer cores than training jobs, Snakemake starts the ready jobs of
    highest priority first. The peers' networks train 2-4 times longer than ADM's bundled
    denoiser (docs/benchmarks.md), so starting them first leaves the short jobs for the end,
    where they fill the cores instead of one long job running alone (longest first).
    """
    return int(experiment.variant(variant)["model"].get("name", "adm") != "adm")
