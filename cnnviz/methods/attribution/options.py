"""Options of an attribution run, and the checks that need no model (run before TensorFlow loads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ...errors import CnnvizError
from .registry import spec

DEFAULT_FAITHFULNESS_STEPS = 32
#: Faster Score-CAM's channel count: on EfficientNet-Lite0's top_activation (1,280 channels) the 128 most
#: varying channels give the full map's ranking to a rank correlation of 0.997 on the bundled cat, 9x faster.
DEFAULT_SCORE_CAM_CHANNELS = 128
DEFAULT_RISE_MASKS = 1000


@dataclass
class Options:
    layer: str | None = None
    noise_samples: int | None = None  # wrap every gradient method in the noise tunnel
    noise_level: float = 0.15
    baseline: str = "black"  # integrated gradients and occlusion
    ig_steps: int | None = None
    seed: int = 0
    faithfulness_steps: int = DEFAULT_FAITHFULNESS_STEPS  # 0: skip the scores
    clip_percent: float | None = None  # heat mass clipped when drawing; None: 2 for pixel-gradient maps, else 0
    score_cam_channels: int | None = DEFAULT_SCORE_CAM_CHANNELS  # None: every channel (the original Score-CAM)
    rise_masks: int = DEFAULT_RISE_MASKS


def method_kwargs(name: str, options: Options) -> dict:
    """Keyword arguments of method ``name``'s constructor that come from ``options``."""
    if name == "integrated-gradients" and options.ig_steps:
        return {"steps": options.ig_steps}
    if name == "scorecam":
        return {"channels": options.score_cam_channels}
    if name == "rise":
        return {"masks": options.rise_masks, "seed": options.seed}
    return {}


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
    if options.clip_percent is not None and not 0 <= options.clip_percent < 100:
        raise CnnvizError(f"--clip must be a percentage in [0, 100), got {options.clip_percent}")
    if options.score_cam_channels is not None and options.score_cam_channels < 1:
        raise CnnvizError(f"--score-cam-channels must be at least 1 (or 0 for all), got {options.score_cam_channels}")
    if options.rise_masks < 1:
        raise CnnvizError(f"--rise-masks must be at least 1, got {options.rise_masks}")
    from .baselines import check_baseline

    check_baseline(options.baseline)


