"""The batch driver: every image optimisation (filters, class pictures, fooling images, revive)
runs its pictures through :func:`drive`.

It owns what is the same for all of them: batches padded to a multiple of the devices, one random
stream per picture, the progress count, halving a batch that runs out of device memory, and Ctrl-C
keeping the pictures that finished. The caller gives the function that optimises one batch.

One seeding convention: picture ``k`` of target ``t`` (``k``: its index among the target's
diversity copies, 0 without diversity) draws its start and its transforms from
``numpy.random.default_rng([seed, t, k])`` -- the same picture whatever the batch size, the device
count, or the other targets in the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends.devices import in_batches
from ..backends.distribution import data_parallel, padded

Progress = Callable[[int, int], None]


def picture_rng(seed: int, target: int, k: int = 0) -> np.random.Generator:
    """The random stream of picture ``k`` of ``target`` (see the module docstring)."""
    return np.random.default_rng([int(seed), int(target), int(k)])


@dataclass
class Batch:
    """One padded batch. Row j is picture ``copies[j]`` of ``targets[j]``, at ``positions[j]`` in the
    output (target index x copies + k); rows from ``count`` on repeat the last target for the devices
    and are dropped. ``report(done, total)``: this batch's steps, forwarded to the run's progress."""

    positions: list[int]
    targets: np.ndarray
    copies: list[int]
    rngs: list[np.random.Generator]
    count: int
    report: Progress | None = None


@dataclass
class Driven:
    """What :func:`drive` made: ``outputs[i]`` (what the batch function gave) is picture
    ``copies[i]`` of ``targets[i]``; ``partial``: Ctrl-C stopped the run, only finished batches are here."""

    outputs: list[Any]
    targets: list[int]
    copies: list[int]
    partial: bool = False


def drive(targets: Sequence[int], optimise: Callable[[Batch], Sequence[Any]], *, seed: int, batch_size: int,
          steps: int, copies: int = 1, devices: int | None = None, progress: Progress | None = None,
          note: Callable[[str], None] | None = None) -> Driven:
    """Optimise ``copies`` pictures per target, ``batch_size`` pictures at a time (a target's copies stay
    in one batch; at least one target per batch). ``optimise(batch)`` returns one output per row of
    the padded batch. ``steps``: per picture, for the progress count. ``devices``: pad for this many
    devices (default: the devices data parallelism uses). Returns the outputs in target order."""
    targets = [int(t) for t in targets]
    total, per = steps * len(targets) * copies, max(1, batch_size // copies)
    made: list[tuple[int, int, Any]] = []
    count = [devices or 1]

    def run(groups: list[int]) -> list:
        n = len(groups) * copies
        rows = [(g, k) for g in padded(groups, count[0]) for k in range(copies)]
        base = len(made) * steps
        report = (lambda d, _t: progress(base + d * n, total)) if progress else None
        batch = Batch([g * copies + k for g, k in rows], np.asarray([targets[g] for g, _ in rows], "int64"),
                      [k for _, k in rows], [picture_rng(seed, targets[g], k) for g, k in rows], n, report)
        out = [(targets[g], k, o) for (g, k), o in zip(rows[:n], list(optimise(batch))[:n])]
        made.extend(out)
        return out

    partial = False
    try:
        with data_parallel() as found:
            count[0] = devices or found
            in_batches(list(range(len(targets))), -(-per // count[0]) * count[0], run, note)
    except KeyboardInterrupt:
        if not made:
            raise
        partial = True
    return Driven([m[2] for m in made], [m[0] for m in made], [m[1] for m in made], partial)
