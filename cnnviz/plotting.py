"""Notebook plotting: numpy results in, matplotlib ``(fig, axes)`` out. No TensorFlow here.

Every function takes the numpy results of the Python API (never tensors), draws into the ``ax`` (or
array of axes) it is given, or makes a new figure, and returns ``(fig, axes)``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .pixels import normalize01, overlay, symmetric01, to_rgb, to_uint8


def _axes_grid(n: int, ax=None, cols: int | None = None, size: float = 1.8, title: str | None = None):
    import matplotlib.pyplot as plt

    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) < n:
            raise ValueError(f"{n} images need {n} axes; {len(axes)} given")
        return axes[0].figure, axes
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size * 1.12), squeeze=False)
    axes = axes.ravel()
    for a in axes[n:]:
        a.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig, axes


def _show(ax, image: np.ndarray, **kwargs) -> None:
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def show_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, ax=None, cols: int | None = None,
              title: str | None = None):
    """Images (uint8 or float in [0, 255], grey or RGB) in a grid, each with an optional title."""
    fig, axes = _axes_grid(len(images), ax, cols, title=title)
    for i, img in enumerate(images):
        _show(axes[i], to_uint8(img), vmin=0, vmax=255)
        if titles:
            axes[i].set_title(titles[i], fontsize=8)
    return fig, axes[: len(images)]


def plot_filters(images: np.ndarray, indices: Sequence[int], activations: Sequence[float] | None = None,
                 ax=None, cols: int | None = None, layer: str | None = None):
    """Filter images with their index and the activation each reached ("dead" when zero)."""
    acts = activations if activations is not None else [None] * len(indices)
    titles = [f"#{i}" if a is None else (f"#{i} dead" if a <= 0 else f"#{i}  {a:.3g}") for i, a in zip(indices, acts)]
    return show_grid(images, titles, ax, cols, title=f"filters of {layer}" if layer else None)


def plot_fooling(images: np.ndarray, classes: Sequence[str], probabilities: Sequence[float], ax=None, cols: int | None = None):
    """Generated images titled with the target class and the model's probability for it."""
    titles = [f"{c}\np={p:.4f}" for c, p in zip(classes, probabilities)]
    return show_grid(images, titles, ax, cols)


def plot_activations(maps: np.ndarray, channels: Sequence[int] | None = None, ax=None, cols: int | None = None,
                     layer: str | None = None, scale: str = "layer", cmap: str = "viridis"):
    """Feature maps (H, W, C): one panel per channel, one shared colour scale and a colorbar."""
    channels = list(range(maps.shape[-1])) if channels is None else list(channels)
    fig, axes = _axes_grid(len(channels), ax, cols, size=1.5, title=f"{layer} activations" if layer else None)
    vmin, vmax = (min(0.0, float(maps.min())), float(maps.max()) + 1e-12) if scale == "layer" else (None, None)
    im = None
    for a, c in zip(axes, channels):
        im = a.imshow(maps[..., c], cmap=cmap, vmin=vmin, vmax=vmax)
        a.set_xticks([])
        a.set_yticks([])
        a.set_title(f"ch {c}", fontsize=8)
    if im is not None and scale == "layer" and ax is None:
        fig.colorbar(im, ax=list(axes[: len(channels)]), shrink=0.8, label="activation")
    return fig, axes[: len(channels)]


def plot_cam(image: np.ndarray, heat: np.ndarray, ax=None, class_name: str | None = None,
             probability: float | None = None, method: str = "Grad-CAM"):
    """[image | heatmap (with colorbar) | overlay]."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 3, figsize=(9, 3.2))
    fig = np.asarray(ax, dtype=object).ravel()[0].figure
    axes = np.asarray(ax, dtype=object).ravel()
    label = class_name if probability is None else f"{class_name} (p={probability:.3f})"
    _show(axes[0], to_rgb(to_uint8(image)))
    axes[0].set_title(label or "image", fontsize=9)
    im = axes[1].imshow(heat, cmap="jet", vmin=0, vmax=1)
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    axes[1].set_title(method, fontsize=9)
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    _show(axes[2], overlay(to_rgb(to_uint8(image)), heat))
    axes[2].set_title("overlay", fontsize=9)
    return fig, axes


def plot_edges(image: np.ndarray, vertical: np.ndarray, horizontal: np.ndarray | None = None,
               magnitude: np.ndarray | None = None, ax=None, kernel: str = "sobel"):
    """[input | V response | H response | magnitude], signed responses with grey at zero."""
    panels = [(to_uint8(image), "input"), (to_uint8(symmetric01(vertical) * 255), f"{kernel} V (vertical edges)")]
    if horizontal is not None:
        panels.append((to_uint8(symmetric01(horizontal) * 255), f"{kernel} H (horizontal edges)"))
    if magnitude is not None:
        panels.append((to_uint8(normalize01(magnitude) * 255), "magnitude"))
    panels = [(p if p.ndim == 2 or p.shape[-1] != 3 or t == "input" else p.mean(-1), t) for p, t in panels]
    return show_grid([p for p, _ in panels], [t for _, t in panels], ax, cols=len(panels))


def plot_kernels(weights: np.ndarray, matches: Sequence[tuple[str, float]] | None = None, ax=None, cols: int | None = None):
    """Learned kernels (k, k, in, out): RGB tiles for 3 inputs, else summed; titled with the nearest
    classic kernel. Grey is zero, light positive, dark negative."""
    tiles = []
    for o in range(weights.shape[-1]):
        w = weights[..., o]
        tiles.append(to_uint8(symmetric01(w if w.shape[-1] == 3 else w.sum(-1)) * 255))
    titles = [f"#{o}" + (f"\n~{m[0]} {m[1]:.2f}" if matches else "") for o, m in enumerate(matches or [None] * len(tiles))]
    return show_grid(tiles, titles, ax, cols)
