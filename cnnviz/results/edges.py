"""The results of ``cnnviz edges``: one kernel (or a V/H pair) on an image, and the gallery of
classic kernels. How a response is shown depends on the kernel:

- a kernel whose weights sum to one (blur, sharpen, emboss) gives an image: shown as it is, clipped
  to 0-255;
- a kernel whose weights sum to zero (Sobel, Laplacian, outline) gives a signed response: grey = 0,
  white/black = + / - its 99.5th percentile of |response| (one extreme pixel does not grey out the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..output.layout import beside, colorbar, hstack_panels, make_grid, titled
from ..pixels import luma, normalize01, orientation_rgb, to_uint8
from .base import Shown, file_stem

PERCENTILE = 99.5


def sums_to_one(kernel: np.ndarray) -> bool:
    return abs(float(np.sum(kernel)) - 1.0) < 1e-6


def signed_scale(response: np.ndarray) -> float:
    """The |response| shown as full white/black: its 99.5th percentile (never 0)."""
    a = np.abs(np.asarray(response, "float64"))
    return max(float(np.percentile(a, PERCENTILE)) if a.size else 0.0, 1e-6)


def show_response(response: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """uint8 picture of a response (see the module docstring)."""
    r = np.asarray(response, "float64")
    if sums_to_one(kernel):
        return to_uint8(r)
    if float(np.sum(kernel)) == 0.0 or (np.asarray(kernel) < 0).any():
        return to_uint8((0.5 + 0.5 * np.clip(r / signed_scale(r), -1.0, 1.0)) * 255.0)
    return to_uint8(normalize01(r) * 255.0)


def kernel_caption(name: str, k: np.ndarray) -> str:
    rows = ["[" + ",  ".join(f"{v:g}" if float(v).is_integer() else f"{v:.3g}" for v in row) + "]" for row in k]
    return "\n".join([name] + rows)


@dataclass
class EdgeResult(Shown):
    """Responses of V and H (per channel when ``per_channel``: (H, W, C)), magnitude and angle."""

    kernel: str
    v_kernel: np.ndarray
    h_kernel: np.ndarray | None
    vertical: np.ndarray
    horizontal: np.ndarray | None
    magnitude: np.ndarray
    angle: np.ndarray | None
    dtype: str = "float64"  # what the convolution ran in (float32 where the backend has no float64)
    image: np.ndarray | None = None  # the input (uint8), drawn first
    source: str = ""  # where the input came from (path or description)
    per_channel: bool = False
    border: str = "reflect101"
    input_stem: str = "image"
    kernel_stem: str = ""

    command: ClassVar[str] = "edges"

    @staticmethod
    def name_for(input_stem: str, kernel_stem: str, per_channel: bool) -> str:
        return file_stem("edges", input_stem, kernel_stem, "rgb" if per_channel else "")

    @property
    def stem(self) -> str:
        return self.name_for(self.input_stem, self.kernel_stem or self.kernel, self.per_channel)

    def figure(self) -> np.ndarray:
        return self.render(self.image, self.source)

    def record(self) -> dict:
        return {"input": self.source, "per_channel": self.per_channel, "border": self.border, "kernel": self.kernel, "dtype": self.dtype, "v_kernel": self.v_kernel.tolist(),
                "h_kernel": None if self.h_kernel is None else self.h_kernel.tolist(),
                "pair": self.h_kernel is not None,
                "display": "clipped to 0-255" if sums_to_one(self.v_kernel) else f"grey = 0, white = +{PERCENTILE}th percentile of |response|"}

    def render(self, image: np.ndarray, source: str = "") -> np.ndarray:
        if self.h_kernel is None:  # one kernel, one honest panel
            one = sums_to_one(self.v_kernel)
            panel = hstack_panels([image, show_response(self.vertical, self.v_kernel)],
                                  ["input", kernel_caption(f"{self.kernel} response", self.v_kernel)])
            if one:
                bar = colorbar(panel.shape[0], 0, 255, None, "pixel value (clipped)")
            else:
                s = signed_scale(self.vertical)
                bar = colorbar(panel.shape[0], -s, s, None, "response (grey = 0)")
            return titled(beside(panel, bar), f"{self.kernel} kernel on {source or 'the image'}",
                          f"the kernel correlated with the image by a Keras Conv2D ({self.border} border)")
        s = max(signed_scale(self.vertical), signed_scale(self.horizontal))
        mag = self.magnitude if self.magnitude.ndim == 2 else self.magnitude.max(axis=-1)
        top = float(np.percentile(mag, PERCENTILE)) + 1e-8

        def signed(a):
            return to_uint8((0.5 + 0.5 * np.clip(a / s, -1.0, 1.0)) * 255.0)

        panel = hstack_panels(
            [image, signed(self.vertical), signed(self.horizontal), to_uint8(normalize01(mag, 0.0, top) * 255.0),
             orientation_rgb(self.angle, self.magnitude)],
            ["input", f"{self.kernel} V\n(vertical edges)", f"{self.kernel} H\n(horizontal edges)",
             "gradient magnitude\n(white = 99.5th pct)", "orientation\n(hue = direction)"])
        bar = colorbar(panel.shape[0], -s, s, None, "V, H response (grey = 0)")
        return titled(beside(panel, bar), f"{self.kernel} edges (V and H) on {source or 'the image'}",
                      f"V and H run by one Keras Conv2D; V/H: grey = 0, white/black = +/- {s:.0f} "
                      f"(99.5th percentile of |response|); magnitude sqrt(V^2 + H^2)")


@dataclass
class GalleryResult(Shown):
    """Every classic kernel applied to the grey image."""

    image: np.ndarray
    responses: dict[str, np.ndarray]
    kernels: dict[str, np.ndarray]
    border: str = "reflect101"
    source: str = ""
    input_stem: str = "image"

    command: ClassVar[str] = "edges"

    @property
    def stem(self) -> str:
        return file_stem("gallery", self.input_stem)

    def figure(self) -> np.ndarray:
        return self.render()

    def record(self) -> dict:
        return {"mode": "gallery", "input": self.source, "border": self.border,
                "kernels": {k: v.tolist() for k, v in self.kernels.items()},
                "display": {k: ("clipped to 0-255" if sums_to_one(v) else f"grey = 0, +/- {PERCENTILE}th pct of |response|")
                            for k, v in self.kernels.items()}}

    def render(self) -> np.ndarray:
        img = np.asarray(self.image)
        grey = to_uint8(luma(img) if img.ndim == 3 and img.shape[-1] == 3 else img.reshape(img.shape[:2]))
        tiles, captions = [grey], ["input (grey)"]
        for name, resp in self.responses.items():
            tiles.append(show_response(resp, self.kernels[name]))
            captions.append(kernel_caption(name, self.kernels[name]))
        grid = make_grid(tiles, captions, cols=4, min_tile=0)
        return titled(grid, f"classic 3x3 kernels on {self.source or 'the image'}",
                      "kernels summing to 1 (blur, sharpen, emboss): the filtered image, clipped to 0-255; "
                      "summing to 0 (edges, laplacian, outline): grey = 0, white/black = +/- the 99.5th percentile of |response|")
