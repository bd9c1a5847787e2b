"""Options of an attribution run, and the checks that need no model (run before TensorFlow loads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ...errors import CnnvizError
from .registry import spec

DEFAULT_FAITHFULNESS_STEPS = 32


@dataclass
class Options:
    layer: str | None = None
    noise_samples: int | None = None  # wrap every gradient method in the noise tunnel
    noise_level: float = 0.15
    baseline: str = "black"  # integrated gradients and occlusion
    ig_steps: int | None = None
    seed: int = 0
    faithfulness_steps: int = DEFAULT_FAITHFULNESS_STEPS  # 0: skip the scores


def check_options(methods: Sequence[str], options: Options) -> None:
    """What can be checked before a model loads (the CLI calls this before TensorFlow is imported)."""
    if not methods:
        raise CnnvizError("no --method given")
    for m in methods:
        spec(m)
    if options.noise_samples is not None and options.noise_samples < 1:
        raise CnnvizError(f"--noise-samples must be at least 1, got {options.noise_samples}")
    if not options.noise_level >= 0:
        raise CnnvizError(f"--noise-level must be >= 0, got {options.noise_level}")
    if options.ig_steps is not None and options.ig_steps < 1:
        raise CnnvizError(f"--steps must be at least 1, got {options.ig_steps}")
    if options.faithfulness_steps < 0:
        raise CnnvizError(f"--faithfulness-steps must be >= 0, got {options.faithfulness_steps}")
    from .baselines import check_baseline

    check_baseline(options.baseline)


