"""Recipes: how a picture is optimised, as one object instead of a handful of strings and numbers.

A recipe holds the schedule (its steps and step size, or an explicit list of :class:`Stage`), the
parametrisation, the transforms and the update rule. :func:`render` takes one; :func:`recipe` is the
one place where the CLI's ``--method`` / ``--param`` names become a recipe.

``Classic``
    The Keras blog's: noise around grey, plain RMS-normalised steps of 1 pixel, no transforms, no
    clipping, float32.
``Pixel``
    Pixel steps over octaves (coarse-to-fine; two step sizes on a fixed-size model) with jitter,
    scale and rotation, Gaussian-smoothed gradients, pixels kept in [0, 255].
``Fool``
    One stage of RMS-normalised pixel steps of 2 pixel units, no transforms (fooling images).
``Fourier``
    lucid's: scaled Fourier coefficients with decorrelated colour, Adam, lucid's standard transforms,
    a half-size view for the first ``low`` share of the steps; ``revive`` (filters) says how a
    picture that leaves its filter silent is pushed on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import param as P
from . import transforms as T
from .ascent import Stage, UpdateRule

#: The Fourier recipe's defaults (tuned in benchmarks/legibility.py).
FOURIER_LR = 0.06
FOURIER_STEPS = 28
FOURIER_DECAY = 1.3
#: Share of the Fourier steps that see a half-size view (a quarter of the cost each).
LOW_SHARE = 0.86
#: Steps of a class picture (``fool --method visualize``).
CLASS_STEPS = 128
#: The class pictures' default parametrisation for RGB inputs of at least ``VISUALIZE_FROM`` px (chosen by
#: benchmarks/legibility.py on EfficientNet-Lite0, judged by EfficientNet-Lite2: see docs/legible.md).
VISUALIZE_PARAM = "maco"
VISUALIZE_FROM = 64
#: Feature accentuation (Hamblin et al. 2024): at an RMS change of ``ascent.ANCHOR_RMS`` from the photo,
#: the pull back towards it equals this share of the objective.
ACCENT_CLOSENESS = 1.0
#: The Fourier filter recipe: steps, Adam step, and the share of steps that see a half-size view
#: (tuned on VGG16 block5_conv1 in benchmarks/filters.py: as many alive as 28 steps at 0.06, about half the cost).
FILTER_STEPS = 15
FILTER_LR = 0.08
FILTER_LOW = 0.8


@dataclass(frozen=True)
class Recipe:
    """What every recipe has. ``stages``: an explicit schedule (else the recipe's own for the size);
    ``transforms``: explicit transforms (else the recipe's own; ``()`` for none); ``precision``:
    of the gradient steps (None: the caller's); ``views``: views per image and step (MACO's crops)."""

    steps: int = 30
    lr: float = 1.0
    stages: tuple[Stage, ...] | None = None
    transforms: Any = None
    precision: str | None = None
    views: int = 1  # transformed views of each image per step, their scores averaged
    name = "pixel"  # the parametrisation's name (a class attribute, not a field)

    def schedule(self, size: tuple[int, int], fixed: bool) -> list[Stage]:
        """The stages: the explicit ones, else the recipe's own for an image of ``size``."""
        return list(self.stages) if self.stages is not None else self.own_schedule(tuple(size), fixed)

    def own_schedule(self, size: tuple[int, int], fixed: bool) -> list[Stage]:
        return [Stage(size, self.steps, self.lr, 0.0)]

    def transforms_for(self, size: tuple[int, int]) -> Any:
        return self.own_transforms(tuple(size)) if self.transforms is None else self.transforms

    def own_transforms(self, size: tuple[int, int]) -> Any:
        return ()

    @property
    def rule(self) -> UpdateRule:
        return UpdateRule("rms", clip=True)

    def parametrisation(self) -> Any:
        return P.Pixel(clip=self.rule.clip)

    def with_steps(self, steps: int | None) -> Recipe:
        return self if steps is None else replace(self, steps=steps)


@dataclass(frozen=True)
class Classic(Recipe):
    """The Keras blog's filter recipe (see the module docstring)."""

    steps: int = 20
    precision: str | None = "float32"

    def own_transforms(self, size: tuple[int, int]) -> Any:
        return T.Transforms()

    @property
    def rule(self) -> UpdateRule:
        return UpdateRule("rms", clip=False)


@dataclass(frozen=True)
class Fool(Recipe):
    """Fooling images from noise: steps of 2 pixel units (RMS), no transforms."""

    steps: int = 300
    lr: float = 2.0


@dataclass(frozen=True)
class Pixel(Recipe):
    """Octaves of pixel steps with transforms; ``lr`` scales the octaves' step sizes."""

    steps: int = 30

    def own_schedule(self, size: tuple[int, int], fixed: bool) -> list[Stage]:
        steps, k = self.steps, self.lr
        if fixed or min(size) < 48 or steps < 3:
            # fixed-size input (LeNet): one size; large steps first, then fine ones
            first = max(1, steps // 2)
            out = [Stage(size, first, 10.0 * k, 0.5)]
            return out + ([Stage(size, steps - first, 4.0 * k, 0.0)] if steps > first else [])
        h, w = size
        n1 = max(1, round(steps * 22 / 30))
        n2 = max(1, round(steps * 6 / 30))
        n3 = max(1, steps - n1 - n2)
        return [Stage((h // 2, w // 2), n1, 4.0 * k, 0.5),
                Stage((round(h * 0.7), round(w * 0.7)), n2, 3.0 * k, 0.5),
                Stage((h, w), n3, 2.0 * k, 0.0)]

    def own_transforms(self, size: tuple[int, int]) -> Any:
        return T.Transforms(jitter=max(1.0, min(size) / 32), scale=(0.95, 1.05), rotate=5.0)


@dataclass(frozen=True)
class Revive:
    """The Fourier filter recipe's last push on a picture that leaves its filter silent: up to
    ``steps`` Adam steps of ``lr`` without transforms, checked every ``every`` steps."""

    steps: int = 20
    lr: float = 0.02
    every: int = 5


@dataclass(frozen=True)
class Fourier(Recipe):
    """lucid's Fourier recipe; ``low``: share of the steps at half size (None: ``LOW_SHARE``)."""

    steps: int = FOURIER_STEPS
    lr: float = FOURIER_LR
    decay: float = FOURIER_DECAY
    low: float | None = None
    revive: Revive | None = None
    name = "fourier"

    def own_schedule(self, size: tuple[int, int], fixed: bool) -> list[Stage]:
        return fourier_stages(size, self.steps, self.lr, fixed, self.low)

    def own_transforms(self, size: tuple[int, int]) -> Any:
        return T.standard(size)

    @property
    def rule(self) -> UpdateRule:
        return UpdateRule("adam", clip=False)

    def parametrisation(self) -> Any:
        return P.Fourier(decay=self.decay)

    def revived(self, size: tuple[int, int]) -> Fourier:
        """The revive pass as a recipe: ``revive``'s steps at full size, on exactly the saved pixels."""
        push = self.revive or Revive()
        return replace(self, stages=(Stage(tuple(size), push.steps, push.lr, robust=False),), transforms=(), revive=None)


#: The MACO recipe's defaults (tuned in benchmarks/legibility.py on EfficientNet-Lite0).
MACO_LR = 0.25
MACO_STEPS = 192
MACO_FILTER_STEPS = 48
MACO_BOXES = (0.5, 1.0)
#: The magnitude's 1/f exponent and the spread before the sigmoid (tuned on 20 classes, judged by Lite2).
MACO_ALPHA = 1.25
MACO_CONTRAST = 1.8


@dataclass(frozen=True)
class Maco(Recipe):
    """MACO (Fel et al. 2023): the phase of a spectrum of natural-image magnitude, Adam, random crops
    of ``boxes`` (share of the side) resized back; ``low``: share of the steps at half size, as Fourier."""

    steps: int = MACO_STEPS
    lr: float = MACO_LR
    alpha: float = MACO_ALPHA
    contrast: float = MACO_CONTRAST
    boxes: tuple[float, float] = MACO_BOXES
    low: float | None = None
    name = "maco"

    def own_schedule(self, size: tuple[int, int], fixed: bool) -> list[Stage]:
        return fourier_stages(size, self.steps, self.lr, fixed, self.low)

    def own_transforms(self, size: tuple[int, int]) -> Any:
        return (T.Crop(self.boxes), T.Jitter(max(1, round(min(size) / 56))))

    @property
    def rule(self) -> UpdateRule:
        return UpdateRule("adam", clip=False)

    def parametrisation(self) -> Any:
        return P.Maco(alpha=self.alpha, contrast=self.contrast)


def fourier_stages(size: tuple[int, int], steps: int, lr: float, fixed: bool, low: float | None = None) -> list[Stage]:
    """Feed the model a half-size view for the first ``low`` share of the steps (a quarter of the cost
    each; the Fourier image keeps its full resolution and is resampled in the step), then full size.
    A fixed-size model always sees its own size, so it gets one stage."""
    if fixed or steps < 4 or min(size) < 64:
        return [Stage(size, steps, lr)]
    n1 = round(steps * (LOW_SHARE if low is None else low))
    return [Stage((size[0] // 2, size[1] // 2), n1, lr), Stage(size, steps - n1, lr)]


#: (method, param) as the CLI names them -> the recipe with its default steps.
RECIPES: dict[tuple[str, str], Callable[[], Recipe]] = {
    ("classic", "pixel"): Classic,
    ("smooth", "pixel"): Pixel,
    ("smooth", "fourier"): lambda: Fourier(steps=FILTER_STEPS, lr=FILTER_LR, low=FILTER_LOW, revive=Revive()),
    ("fool", "pixel"): Fool,
    ("visualize", "pixel"): lambda: Pixel(steps=300),
    ("visualize", "fourier"): lambda: Fourier(steps=CLASS_STEPS),
    ("smooth", "maco"): lambda: Maco(steps=MACO_FILTER_STEPS),
    ("visualize", "maco"): Maco,
}


def recipe(method: str, param: str, steps: int | None = None) -> Recipe:
    """The recipe a ``--method`` / ``--param`` pair names (``steps``: instead of its default)."""
    if (method, param) not in RECIPES:
        from ..errors import CnnvizError

        known = ", ".join(f"{m}/{p}" for m, p in RECIPES)
        raise CnnvizError(f"no recipe for --method {method} with --param {param}; known: {known}")
    return RECIPES[(method, param)]().with_steps(steps)
