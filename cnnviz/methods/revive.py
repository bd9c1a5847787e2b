"""The revive pass of the Fourier filter recipe: a filter silent on its saved picture goes on from it,
without transforms, at its single strongest position, until the saved pixels make it respond."""

from __future__ import annotations

import numpy as np

from ..optvis.objectives import channel
from ..optvis.recipes import Fourier, Revive
from ..optvis.render import render
from ..pixels import to_uint8
from .filter_measures import ALIVE_EPS, mean_activation

#: Dead filters (no response on their saved picture) go on from it for up to this many steps (the
#: defaults of :class:`cnnviz.optvis.recipes.Revive`).
REVIVE_STEPS = Revive().steps
REVIVE_LR = Revive().lr
REVIVE_EVERY = Revive().every


def revive(loaded, name, measure_model, pixels, images, acts, targets, dead, hw, batch_size, precision, note=None,
           progress=None, recipe: Fourier | None = None):
    """Give filters whose saved picture leaves them silent a last push: go on from that picture
    (still Fourier, so no pixel noise) without transforms, raising the filter's single strongest
    position with small Adam steps until the saved pixels make it respond (or ``REVIVE_STEPS``).
    A filter of a deep layer can be negative everywhere on a picture that is good on average under
    jitter; this finds the one place where it fires. ``recipe``: the Fourier recipe the pictures were
    made with (its ``revive`` settings). Returns (images, acts, revived per image, seconds)."""
    recipe = recipe or Fourier(revive=Revive())
    push = recipe.revive or Revive()
    dead_targets = [int(targets[k]) for k in dead]

    # Each picture is decided on its own, at the first check where it responds (those saved pixels
    # and their activation are kept) or cannot any more (it keeps its picture): the same result
    # whatever the batches are.
    decided: dict[int, tuple[np.ndarray, float] | None] = {}
    histories: dict[int, list[float]] = {}

    def settled(x, scores, rows):
        shown = to_uint8(x)
        now = mean_activation(measure_model, shown, [dead_targets[p] for p in rows], loaded.preprocess)
        for j, p in enumerate(rows):
            if p in decided:
                continue
            history = histories.setdefault(p, [])
            history.append(float(scores[j]))
            if now[j] > ALIVE_EPS:
                decided[p] = (shown[j], now[j])
            elif revive_hopeless(history, push.every, push.steps):
                decided[p] = None
        return all(p in decided for p in rows)

    revived = np.zeros(len(images), bool)
    try:
        r = render(loaded, channel(name, top=PEAK), recipe.revived(hw), dead_targets, size=hw, start=pixels[dead],
                   batch_size=batch_size, precision=precision, preactivation=True, stop=settled,
                   check_every=push.every, progress=progress, note=note)
    except KeyboardInterrupt:
        return images, acts, revived, 0.0  # keep the pictures as they were
    images, acts = images.copy(), acts.copy()
    for j, k in enumerate(dead):
        if decided.get(j) is not None:
            images[k], acts[k] = decided[j]
            revived[k] = True
    return images, acts, revived, r.ascent_seconds


def revive_hopeless(history: list[float], every: int, steps: int) -> bool:
    """True when a picture cannot respond at its present rate of climb in the steps left
    (``history``: its peak pre-activation at each check, which must cross 0 for a response)."""
    if len(history) < 2:
        return False
    rate = max((history[-1] - history[-2]) / every, 0.0)
    return history[-1] + rate * (steps - every * len(history)) < 0


#: ``channel(top=PEAK)``: the single strongest position.
PEAK = 1e-9
