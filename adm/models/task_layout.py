"""Where each task sits in a network's motion vector ``x``: one home for every network config.

Every config class of the registry has ``tasks`` (output order, gesture before face) and
``task_dims``; ``x`` is the tasks' channels concatenated in that order (192 = gesture 141 |
face 51 on BEAT).
"""

from __future__ import annotations


class TaskLayout:
    """Mixin of the network config dataclasses: ``x_dim`` and ``task_slices`` from ``tasks`` and
    ``task_dims`` (attributes the dataclass defines)."""

    tasks: tuple[str, ...]
    task_dims: dict[str, int]

    @property
    def x_dim(self) -> int:
        """Width of ``x``: the sum of the active tasks' dims."""
        return sum(self.task_dims[t] for t in self.tasks)

    @property
    def task_slices(self) -> dict[str, slice]:
        """Channel range of each active task inside ``x``, in task order."""
        slices, start = {}, 0
        for task in self.tasks:
            slices[task] = slice(start, start + self.task_dims[task])
            start += self.task_dims[task]
        return slices
