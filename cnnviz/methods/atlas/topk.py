"""The dataset pass: one forward pass per batch for all chosen layers together; per filter, the top-k images
(by the filter's strongest unit in the image), running statistics and an exact streaming histogram.

Memory is O(filters x k) whatever the data set's size: the top-k are merged batch by batch (a running
partial sort, equivalent to a heap per filter) and the histogram re-bins by merging neighbouring bins when a
value falls outside its range, so no per-image value is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

HIST_BINS = 32
#: Data sets of more than this many batches run through the compiled predict step.
COMPILE_FROM = 4


@dataclass
class StreamHistogram:
    """Histogram of a stream in at most ``bins`` bins of width ``2 ** exp`` aligned at multiples of the width.
    When the data outgrow the bins the width doubles and neighbouring bins merge; with power-of-two widths
    ``floor(floor(v / w) / 2) == floor(v / 2w)`` exactly, so the counts equal a histogram of all the values
    on the final edges (no value is kept)."""

    bins: int = HIST_BINS
    exp: int | None = None
    first: int = 0  # bin index (value // width) of counts[0]
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, "int64"))

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, "float64").ravel()
        values = values[np.isfinite(values)]
        if values.size == 0:
            return
        vmin, vmax = float(values.min()), float(values.max())
        if self.exp is None:  # a constant first batch (a dead filter) gets a width of a millionth of its scale
            span = max(vmax - vmin, 1e-6 * max(1.0, abs(vmin), abs(vmax)))
            self.exp = int(np.ceil(np.log2(span / self.bins)))
        if self.counts.size:
            vmin, vmax = min(vmin, float(self.edges[0])), max(vmax, float(self.edges[-1]))
        fits = int(np.ceil(np.log2(max(vmax - vmin, 1e-300) / self.bins))) - 1  # no narrower width can hold the range
        if fits > self.exp:
            self._coarsen(fits - self.exp)  # in one step (bin indices of far values would overflow int64)
        while True:
            k = np.floor(np.ldexp(values, -self.exp)).astype("int64")
            lo, hi = int(k.min()), int(k.max())
            if self.counts.size:
                lo, hi = min(lo, self.first), max(hi, self.first + self.counts.size - 1)
            if hi - lo + 1 <= self.bins:
                break
            self._coarsen()
        grown = np.zeros(hi - lo + 1, "int64")
        if self.counts.size:
            grown[self.first - lo : self.first - lo + self.counts.size] = self.counts
        self.first, self.counts = lo, grown + np.bincount(k - lo, minlength=hi - lo + 1)

    def _coarsen(self, doublings: int = 1) -> None:
        self.exp += doublings
        if self.counts.size:
            # arithmetic shift = floor division by 2**doublings, also below 0
            idx = np.right_shift(self.first + np.arange(self.counts.size, dtype="int64"), min(doublings, 63))
            self.counts = np.bincount(idx - idx[0], weights=self.counts).astype("int64")
            self.first = int(idx[0])

    @property
    def edges(self) -> np.ndarray:
        return np.ldexp(self.first + np.arange(self.counts.size + 1, dtype="float64"), self.exp or 0)


@dataclass
class LayerScan:
    """Running results for one layer with ``filters`` channels and output grid ``grid`` (h, w)."""

    filters: int
    k: int
    grid: tuple[int, int]
    values: np.ndarray = None  # (F, k) best per-image maxima, descending
    images: np.ndarray = None  # (F, k) their image indices (-1: none yet)
    positions: np.ndarray = None  # (F, k) flat position of the maximum in the grid
    total: np.ndarray = None  # (F,) sum over images of the spatial mean
    peak: np.ndarray = None  # (F,) maximum over everything
    active: np.ndarray = None  # (F,) images where the filter's maximum > 0
    seen: int = 0
    hists: list[StreamHistogram] = None

    def __post_init__(self) -> None:
        f, k = self.filters, self.k
        self.values = np.full((f, k), -np.inf)
        self.images = np.full((f, k), -1, "int64")
        self.positions = np.zeros((f, k), "int64")
        self.total = np.zeros(f)
        self.peak = np.full(f, -np.inf)
        self.active = np.zeros(f, "int64")
        self.hists = [StreamHistogram() for _ in range(f)]

    def update(self, maps: np.ndarray, first: int) -> None:
        """Fold in activation maps (B, H, W, F) of images ``first .. first + B - 1``."""
        b = maps.shape[0]
        flat = np.asarray(maps, "float64").reshape(b, -1, self.filters)
        arg = flat.argmax(1)  # (B, F) first position of the maximum
        best = np.take_along_axis(flat, arg[:, None, :], 1)[:, 0, :]  # (B, F)
        self.total += flat.mean(1).sum(0)
        self.peak = np.maximum(self.peak, best.max(0))
        self.active += (best > 0).sum(0)
        self.seen += b
        for f in range(self.filters):
            self.hists[f].add(best[:, f])
        values = np.concatenate([self.values, best.T], 1)  # (F, k + B)
        images = np.concatenate([self.images, np.broadcast_to(np.arange(first, first + b), (self.filters, b))], 1)
        positions = np.concatenate([self.positions, arg.T], 1)
        # highest value first; ties go to the earlier image (so the result does not depend on batching)
        order = np.lexsort((np.where(images < 0, np.iinfo("int64").max, images), -values), axis=-1)[:, : self.k]
        self.values = np.take_along_axis(values, order, 1)
        self.images = np.take_along_axis(images, order, 1)
        self.positions = np.take_along_axis(positions, order, 1)

    def top(self, f: int) -> list[tuple[int, float, tuple[int, int]]]:
        """``[(image index, value, (i, j) unit position)]`` of filter ``f``, best first."""
        out = []
        for v, i, p in zip(self.values[f], self.images[f], self.positions[f]):
            if i >= 0:
                out.append((int(i), float(v), (int(p // self.grid[1]), int(p % self.grid[1]))))
        return out


def scan_layers(model, preprocess: str, names: list[str], source, k: int, batch_size: int = 32,
                progress: Callable[[int, int], None] | None = None) -> dict[str, LayerScan]:
    """Run ``source`` through ``model`` (a feature model returning each layer of ``names`` in order) once,
    batch by batch, and keep per filter the top ``k`` images."""
    from ...backends.runtime import keras
    from ...inputs.preprocessing import to_model_input

    scans: dict[str, LayerScan] = {}
    # the compiled predict step (tf.function / jax.jit) is ~3x faster per batch than an eager call, but
    # compiling costs a few eager batches: worth it from a handful of batches on
    forward = model.predict_on_batch if source.count > COMPILE_FROM * batch_size else (lambda x: model(x, training=False))
    for first, batch in source.batches(batch_size):
        outs = forward(to_model_input(batch.astype("float32"), preprocess))
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for name, out in zip(names, outs):
            out = keras.ops.convert_to_numpy(out)  # any backend (a torch tensor may carry a graph)
            if name not in scans:
                scans[name] = LayerScan(out.shape[-1], k, (out.shape[1], out.shape[2]))
            scans[name].update(out, first)
        if progress:
            progress(first + len(batch), source.count)
    return scans
