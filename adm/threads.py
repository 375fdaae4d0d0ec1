"""CPU thread count of the stages whose numbers depend on it.

A float32 sum split over N threads is added in another order than over M threads, so training,
sampling and the metric models give results that differ in the last bits (weights up to ~1e-6
after a short training run) with the thread count. The count is therefore a setting of each
such command (``--threads``, default :data:`DEFAULT_THREADS`), applied to torch's intra-op pool
and to the BLAS/OpenMP pools numpy and scipy use, whatever ``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS`` say, and recorded in what the command writes. The pipeline's rules pass
their ``threads:`` value, so a command typed by hand with the same ``--threads`` reproduces the
pipeline's output bit for bit on the same machine.
"""

from __future__ import annotations

import argparse
import logging

#: The thread count of a command run without ``--threads``; the rules pass theirs explicitly.
DEFAULT_THREADS = 1

log = logging.getLogger("adm.threads")

_limits = None  # the threadpoolctl limiter in force (kept so that its limits stay applied)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads N`` to a command whose numbers depend on the CPU thread count."""
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=DEFAULT_THREADS,
        help="CPU threads of torch and BLAS (default %(default)s; overrides OMP_NUM_THREADS). "
        "The numbers are bit-identical only between runs with the same count; the pipeline "
        "passes each rule's threads",
    )


def set_threads(count: int) -> int:
    """Run this process's torch and BLAS/OpenMP work on ``count`` threads; returns ``count``."""
    global _limits
    import torch
    from threadpoolctl import threadpool_limits

    if count < 1:
        raise ValueError(f"thread count must be >= 1, got {count}")
    torch.set_num_threads(count)
    _limits = threadpool_limits(limits=count)
    log.info("CPU threads: %d", count)
    return count


def current_threads() -> int:
    """torch's intra-op thread count in this process (what the outputs record)."""
    import torch

    return torch.get_num_threads()
