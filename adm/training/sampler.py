"""Epoch-shuffled, rank-sharded batches of window indices that can start mid-epoch.

The order of epoch ``e`` is ``torch.randperm(n)`` from a generator seeded with ``seed + e`` and
each of K ranks takes every K-th index: exactly :class:`torch.utils.data.DistributedSampler`
(which computes it here, with ``drop_last=True``), so the union of the K per-rank batches
``j`` is the same set of windows as batch ``j`` of a single process with the global batch.
Batches are consecutive slices of a rank's shard; an incomplete last batch is dropped so every
step sees a full batch. Starting at batch ``k`` of an epoch (:meth:`set_epoch`) resumes a run
exactly where its checkpoint left it; :class:`BatchStream` runs the epochs one after another
and reports that position.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler


class WindowBatchSampler(Sampler[list[int]]):
    """Yields this rank's batches (lists of ``batch_size`` indices) of the current epoch.

    Args:
        num_items: windows in the dataset.
        batch_size: per-rank batch (the global batch divided by the number of ranks).
        seed: base seed of the per-epoch shuffles.
        rank, world_size: this process and the number of processes.
    """

    def __init__(
        self, num_items: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1
    ):
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self._shard = DistributedSampler(
            range(num_items),  # only its length is used
            num_replicas=world_size,
            rank=rank,
            shuffle=True,
            seed=seed,
            drop_last=True,
        )
        self.num_items = num_items
        self.batch_size = batch_size
        self.epoch = 0
        self.start_batch = 0

    @property
    def batches_per_epoch(self) -> int:
        """Full batches in one epoch (the same on every rank)."""
        return self._shard.num_samples // self.batch_size

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch's order; iteration starts at batch ``start_batch`` of it."""
        if not 0 <= start_batch <= self.batches_per_epoch:
            raise ValueError(f"start_batch {start_batch} outside 0..{self.batches_per_epoch}")
        self.epoch = epoch
        self.start_batch = start_batch
        self._shard.set_epoch(epoch)

    def __len__(self) -> int:
        return self.batches_per_epoch - self.start_batch

    def __iter__(self) -> Iterator[list[int]]:
        indices = list(iter(self._shard))
        b = self.batch_size
        for j in range(self.start_batch, self.batches_per_epoch):
            yield indices[j * b : (j + 1) * b]


def _identity(batch):
    # The dataset's __getitems__ already returns a whole Batch.
    return batch


class BatchStream:
    """An endless stream of batches that knows its position ``(epoch, batch offset)``.

    Wraps a DataLoader over ``dataset`` with ``sampler`` as its batch sampler; after each batch
    :attr:`position` is where a resumed run must start to continue with the next one.

    Args:
        dataset: a map-style dataset with ``__getitems__`` returning a whole batch.
        sampler: the rank's :class:`WindowBatchSampler`.
        num_workers: DataLoader worker processes (0: gather in this process).
        pin_memory: pin batches for fast copies to a GPU.
        epoch, offset: the position to start from.
    """

    def __init__(
        self,
        dataset,
        sampler: WindowBatchSampler,
        num_workers: int = 0,
        pin_memory: bool = False,
        epoch: int = 0,
        offset: int = 0,
    ):
        if sampler.batches_per_epoch == 0:
            raise ValueError("the sampler yields no full batch per epoch")
        # A private generator: creating loader iterators must not consume the global RNG,
        # or a resumed run would draw different dropout masks than an uninterrupted one.
        generator = torch.Generator()
        generator.manual_seed(0)
        self.loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=_identity,
            num_workers=num_workers,
            pin_memory=pin_memory,
            persistent_workers=num_workers > 0,
            generator=generator,
        )
        self.sampler = sampler
        self.epoch, self.offset = epoch, offset
        self._it = None

    @property
    def position(self) -> tuple[int, int]:
        return self.epoch, self.offset

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        while True:
            if self._it is None:
                self.sampler.set_epoch(self.epoch, self.offset)
                self._it = iter(self.loader)
            try:
                batch = next(self._it)
            except StopIteration:
                self.epoch, self.offset, self._it = self.epoch + 1, 0, None
                continue
            self.offset += 1
            return batch
