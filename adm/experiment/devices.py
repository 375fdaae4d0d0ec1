"""How many CUDA devices this machine shows its jobs, known without importing torch.

The rules that can use a GPU (train, sample, generate, WavLM features) declare
``resources: gpu=<n>`` so that ``--resources gpu=1`` gives them the one GPU in turn. On a
machine without a GPU that serialisation buys nothing and leaves cores idle, so they declare 0
there. Building the job graph must stay fast, so this reads the NVIDIA driver's device files
rather than initialising CUDA. (The slurm profile sets ``gpu=1`` itself: its jobs run on other
machines than the one that builds the graph.)
"""

from __future__ import annotations

import os
from pathlib import Path

#: Where the NVIDIA kernel driver lists its devices (one folder per GPU).
DRIVER_GPUS = Path("/proc/driver/nvidia/gpus")


def visible_cuda_devices(driver_gpus: Path | None = None, environ=None) -> int:
    """The CUDA devices a job started here would see: the driver's GPUs (``driver_gpus``,
    default :data:`DRIVER_GPUS`), restricted by ``CUDA_VISIBLE_DEVICES`` of ``environ``
    (default: this process's) as CUDA reads it: an empty entry or one starting with ``-`` ends
    the list."""
    driver_gpus = DRIVER_GPUS if driver_gpus is None else driver_gpus
    environ = os.environ if environ is None else environ
    try:
        present = sum(1 for p in driver_gpus.iterdir() if p.is_dir())
    except OSError:
        return 0  # no NVIDIA driver
    mask = environ.get("CUDA_VISIBLE_DEVICES")
    if mask is None:
        return present
    visible = 0
    for entry in mask.split(","):
        entry = entry.strip()
        if not entry or entry.startswith("-"):
            break
        visible += 1
    return min(visible, present)


def job_gpus(wanted: bool = True) -> int:
    """``resources: gpu`` of a job that uses a GPU when there is one: 1 with a visible CUDA
    device (jobs take the GPU in turn), 0 without (they run side by side on the CPU cores)."""
    return 1 if wanted and visible_cuda_devices() > 0 else 0
